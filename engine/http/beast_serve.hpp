// A paychan Handler (the gate: engine/gate/gate_handler.hpp) inside a provider's own Boost.Beast
// server. The provider's server reads each request into a BeastRequest as it always does, calls
// serve_whole() from a coroutine running on the connection's executor, and writes the
// BeastResponse it filled. examples/embedded_gate.cpp is such a server.
//
// The handler's rules hold as in HttpServer: handlers run on the I/O thread and must not block it
// (work that takes long is posted elsewhere and awaited); the server's own limits (head and body
// size, timeouts) are the provider's to set on its reads and writes.
// Includes Beast: for sources that compile it anyway.
// Thread-safety: serve_whole() runs on the connection's I/O thread, concurrently for many
// connections (the Handler allows it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/http/beast.hpp"
#include "engine/http/connection_locals.hpp"
#include "engine/http/handler.hpp"

namespace paychan::engine::http {

// Who sent the request: the gate's logs name it.
struct Peer {
  std::string_view address;  // e.g. "127.0.0.1"
  std::uint16_t port = 0;
};

// Answers `request` through `handler` into `response`, given whole: a handler that streams
// (Exchange::begin_stream and the rest) has its pieces gathered into the body, and what runs as its
// head goes out runs then (the gate charges a stream at its head); to pass pieces on as they come,
// serve through HttpServer instead. The response is framed for `request` (Content-Length; for HEAD
// without the body; none for 204 and 304) and kept alive as the request asks. A handler that throws
// is answered 500. Kept alive unless the request or the handler (Connection: close) says otherwise:
// response.keep_alive() tells. `locals`: the connection's, one per connection, kept across its
// requests. A stream gathers at most `max_stream_bytes` (its next write fails beyond them).
// False: a stream the handler began never ended (its upstream broke off, it grew too large, or its
// pieces fell short of or beyond the Content-Length it announced). Close the connection without
// sending `response`: whole, it would pass for the complete answer (the charge taken at its head
// stands, as it does for a stream HttpServer breaks off).
// `request` is handed to the handler and back: unchanged when this returns (an exception leaves
// it moved from; only running out of memory throws).
[[nodiscard]] Awaitable<bool> serve_whole(Handler& handler, BeastRequest& request, BeastResponse& response, Peer peer,
                                          ConnectionLocals& locals, std::size_t max_stream_bytes = 64 << 20);

}  // namespace paychan::engine::http
