// HttpClient: HTTP/1.1 over TCP, or TLS for https URLs (the peer's certificate checked against the
// system's authorities and the host's name), for the facilitator calls, the agent and the reverse
// proxy, with a small keep-alive pool per scheme, host and port and a timeout on every step.
//
// Two ways to read a response: request() buffers the whole body (up to max_body_bytes), or hands
// it to a BodySink piece by piece if the caller asks for that once it has seen the head; open()
// returns a ClientStream whose body is read piece by piece as it arrives (SSE, chunked streams,
// large downloads). Streamed bodies have no size limit, only a limit on silence.
//
// Idle connections are pooled per io_context (shared by the clients used on it, closed when it
// shuts down) and reused only on that context, while younger than idle_expiry and still open. When a reused connection turns out to have been
// closed by the server before answering, an idempotent request (GET, HEAD, OPTIONS, PUT, DELETE)
// is sent again once on a new connection; other requests report the error, since the server
// may have acted on them.
//
// Thread-safety: request()/open() may be called concurrently from coroutines on any executors;
// a context's pool is shared under a mutex held for a few pointer moves.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "channel/result.hpp"
#include "engine/http/asio.hpp"
#include "engine/http/message.hpp"

namespace paychan::engine::http {

namespace detail {
struct ClientStreamState;
}  // namespace detail

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // From sending the request to having the whole response head.
  std::chrono::milliseconds response_timeout{30'000};
  // The longest silence while reading a body.
  std::chrono::milliseconds read_timeout{30'000};
  // request() only: the whole body, from the end of its head (checked as each piece arrives, so a
  // trickle is cut off within body_timeout + read_timeout). ClientStreams are not limited.
  std::chrono::milliseconds body_timeout{120'000};
  std::size_t max_header_bytes = 16 * 1024;
  // request() only: a larger body is refused. ClientStreams are not limited.
  std::uint64_t max_body_bytes = 8 * 1024 * 1024;
  std::size_t max_idle_per_host = 8;
  // Servers close idle connections after a while (ServerLimits::idle_timeout); do not reuse older ones.
  std::chrono::milliseconds idle_expiry{15'000};
};

// A request to send, built with a named constructor and chained setters:
//   co_await client.request(ClientRequest::post(url, json).header("X-Request-Id", id));
// Not an aggregate on purpose: g++ 12 miscompiles aggregate temporaries inside a co_await
// expression (see engine/http/asio.hpp); a class with constructors is safe there.
class ClientRequest {
 public:
  // `url`: http[s]://host[:port]/path?query.
  ClientRequest(std::string method, std::string url) : method_(std::move(method)), url_(std::move(url)) {}
  [[nodiscard]] static ClientRequest get(std::string url) { return {"GET", std::move(url)}; }
  [[nodiscard]] static ClientRequest post(std::string url, std::string body,
                                         std::string_view content_type = "application/json") {
    return ClientRequest{"POST", std::move(url)}.header("Content-Type", content_type).body(std::move(body));
  }

  // Adds a field. Host, Content-Length and Transfer-Encoding are the client's and are ignored.
  ClientRequest& header(std::string_view name, std::string_view value) & {
    headers_.push_back({std::string(name), std::string(value)});
    return *this;
  }
  ClientRequest&& header(std::string_view name, std::string_view value) && { return std::move(header(name, value)); }
  ClientRequest& body(std::string body) & {
    body_ = std::move(body);
    return *this;
  }
  ClientRequest&& body(std::string body) && { return std::move(this->body(std::move(body))); }
  // How long this request waits for a server known to take long: for the head, for each silence
  // within the body, and at least for a buffered body in all (ClientOptions' response_timeout,
  // read_timeout and body_timeout).
  ClientRequest& wait(std::chrono::milliseconds t) & {
    wait_ = t;
    return *this;
  }

  [[nodiscard]] const std::string& method() const noexcept { return method_; }
  [[nodiscard]] const std::string& url() const noexcept { return url_; }
  [[nodiscard]] const std::vector<Header>& headers() const noexcept { return headers_; }
  [[nodiscard]] const std::string& body() const noexcept { return body_; }

 private:
  friend class HttpClient;
  std::string method_;
  std::string url_;
  std::vector<Header> headers_;
  std::string body_;
  std::optional<std::chrono::milliseconds> wait_;
};

struct ClientResponse {
  int status = 0;
  std::vector<Header> headers;
  std::string body;
  // A body streamed to a BodySink that broke off after the head (http_timeout, http_bad_response):
  // the head is still the server's answer; the sink got only the body's start.
  std::optional<Error> cut;

  // The first field named `name` (case-insensitive), or nullopt.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
};

// Takes a response's body piece by piece as it arrives; false: take no more (the connection is
// closed, and the response is returned as if its body had ended there).
using BodySink = std::function<bool(std::string_view piece)>;
// Asked once a response's head is in (its body still empty): a BodySink to stream the body to, or
// none to buffer it.
using SinkFor = std::function<BodySink(const ClientResponse& head)>;

// A response whose head has arrived and whose body is read as it comes. Destroying it before the
// end of the body closes the connection (an upstream sees the client leave). Use it on the
// context it was opened on.
class ClientStream {
 public:
  explicit ClientStream(std::unique_ptr<detail::ClientStreamState> state) noexcept;
  ClientStream(ClientStream&&) noexcept;
  ClientStream& operator=(ClientStream&&) noexcept;
  ~ClientStream();

  [[nodiscard]] int status() const noexcept;
  [[nodiscard]] const std::vector<Header>& headers() const noexcept;
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
  // The length the server announced, if it did (it is then enforced).
  [[nodiscard]] std::optional<std::uint64_t> content_length() const noexcept;
  // The next piece of the body as soon as it arrives; an empty view once the body is complete.
  // The view is valid until the next call. Errors: http_timeout (silent for read_timeout),
  // http_bad_response (malformed, or the connection ended before the body did).
  [[nodiscard]] Awaitable<Result<std::string_view>> read_some();
  [[nodiscard]] bool done() const noexcept;

 private:
  std::unique_ptr<detail::ClientStreamState> state_;
};

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options = {});

  // Sends `request` and reads the whole response: into its body, or, where `sink_for` names a sink
  // for it, into that (the body then stays empty; max_body_bytes and body_timeout do not apply; a
  // body that breaks off is ClientResponse::cut, not an error). A sink must not throw.
  // Errors: http_invalid_request (URL, method or a header), http_connect_failed (also a TLS peer
  // that fails verification), http_timeout, http_bad_response, http_response_too_large.
  [[nodiscard]] Awaitable<Result<ClientResponse>> request(ClientRequest request, SinkFor sink_for = {});
  // Sends `request` and returns once the response head has arrived. Errors: as request().
  [[nodiscard]] Awaitable<Result<ClientStream>> open(ClientRequest request);
  // Connects to `url`'s server (TCP, and TLS for https) and closes again, sending no request:
  // whether it is there at all. Errors: http_invalid_request (the URL), http_connect_failed, http_timeout.
  [[nodiscard]] Awaitable<Status> connect_only(std::string url);

  [[nodiscard]] const ClientOptions& options() const noexcept { return options_; }

 private:
  ClientOptions options_;
};

// The client for code that is not a coroutine (CLIs, tools): each call runs a private io_context
// until the response is read. Connections are pooled between calls.
// Thread-safety: one call at a time.
class BlockingHttpClient {
 public:
  explicit BlockingHttpClient(ClientOptions options = {});
  BlockingHttpClient(const BlockingHttpClient&) = delete;
  BlockingHttpClient& operator=(const BlockingHttpClient&) = delete;
  ~BlockingHttpClient();

  // As HttpClient::request.
  [[nodiscard]] Result<ClientResponse> request(ClientRequest request, SinkFor sink_for = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace paychan::engine::http
