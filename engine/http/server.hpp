// HttpServer: an HTTP/1.1 server for the gate, the facilitator and tests.
//
// N worker threads (default: one per core), each with its own io_context and its own SO_REUSEPORT
// listening socket on the same port: the kernel spreads connections over the workers, and a
// connection lives on one thread from accept to close. Every request goes to one Handler
// (engine/http/handler.hpp); every limit and timeout comes from ServerLimits.
//
// Protocol errors are answered and the connection closed: header too large 431, body too large
// 413, malformed 400. A client too slow to send its request (request_timeout), idle too long
// between requests (idle_timeout) or not reading its answer (write_timeout) is disconnected.
//
// Thread-safety: start/stop are called from one controlling thread, never from a worker (a handler).
// The Handler must outlive the server.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "channel/result.hpp"
#include "engine/http/handler.hpp"
#include "engine/http/server_options.hpp"

namespace paychan::engine::http {

class HttpServer {
 public:
  HttpServer(Handler& handler, ServerOptions options = {});
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // stop() with no grace: open connections are closed.
  ~HttpServer();

  // Binds and starts the workers. Error: http_listen_failed (bad address, port in use, started twice).
  [[nodiscard]] Status start();
  // The port bound (the chosen one when options.port was 0). 0 before start().
  [[nodiscard]] std::uint16_t port() const noexcept;
  // Graceful stop: stop accepting, close idle connections, let requests in progress be answered
  // (with Connection: close) and streams finish; after `grace`, close whatever is left and abandon
  // handlers still waiting on I/O. Returns when every worker thread has exited, with how many
  // connections were still open when the grace ran out (closed then: a request in progress among
  // them went unanswered; others were only closing). Idempotent (0 after the first).
  std::size_t stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Ends a stop()'s grace now (an operator's second Ctrl-C), from any thread.
  void end_grace();
  // Connections open now, over all workers.
  [[nodiscard]] std::size_t open_connections() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paychan::engine::http
