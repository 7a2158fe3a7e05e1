#include "engine/http/detail/connection_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace paychan::engine::http::detail {
namespace {

// A kept-alive connection the server has closed meanwhile reads as end-of-file; one with bytes
// waiting is out of step. Either is unusable. A non-blocking peek tells without consuming.
bool still_open(ClientConnection& c) noexcept {
  // Over TLS, bytes already decrypted but unread are out of step too. (Bytes the TLS layer read
  // off the socket but has not yet decrypted are not seen: an https server that writes past its
  // response is not caught here.)
  if (c.tls && SSL_pending(c.tls->native_handle()) > 0) return false;
  char byte;
  ssize_t n = ::recv(c.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

ConnectionPool& ConnectionPool::of(const asio::any_io_executor& executor) {
  return asio::use_service<ConnectionPool>(asio::query(executor, asio::execution::context));
}

std::unique_ptr<ClientConnection> ConnectionPool::take(const PoolKey& key, std::chrono::milliseconds expiry) {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<ClientConnection>> expired;  // closed after the lock is released
  std::unique_ptr<ClientConnection> found;
  {
    std::lock_guard lock(mutex_);
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& list = it->second;
    while (!list.empty() && !found) {
      auto c = std::move(list.back());
      list.pop_back();
      if (now - c->idle_since < expiry) {
        found = std::move(c);
      } else {
        expired.push_back(std::move(c));
      }
    }
    if (list.empty()) idle_.erase(it);
  }
  if (found && !still_open(*found)) found.reset();
  return found;
}

void ConnectionPool::give_back(const PoolKey& key, std::unique_ptr<ClientConnection> connection,
                               std::size_t max_idle) {
  connection->stream.expires_never();
  connection->idle_since = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  auto& list = idle_[key];
  if (list.size() < max_idle) list.push_back(std::move(connection));
  // else `connection` closes when this function returns, after the lock is released
}

std::size_t ConnectionPool::idle() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

void ConnectionPool::shutdown() {
  decltype(idle_) closing;
  {
    std::lock_guard lock(mutex_);
    closing.swap(idle_);
  }
}

}  // namespace paychan::engine::http::detail
