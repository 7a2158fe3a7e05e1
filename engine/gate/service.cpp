#include "engine/gate/service.hpp"

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
  co_await f_(ex);
  co_return std::optional<http::ClientStream>{};
}

void report_charge(http::Response& response, Uint128 actual) {
  response.set_header(kSettlementOverridesHeader, "{\"amount\":\"" + to_decimal(actual) + "\"}");
}

}  // namespace paychan::engine::gate
