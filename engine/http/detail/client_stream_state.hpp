// What a ClientStream owns: its connection (on loan from the pool), the response parser and the
// buffer body pieces are read into. Private to engine/http.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "engine/http/beast.hpp"
#include "engine/http/client.hpp"
#include "engine/http/detail/connection_pool.hpp"

namespace paychan::engine::http::detail {

struct ClientStreamState {
  ClientStreamState(ConnectionPool& p, PoolKey k, std::unique_ptr<ClientConnection> c, std::size_t idle) noexcept
      : pool(p), key(std::move(k)), connection(std::move(c)), max_idle(idle) {}
  // Returns the connection to the pool when the body was read to its end and the server keeps it
  // (not after a HEAD).
  ~ClientStreamState();

  // A fresh parser for the next response head on this connection, whose buffer it bounds.
  void new_parser(const ClientOptions& options, bool head_request);
  // What the connection's buffer holds beyond ClientOptions::max_header_bytes: one read of Beast's.
  static constexpr std::size_t kReadAhead = 64 * 1024;

  ConnectionPool& pool;
  PoolKey key;
  std::unique_ptr<ClientConnection> connection;
  std::size_t max_idle;  // ClientOptions::max_idle_per_host
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;  // one per response head read
  bool head_request = false;  // the connection then goes back to no pool
  std::chrono::milliseconds read_timeout{};
  int status = 0;
  std::vector<Header> headers;
  std::array<char, 16 * 1024> piece;  // a body piece as read off the socket
};

}  // namespace paychan::engine::http::detail
