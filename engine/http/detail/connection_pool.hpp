// The client's idle keep-alive connections, by (io_context, host, port). A connection is only
// handed back to the io_context that opened it, so its socket is never used from two threads.
// Connections older than idle_expiry, or found closed by the server, are discarded on take().
// Thread-safety: all members may be called concurrently (one mutex, held for pointer moves only;
// sockets are checked and closed outside it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "engine/http/beast.hpp"

namespace paychan::engine::http::detail {

struct ClientConnection {
  explicit ClientConnection(const asio::any_io_executor& executor) : stream(executor) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;
};

using PoolKey = std::tuple<const void*, std::string, std::uint16_t>;  // io_context, host, port

class ConnectionPool {
 public:
  ConnectionPool(std::size_t max_idle_per_key, std::chrono::milliseconds idle_expiry) noexcept
      : max_idle_per_key_(max_idle_per_key), idle_expiry_(idle_expiry) {}

  // The most recently returned live connection for `key`, or nullptr.
  [[nodiscard]] std::unique_ptr<ClientConnection> take(const PoolKey& key);
  // Keeps `connection` for reuse (or closes it when `key` already has max_idle_per_key).
  void give_back(const PoolKey& key, std::unique_ptr<ClientConnection> connection);
  [[nodiscard]] std::size_t idle() const;

 private:
  const std::size_t max_idle_per_key_;
  const std::chrono::milliseconds idle_expiry_;
  mutable std::mutex mutex_;
  std::map<PoolKey, std::vector<std::unique_ptr<ClientConnection>>> idle_;
};

}  // namespace paychan::engine::http::detail
