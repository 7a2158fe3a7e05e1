// ReverseProxy: forwards a server request to an upstream and streams the answer back, for the gate
// in front of a provider's API.
//
// The request goes upstream without its hop-by-hop fields (engine/http/hop_by_hop.hpp) and without
// the fields the caller lists, with X-Forwarded-For / -Host / -Proto added and Host set to the
// upstream. The response comes back in two steps so that the caller can act between them:
//   open()  sends the request and copies the upstream's status and end-to-end header fields into
//           ex.response() — the caller may now read, strip or add fields (the gate reads and strips
//           Settlement-Overrides, adds its payment response) and await anything (a store write);
//   relay() sends that head and streams the upstream body through piece by piece as it arrives
//           (chunked, SSE, large bodies), never holding it whole.
// forward() does both, answering 502 (upstream unreachable or broken) or 504 (timeout) itself.
// The request body is forwarded as received (the server has read it whole, within its limits).
//
// Thread-safety: open/relay/forward may run concurrently on any workers; the HttpClient must
// outlive the proxy.
#pragma once

#include <string>
#include <vector>

#include "channel/result.hpp"
#include "engine/http/client.hpp"
#include "engine/http/handler.hpp"
#include "engine/http/url.hpp"

namespace paychan::engine::http {

struct ProxyOptions {
  // Base URL: http://host[:port][/prefix]; a request for /a?b goes to /prefix/a?b.
  std::string upstream;
  // Fields never forwarded upstream (e.g. the payment header the gate consumes).
  std::vector<std::string> strip_request_headers;
  // How clients reach the proxy, for X-Forwarded-Proto: "https" behind a TLS terminator, so that
  // an upstream enforcing https does not answer every request with a redirect.
  std::string scheme = "http";
};

class ReverseProxy {
 public:
  // Error: http_invalid_request (the upstream URL).
  [[nodiscard]] static Result<ReverseProxy> create(HttpClient& client, ProxyOptions options);

  // Sends ex.request() upstream; on success ex.response() holds the upstream's head. Errors: those
  // of HttpClient::open, and http_invalid_request for a target that is not origin-form ("/…").
  [[nodiscard]] Awaitable<Result<ClientStream>> open(Exchange& ex) const;
  // Sends ex.response() as the head, then the upstream body as it arrives. On an error the stream
  // is left unended, so the server closes the client connection (a visibly truncated body).
  // Errors: those of ClientStream::read_some (upstream) and of Exchange::write (client).
  [[nodiscard]] static Awaitable<Status> relay(ClientStream& upstream, Exchange& ex);
  // open() then relay(); an open() failure is answered with gateway_status().
  [[nodiscard]] Awaitable<void> forward(Exchange& ex) const;

 private:
  ReverseProxy(HttpClient& client, Url base, ProxyOptions options) noexcept
      : client_(&client), base_(std::move(base)), options_(std::move(options)) {}

  HttpClient* client_;
  Url base_;  // target: the prefix, without a trailing '/'
  ProxyOptions options_;
};

// What a gateway answers when its upstream failed: 504 for http_timeout, 400 for a request that
// cannot be forwarded (http_invalid_request), 502 otherwise.
[[nodiscard]] int gateway_status(const Error& error) noexcept;

}  // namespace paychan::engine::http
