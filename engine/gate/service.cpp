#include "engine/gate/service.hpp"

#include <exception>
#include <string>

namespace paychan::engine::gate {

Result<http::ReverseProxy> gate_proxy(http::HttpClient& client, std::string upstream, std::string scheme) {
  return http::ReverseProxy::create(
      client, {std::move(upstream), {"PAYMENT-SIGNATURE", std::string(kSettlementOverridesHeader)}, std::move(scheme)});
}

http::Awaitable<Result<std::optional<http::ClientStream>>> ProxyService::serve(http::Exchange& ex) {
  auto stream = co_await proxy_.open(ex);
  if (!stream) co_return stream.failure();
  co_return std::optional<http::ClientStream>{std::move(*stream)};
}

http::Awaitable<Result<std::optional<http::ClientStream>>> FunctionService::serve(http::Exchange& ex) {
  // A provider's exception is a failed upstream: charged nothing, answered 502, and its text in
  // the gate's log line (escaping, it would only be a 500 that nothing records).
  std::string thrown;
  try {
    co_await f_(ex);
    co_return std::optional<http::ClientStream>{};
  } catch (const std::exception& e) {
    thrown = e.what();
  } catch (...) {
    thrown = "an exception that is no std::exception";
  }
  co_return fail(ErrorCode::http_bad_response, "the handler threw: " + thrown);
}

void report_charge(http::Response& response, Uint128 actual) {
  response.set_header(kSettlementOverridesHeader, "{\"amount\":\"" + to_decimal(actual) + "\"}");
}

}  // namespace paychan::engine::gate
