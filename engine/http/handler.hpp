// What a server calls for each request: a Handler, given an Exchange (the request, the response it
// fills, and a way to stream the response instead).
//
// Three ways to answer, from cheapest to most general:
//  - fill ex.response() and return std::nullopt: a plain function call, no coroutine, no allocation
//    beyond the message's own (signature checks, 402 answers, static routes);
//  - return a coroutine (Awaitable<void>) that awaits other I/O (facilitator, upstream) and fills
//    ex.response() before it finishes;
//  - inside such a coroutine, call ex.begin_stream() to send the status and headers at once, then
//    ex.write() body pieces as they become available and ex.end_stream() (chunked / SSE pass-through).
// Pipelined requests on one connection are handled one at a time, in order.
//
// Thread-safety: a Handler is shared by every connection on every worker thread, so handle() is
// called concurrently and must be safe for that. An Exchange belongs to one connection and its
// I/O thread. Handlers run on I/O threads and must never block them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>

#include "channel/result.hpp"
#include "engine/http/asio.hpp"
#include "engine/http/connection_locals.hpp"
#include "engine/http/message.hpp"

namespace paychan::engine::http {

namespace detail {
class Conduit;
class Session;
class ProvidersConnection;
}  // namespace detail

class Exchange {
 public:
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  [[nodiscard]] const Request& request() const noexcept { return request_; }
  [[nodiscard]] Response& response() noexcept { return response_; }
  [[nodiscard]] std::string_view peer_address() const noexcept;  // the client's IP, e.g. "127.0.0.1"
  [[nodiscard]] std::uint16_t peer_port() const noexcept;
  // The connection's own values, kept across its requests (connection_locals.hpp).
  [[nodiscard]] ConnectionLocals& connection_locals() noexcept;

  // Sends response()'s status and headers now; the body follows through write(). The framing is
  // chosen here: response()'s Content-Length if it has one (write() then refuses more bytes than
  // that), otherwise chunked (HTTP/1.1) or close-delimited (HTTP/1.0). Responses without a body
  // (HEAD, 204, 304) send the head only and ignore writes.
  // Errors: http_peer_closed, http_timeout (the client stopped reading for write_timeout).
  [[nodiscard]] Awaitable<Status> begin_stream();
  // Sends one body piece at once (empty pieces are skipped). Errors: as begin_stream, and
  // http_bad_response for bytes beyond the announced Content-Length.
  [[nodiscard]] Awaitable<Status> write(std::string_view piece);
  // Completes the body. A stream the handler does not end (error, exception) makes the server close
  // the connection, which the client sees as a truncated body. Errors: as write, and
  // http_bad_response when fewer bytes than the announced Content-Length were written.
  [[nodiscard]] Awaitable<Status> end_stream();
  [[nodiscard]] bool streaming() const noexcept;
  // A stream begun and not ended (yet): once the handler has returned, the client got a truncated
  // body (the upstream's stream broke, the client left, the server's shutdown grace ran out).
  [[nodiscard]] bool stream_unfinished() const noexcept;

  // For a handler that runs another inside it (a gate in front of a provider's own handler): `hook`
  // runs once, when the inner handler calls begin_stream(), before the head is sent. It may change
  // response() (the gate settles the charge and attaches PAYMENT-RESPONSE, which must travel in the
  // head), or refuse: begin_stream() then returns its error and sends nothing, as does every later
  // call, and response() (the refusal the hook put there) is answered as a whole once the handler
  // returns, so an inner handler should leave response() alone after a failed begin_stream() (the
  // gate puts its refusal back over whatever it wrote). One hook at a time: setting one replaces
  // any other.
  using StreamHook = std::function<Awaitable<Status>(Response&)>;
  void before_stream(StreamHook hook) { before_stream_ = std::move(hook); }

 private:
  friend class detail::Session;
  friend class detail::ProvidersConnection;
  Exchange(detail::Conduit& conduit, Request request, Response response) noexcept
      : conduit_(conduit), request_(request), response_(response) {}

  detail::Conduit& conduit_;
  Request request_;
  Response response_;
  StreamHook before_stream_;
  bool stream_refused_ = false;  // the hook refused: every later begin_stream() fails too
};

// std::nullopt: ex.response() is the answer. A coroutine: await it, then answer (see above).
using Handled = std::optional<Awaitable<void>>;

class Handler {
 public:
  virtual ~Handler() = default;
  // Serves one request. An exception becomes a 500 (or, mid-stream, a closed connection).
  [[nodiscard]] virtual Handled handle(Exchange& ex) = 0;
  // Asked instead of sending `100 Continue` when a request's header expects one: a handler that can
  // answer from the header alone (a 402 for a request without payment) fills ex.response() and
  // returns true. The server sends that answer and closes the connection, discarding the body, so
  // the client does not upload a body only to be refused (RFC 9110 §10.1.1). ex.request().body()
  // is empty here. False (the default, and after an exception): 100 Continue, then handle() with
  // the whole request. Called on the I/O thread and cannot wait: decide from what is at hand.
  [[nodiscard]] virtual bool answer_before_body(Exchange& /*ex*/) { return false; }
  // Asked for the answer to a request whose body is above the server's limit (ServerLimits), from
  // its header alone (ex.request().body() is empty): a handler whose API answers errors in a shape
  // of its own puts one in ex.response() and returns true. The server sends it with status 413,
  // whatever the handler set, and closes the connection. False (the default, and after an
  // exception): the server's own text/plain 413. Called on the I/O thread and cannot wait.
  [[nodiscard]] virtual bool answer_too_large(Exchange& /*ex*/) { return false; }
};

// A Handler from a callable `Handled(Exchange&)`, e.g. a lambda; one virtual call per request.
template <typename F>
class FunctionHandler final : public Handler {
 public:
  explicit FunctionHandler(F f) : f_(std::move(f)) {}
  Handled handle(Exchange& ex) override { return f_(ex); }

 private:
  F f_;
};

}  // namespace paychan::engine::http
