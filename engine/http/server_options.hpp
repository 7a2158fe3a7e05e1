// What an HttpServer listens on and the limits it holds every connection to. All limits live here,
// none inside the session code, so an operator sees the whole policy in one struct.
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace paychan::engine::http {

struct ServerLimits {
  // Request line + header fields; beyond it the request is answered 431.
  std::size_t max_header_bytes = 16 * 1024;
  // Request body (after de-chunking); beyond it the request is answered 413, before reading it when
  // Content-Length already says so.
  std::uint64_t max_body_bytes = 1024 * 1024;
  // From a request's first byte to its last: a client trickling bytes (slowloris) is cut off here.
  std::chrono::milliseconds request_timeout{10'000};
  // How long a kept-alive connection may wait for the first byte of its next request.
  std::chrono::milliseconds idle_timeout{30'000};
  // Each write of response bytes; a client that stops reading is cut off here.
  std::chrono::milliseconds write_timeout{30'000};
  // After this many requests a connection is answered with Connection: close.
  std::uint32_t max_requests_per_connection = 10'000;
  // Open connections over all worker threads; connections beyond it are closed at once.
  std::size_t max_connections = 10'000;
  // Responses to pipelined requests already received are sent together, at most this many per
  // write; a connection reads nothing more until they are written, which bounds its memory.
  std::size_t pipeline_depth = 16;
  // After the last response of a connection closing with unread input, how long to keep reading
  // and discarding, so the client receives the response instead of a reset.
  std::chrono::milliseconds linger_timeout{1'000};
};

struct ServerOptions {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal
  std::uint16_t port = 0;              // 0: any free port, see HttpServer::port()
  unsigned threads = 0;                // worker threads; 0: one per core
  int backlog = 1024;                  // per worker's listening socket
  ServerLimits limits;
  // Told, on a worker thread, when connections are turned away before any request: accept()
  // failing (out of file descriptors or memory: the worker pauses 50 ms and tries again) or a
  // connection over max_connections (closed at once). At most LogThrottle's default lines
  // (50 per 10 s), the rest counted. None: nothing is told.
  std::function<void(const std::string&)> on_turned_away;
};

}  // namespace paychan::engine::http
