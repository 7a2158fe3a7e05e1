// Idle keep-alive connections of the HTTP client, kept per io_context as an Asio service of that
// context: a connection is only ever reused on the context that opened it (so its socket is never
// used from two threads), and the pool closes its connections when the context shuts down, so no
// client object has to outlive, or be destroyed before, the contexts it was used on.
// Connections older than the expiry, or found closed by the server, are discarded on take().
// Thread-safety: all members may be called concurrently (one mutex, held for pointer moves only;
// sockets are checked and closed outside it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/http/beast.hpp"

namespace paychan::engine::http::detail {

struct ClientConnection {
  explicit ClientConnection(const asio::any_io_executor& executor) : stream(executor) {}
  // Never moved: `tls` refers to `stream`.
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;
  beast::tcp_stream stream;  // the TCP layer: its socket, and every step's timeout
  std::optional<asio::ssl::stream<beast::tcp_stream&>> tls;  // over `stream`, for https
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;

  // `op(s)` on the stream requests and responses travel over: TLS when there is one.
  template <typename Op>
  auto over(Op&& op) {
    return tls ? op(*tls) : op(stream);
  }
};

using PoolKey = std::tuple<std::string, std::uint16_t, bool>;  // host, port, tls

class ConnectionPool : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;  // Asio's service identity
  explicit ConnectionPool(asio::execution_context& context) : asio::execution_context::service(context) {}

  // The pool of the context `executor` runs on.
  [[nodiscard]] static ConnectionPool& of(const asio::any_io_executor& executor);

  // The most recently returned live connection for `key` idle for less than `expiry`, or nullptr.
  [[nodiscard]] std::unique_ptr<ClientConnection> take(const PoolKey& key, std::chrono::milliseconds expiry);
  // Keeps `connection` for reuse, unless `key` already has `max_idle` (then it is closed).
  void give_back(const PoolKey& key, std::unique_ptr<ClientConnection> connection, std::size_t max_idle);
  [[nodiscard]] std::size_t idle() const;

 private:
  void shutdown() override;  // the context is going away: close everything now

  mutable std::mutex mutex_;
  std::map<PoolKey, std::vector<std::unique_ptr<ClientConnection>>> idle_;
};

}  // namespace paychan::engine::http::detail
