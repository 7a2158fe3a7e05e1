// A paychan Handler (the gate: engine/gate/gate_handler.hpp) inside a provider's own Boost.Beast
// server. The provider's server reads each request into a BeastRequest as it always does, then,
// from a coroutine running on the connection's executor, either calls serve_streaming(), which
// writes the answer onto the connection itself (a stream's pieces as they come: an SSE answer
// reaches the client token by token), or serve_whole(), which fills a BeastResponse for the
// provider to write (a stream gathered whole). examples/embedded_gate.cpp is such a server.
//
// The handler's rules hold as in HttpServer: handlers run on the I/O thread and must not block it
// (work that takes long is posted elsewhere and awaited); the server's own limits (head and body
// size, timeouts) are the provider's to set on its reads, and on its writes of serve_whole()'s
// answers (serve_streaming() times its own).
// Includes Beast: for sources that compile it anyway.
// Thread-safety: both run on the connection's I/O thread, concurrently for many connections (the
// Handler allows it).
#pragma once

#include <chrono>
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

// Answers `request` through `handler` onto `stream`, the connection it came on. A whole answer is
// written at once; a handler's stream (Exchange::begin_stream and the rest) goes out as it comes,
// framed as paychan's HttpServer frames it: by the Content-Length the head announced, else chunked,
// else (HTTP/1.0) by the close; a stream sets TCP_NODELAY on the socket, so that its pieces do not
// wait for the client's ACKs. Each write has `write_timeout` (the stream's timer). A handler that
// throws before its stream begins is answered 500.
// True: the connection may take another request: the answer went out whole, and neither the
// request nor the handler (Connection: close) ends it. The stream's timer is off then: set yours
// before your next read.
// False: the connection is done; close the socket. An answer that ends it (Connection: close, a
// stream whose end is the close) has been written whole, the sending side shut and what the client
// still sent read and discarded for up to a second, as HttpServer does, so that a reset does not
// take the answer's end from the client. Otherwise a write failed or timed out, or a stream broke
// off (the charge the gate took at its head stands). `request` and `locals` as for serve_whole().
[[nodiscard]] Awaitable<bool> serve_streaming(Handler& handler, BeastRequest& request, beast::tcp_stream& stream,
                                              Peer peer, ConnectionLocals& locals,
                                              std::chrono::milliseconds write_timeout = std::chrono::seconds(30));

// Answers `request` through `handler` into `response`, given whole: a handler that streams
// (Exchange::begin_stream and the rest) has its pieces gathered into the body, and what runs as its
// head goes out runs then (the gate charges a stream at its head); to pass pieces on as they come,
// use serve_streaming(). The response is framed for `request` (Content-Length; for HEAD
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
