// What a gate puts behind its priced routes: the provider's API. Two kinds:
//   ProxyService    — a reverse proxy to an upstream HTTP server (`paychan gate --upstream`);
//   FunctionService — a coroutine of the provider's own, for a gate embedded in a C++ server.
// Either reports a dynamic price the reference's way: a `Settlement-Overrides` response header
// ({"amount": "1234" | "50%" | "$0.004"}), which the gate reads and strips; without it the
// offered amount is charged. A response status ≥ 400 means the request failed: nothing is charged.
// Thread-safety: serve() is called concurrently from every I/O thread.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "channel/amount.hpp"
#include "channel/result.hpp"
#include "engine/http/client.hpp"
#include "engine/http/handler.hpp"
#include "engine/http/proxy.hpp"

namespace paychan::engine::gate {

inline constexpr std::string_view kSettlementOverridesHeader = "Settlement-Overrides";

// A reverse proxy to `upstream` for a gate: the request fields that are the gate's are not
// forwarded. PAYMENT-SIGNATURE is consumed here; a Settlement-Overrides a client sends could come
// back in the answer (an upstream or middleware that reflects request fields) and set its price.
[[nodiscard]] Result<http::ReverseProxy> gate_proxy(http::HttpClient& client, std::string upstream,
                                                    std::string scheme = "http");

class Service {
 public:
  virtual ~Service() = default;
  // Serves ex.request(): fills ex.response()'s status and headers, and either its body or a stream
  // whose body the gate relays after attaching PAYMENT-RESPONSE. Errors: the upstream's (the gate
  // answers 502/504 and charges nothing).
  [[nodiscard]] virtual http::Awaitable<Result<std::optional<http::ClientStream>>> serve(http::Exchange& ex) = 0;
};

class ProxyService final : public Service {
 public:
  explicit ProxyService(http::ReverseProxy proxy) : proxy_(std::move(proxy)) {}
  http::Awaitable<Result<std::optional<http::ClientStream>>> serve(http::Exchange& ex) override;

 private:
  http::ReverseProxy proxy_;
};

// Serves every request the gate passes on, priced or free: the function dispatches on method and
// path itself (a priced path's other methods reach it too, free). An exception it throws before
// any ex.begin_stream() is a failed upstream: 502, nothing charged, its what() in the gate's log;
// after it, the stream breaks off and the charge taken at its head stands. It runs on the I/O thread:
// long work is posted elsewhere and awaited. The gate does not time it out: while it runs, its
// channel's other requests get channel_busy, so it should end within the route's maxTimeoutSeconds.
class FunctionService final : public Service {
 public:
  using Function = std::function<http::Awaitable<void>(http::Exchange&)>;
  explicit FunctionService(Function f) : f_(std::move(f)) {}
  http::Awaitable<Result<std::optional<http::ClientStream>>> serve(http::Exchange& ex) override;

 private:
  Function f_;
};

// For embedded handlers: reports that this request cost `actual` atomic units (≤ the offer). A
// handler that streams must report before begin_stream(): the charge is settled as the head goes
// out (PAYMENT-RESPONSE travels in it), and a later report is ignored (noted in the access log).
void report_charge(http::Response& response, Uint128 actual);

}  // namespace paychan::engine::gate
