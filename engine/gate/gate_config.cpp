#include "engine/gate/gate_config.hpp"

#include <algorithm>
#include <string_view>

#include "channel/types.hpp"
#include "engine/config_file.hpp"
#include "engine/gate/route_key.hpp"
#include "engine/http/text.hpp"
#include "engine/key_source.hpp"
#include "protocol/json_reader.hpp"
#include "protocol/price.hpp"
#include "protocol/requirements.hpp"

namespace paychan::engine::gate {
namespace {

using protocol::Fields;

template <typename T>
Result<T> with_default(const Fields& f, const char* name, T fallback, Result<T> (Fields::*read)(const char*) const) {
  if (!f.has(name)) return fallback;
  return (f.*read)(name);
}

Result<std::uint64_t> uint_or(const Fields& f, const char* name, std::uint64_t fallback) {
  if (!f.has(name)) return fallback;
  return f.uint64(name);
}

// An amount of the asset, as "$D.DD" or in atomic units.
Result<Uint128> read_amount(const Fields& r, const char* name, unsigned decimals) {
  PAYCHAN_ASSIGN(std::string text, r.string(name));
  auto atomic = protocol::parse_exact_price(text, decimals);
  if (!atomic) return r.error(name, "must be \"$D.DD\" or atomic units: " + atomic.error().detail);
  return *atomic;
}

// What check_gate_config finds wrong: the member ("routes[1].method") and why.
struct Fault {
  std::string member;
  std::string reason;
};

std::optional<Fault> route_fault(const RouteConfig& route, bool metrics_here) {
  const auto at = [](const char* member, std::string reason) { return Fault{member, std::move(reason)}; };
  if (route.path.empty() || route.path.front() != '/') return at("path", "must start with '/'");
  // Matched literally, either would leave the paths it was meant for free.
  if (const auto star = route.path.find('*'); star != std::string::npos && star + 1 != route.path.size())
    return at("path", "takes '*' only at its end, as a prefix (\"/v1/*\"); a '*' inside matches nothing but itself");
  if (route.path.find_first_of("?#") != std::string::npos)
    return at("path", "is a path alone: routes match whatever the query, so drop the '?' or '#' part");
  // The gate answers these itself (GateHandler), free: a price on them would never be asked.
  if (is_gate_endpoint(route_key(route.path), metrics_here))
    return at("path", "is the gate's own endpoint (/healthz, and /metrics without metricsListen, are served by the "
                      "gate, free)");
  // A method no request carries (a typo) would leave the route's path free for every request: one
  // of these, in any case, or none at all.
  std::string method = route.method;
  std::transform(method.begin(), method.end(), method.begin(), http::ascii_upper);
  constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  if (!method.empty() && std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods))
    return at("method", "must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (or absent: every method)");
  if (route.price == 0) return at("price", "must be above zero");
  if (route.minDeposit && *route.minDeposit < route.price) return at("minDeposit", "must be at least the price");
  return std::nullopt;
}

// metrics_here: /metrics is served on the API's port, so no route may price it.
std::optional<Fault> config_fault(const GateConfig& c, bool metrics_here) {
  const auto at = [](std::string member, std::string reason) { return Fault{std::move(member), std::move(reason)}; };
  if (auto chain = protocol::evm_chain_id(c.network); !chain || *chain != c.chainId)
    return at("network", "must be \"eip155:<chainId>\", the chainId's");
  if (c.assetDecimals > 38) return at("asset.decimals", "at most 38");
  if (c.payTo == Address{}) return at("payTo", "must not be the zero address (channels to it cannot be claimed)");
  if (c.receiverAuthorizer == Address{}) return at("receiverAuthorizer", "must not be the zero address");
  if (c.withdrawDelay < kMinWithdrawDelay || c.withdrawDelay > kMaxWithdrawDelay)
    return at("withdrawDelay", "must be 900..2592000 seconds (the contract's bounds)");
  if (c.maxTimeoutSeconds == 0) return at("maxTimeoutSeconds", "must be at least 1");
  if (c.withdrawalSafetyMarginSeconds >= c.withdrawDelay)
    return at("withdrawalSafetyMarginSeconds", "must be below withdrawDelay");
  // A request is checked against the margin before the upstream answers, and charged after: one
  // still waiting when the payer's withdrawal completes would be charged on a voucher no longer
  // claimable. So the wait stays inside the margin.
  if (c.upstreamTimeoutSeconds == 0 || c.upstreamTimeoutSeconds >= c.withdrawalSafetyMarginSeconds)
    return at("upstreamTimeoutSeconds", "must be 1 or more and below withdrawalSafetyMarginSeconds (a request "
                                        "still waiting on the upstream as a withdrawal completes could not be claimed)");
  // And within the offer's maxTimeoutSeconds: clients wait no longer than it says (paychan's own a
  // little more), and one that gives up first loses an answer it is charged for.
  if (c.upstreamTimeoutSeconds > c.maxTimeoutSeconds)
    return at("upstreamTimeoutSeconds", "must not exceed maxTimeoutSeconds: clients wait for a paid answer no "
                                        "longer than the offer says, and one charged after they gave up is lost to them");
  // A mirror trusted for longer could miss a withdrawal until it is within the margin.
  if (c.onchainStateTtlSeconds >= c.withdrawDelay - c.withdrawalSafetyMarginSeconds)
    return at("onchainStateTtlSeconds", "must be below withdrawDelay - withdrawalSafetyMarginSeconds");
  if (c.publicScheme != "http" && c.publicScheme != "https") return at("publicScheme", "must be \"http\" or \"https\"");
  constexpr std::uint64_t kMostBodyBytes = 1ull << 30;  // each request's body is held in memory whole
  if (c.maxRequestBodyBytes == 0 || c.maxRequestBodyBytes > kMostBodyBytes)
    return at("maxRequestBodyBytes", "must be 1..1073741824 (each body is held in memory whole)");
  if (c.routes.empty()) return at("routes", "must be a non-empty array");
  for (std::size_t i = 0; i < c.routes.size(); ++i) {
    const std::string route = "routes[" + std::to_string(i) + "].";
    if (auto fault = route_fault(c.routes[i], metrics_here)) return at(route + fault->member, fault->reason);
    // Paths match in any spelling (route_key.hpp): a second route matching the same requests would
    // never be reached, its price ignored without a word.
    for (std::size_t j = 0; j < i; ++j) {
      const RouteConfig& earlier = c.routes[j];
      const std::string& method = c.routes[i].method;
      const bool shadowed = method.empty() ? earlier.method.empty() : earlier.takes(method);
      if (shadowed && route_key(earlier.path) == route_key(c.routes[i].path))
        return at(route + "path", "matches the same requests as routes[" + std::to_string(j) +
                                      "] (paths match in any case and spelling)");
    }
  }
  return std::nullopt;
}

Result<RouteConfig> read_route(const Fields& r, unsigned decimals, bool metrics_here) {
  PAYCHAN_TRY(r.only({"method", "path", "price", "minDeposit", "description", "mimeType"}));
  RouteConfig route;
  PAYCHAN_ASSIGN(route.path, r.string("path"));
  PAYCHAN_ASSIGN(route.method, with_default<std::string>(r, "method", "", &Fields::string));
  if (r.has("method") && route.method.empty())
    return r.error("method", "must be a method; leave it out to price every method");
  // Methods are case-sensitive on the wire, but "post" can only have meant POST.
  std::transform(route.method.begin(), route.method.end(), route.method.begin(), http::ascii_upper);
  PAYCHAN_ASSIGN(route.price, read_amount(r, "price", decimals));
  if (r.has("minDeposit")) {
    PAYCHAN_ASSIGN(route.minDeposit, read_amount(r, "minDeposit", decimals));
  }
  PAYCHAN_ASSIGN(route.description, r.optional_string("description"));
  PAYCHAN_ASSIGN(route.mimeType, r.optional_string("mimeType"));
  // Each route is judged as it is read: its fault is named before a later route's unreadable field.
  if (auto fault = route_fault(route, metrics_here)) return r.error(fault->member.c_str(), fault->reason);
  return route;
}

Result<GateConfig> read_config(const Fields& f, const GateConfigOverrides& overrides) {
  PAYCHAN_TRY(f.only({"network", "asset", "payTo", "receiverAuthorizer", "withdrawDelay", "maxTimeoutSeconds",
                      "upstreamTimeoutSeconds", "onchainStateTtlSeconds", "withdrawalSafetyMarginSeconds", "facilitator",
                      "facilitatorTokenFile", "store", "listen", "metricsListen", "upstream", "publicScheme", "receiverAuthorizerKeyFile",
                      "enforceMinDeposit", "maxRequestBodyBytes", "routes"}));
  GateConfig c;
  PAYCHAN_ASSIGN(c.network, f.string("network"));
  auto chain = protocol::evm_chain_id(c.network);
  if (!chain) return f.error("network", "must be \"eip155:<chainId>\"");
  c.chainId = *chain;

  const Fields asset = f.object("asset");
  PAYCHAN_TRY(asset.only({"address", "name", "version", "decimals", "transferMethod"}));
  PAYCHAN_ASSIGN(c.asset, asset.address("address"));
  PAYCHAN_ASSIGN(auto method, asset.optional_string("transferMethod"));
  if (method && *method != "eip3009" && *method != "permit2")
    return asset.error("transferMethod", "must be \"eip3009\" (the default) or \"permit2\"");
  c.assetPermit2 = method == "permit2";
  // ERC-3009 deposits are signed under the token's EIP-712 domain; Permit2 ones under Permit2's.
  if (!c.assetPermit2 || asset.has("name") || asset.has("version")) {
    PAYCHAN_ASSIGN(c.assetName, asset.string("name"));
    PAYCHAN_ASSIGN(c.assetVersion, asset.string("version"));
  }
  PAYCHAN_ASSIGN(std::uint64_t decimals, uint_or(asset, "decimals", 6));
  if (decimals > 38) return asset.error("decimals", "at most 38");  // before the narrowing below
  c.assetDecimals = static_cast<unsigned>(decimals);

  PAYCHAN_ASSIGN(c.payTo, f.address("payTo"));
  PAYCHAN_ASSIGN(c.receiverAuthorizer, f.address("receiverAuthorizer"));
  PAYCHAN_ASSIGN(c.withdrawDelay, uint_or(f, "withdrawDelay", c.withdrawDelay));
  PAYCHAN_ASSIGN(c.maxTimeoutSeconds, uint_or(f, "maxTimeoutSeconds", c.maxTimeoutSeconds));
  PAYCHAN_ASSIGN(c.onchainStateTtlSeconds, uint_or(f, "onchainStateTtlSeconds", c.onchainStateTtlSeconds));
  // By default half the delay when that is less: the contract's shortest delay (900 s) works as is.
  PAYCHAN_ASSIGN(c.withdrawalSafetyMarginSeconds,
                 uint_or(f, "withdrawalSafetyMarginSeconds", std::min(c.withdrawalSafetyMarginSeconds, c.withdrawDelay / 2)));
  // By default within half the margin, and within the offer's maxTimeoutSeconds (config_fault).
  PAYCHAN_ASSIGN(c.upstreamTimeoutSeconds,
                 uint_or(f, "upstreamTimeoutSeconds",
                         std::min({c.upstreamTimeoutSeconds, c.withdrawalSafetyMarginSeconds / 2, c.maxTimeoutSeconds})));
  PAYCHAN_ASSIGN(c.facilitator, with_default<std::string>(f, "facilitator", "", &Fields::string));
  PAYCHAN_ASSIGN(c.facilitatorTokenFile, f.optional_string("facilitatorTokenFile"));
  PAYCHAN_ASSIGN(c.store, with_default<std::string>(f, "store", c.store, &Fields::string));
  PAYCHAN_ASSIGN(c.listen, with_default<std::string>(f, "listen", c.listen, &Fields::string));
  PAYCHAN_ASSIGN(c.metricsListen, with_default<std::string>(f, "metricsListen", "", &Fields::string));
  PAYCHAN_ASSIGN(c.upstream, with_default<std::string>(f, "upstream", "", &Fields::string));
  c.upstream = overrides.upstream.value_or(c.upstream);
  c.listen = overrides.listen.value_or(c.listen);
  c.metricsListen = overrides.metricsListen.value_or(c.metricsListen);
  const bool metrics_here = c.metricsListen.empty() && overrides.serving;
  PAYCHAN_ASSIGN(c.publicScheme, with_default<std::string>(f, "publicScheme", c.publicScheme, &Fields::string));
  PAYCHAN_ASSIGN(c.maxRequestBodyBytes, uint_or(f, "maxRequestBodyBytes", c.maxRequestBodyBytes));
  PAYCHAN_ASSIGN(c.receiverAuthorizerKeyFile, f.optional_string("receiverAuthorizerKeyFile"));
  PAYCHAN_ASSIGN(c.enforceMinDeposit, with_default<bool>(f, "enforceMinDeposit", false, &Fields::boolean));

  PAYCHAN_ASSIGN(const rapidjson::Value* routes, f.value("routes"));
  if (!routes->IsArray()) return f.error("routes", "must be a non-empty array");
  for (rapidjson::SizeType i = 0; i < routes->Size(); ++i) {
    const Fields r((*routes)[i], f.path() + ".routes[" + std::to_string(i) + "]", ErrorCode::invalid_config);
    PAYCHAN_TRY(r.is_object());
    PAYCHAN_ASSIGN(RouteConfig route, read_route(r, c.assetDecimals, metrics_here));
    c.routes.push_back(std::move(route));
  }
  if (auto fault = config_fault(c, metrics_here)) return f.error(fault->member.c_str(), fault->reason);
  return c;
}

}  // namespace

Status check_gate_config(const GateConfig& config) {
  if (auto fault = config_fault(config, config.metricsListen.empty()))
    return fail(ErrorCode::invalid_config, fault->member + ": " + fault->reason);
  return {};
}

std::vector<std::string_view> members_needing_restart(const GateConfig& running, const GateConfig& next) {
  std::vector<std::string_view> changed;
  const auto compare = [&changed](std::string_view member, bool same) {
    if (!same) changed.push_back(member);
  };
  // The channel's terms and the asset's domain: what channels already open were made under.
  compare("network", running.network == next.network && running.chainId == next.chainId);
  compare("asset", running.asset == next.asset && running.assetName == next.assetName &&
                       running.assetVersion == next.assetVersion && running.assetDecimals == next.assetDecimals &&
                       running.assetPermit2 == next.assetPermit2);
  compare("payTo", running.payTo == next.payTo);
  compare("receiverAuthorizer", running.receiverAuthorizer == next.receiverAuthorizer);
  compare("receiverAuthorizerKeyFile", running.receiverAuthorizerKeyFile == next.receiverAuthorizerKeyFile);
  compare("withdrawDelay", running.withdrawDelay == next.withdrawDelay);
  // What the running parts were built with: the checks, the clients, the store and the listeners.
  compare("maxTimeoutSeconds", running.maxTimeoutSeconds == next.maxTimeoutSeconds);
  compare("upstreamTimeoutSeconds", running.upstreamTimeoutSeconds == next.upstreamTimeoutSeconds);
  compare("onchainStateTtlSeconds", running.onchainStateTtlSeconds == next.onchainStateTtlSeconds);
  compare("withdrawalSafetyMarginSeconds", running.withdrawalSafetyMarginSeconds == next.withdrawalSafetyMarginSeconds);
  compare("facilitator", running.facilitator == next.facilitator);
  compare("store", running.store == next.store);
  compare("listen", running.listen == next.listen);
  compare("metricsListen", running.metricsListen == next.metricsListen);
  compare("upstream", running.upstream == next.upstream);
  compare("publicScheme", running.publicScheme == next.publicScheme);
  compare("maxRequestBodyBytes", running.maxRequestBodyBytes == next.maxRequestBodyBytes);
  GateConfig reloaded = running;  // what a reload makes of the running configuration
  reloaded.routes = next.routes;
  reloaded.enforceMinDeposit = next.enforceMinDeposit;
  reloaded.facilitatorTokenFile = next.facilitatorTokenFile;
  if (changed.empty() && reloaded != next) changed.push_back("another member");  // one added and not named above
  return changed;
}

bool is_gate_endpoint(std::string_view path, bool metrics_here) noexcept {
  return path == "/healthz" || (metrics_here && path == "/metrics");
}

bool RouteConfig::takes(std::string_view request_method) const noexcept {
  return method.empty() || http::iequals(method, request_method) ||
         (http::iequals(method, "GET") && http::iequals(request_method, "HEAD"));
}

Result<GateConfig> parse_gate_config(std::string_view json, const GateConfigOverrides& overrides) {
  return protocol::decode_with(json, ErrorCode::invalid_config, "config",
                               [&overrides](const Fields& f) { return read_config(f, overrides); });
}

Result<GateConfig> load_gate_config(const std::string& path, const GateConfigOverrides& overrides) {
  auto text = read_config_file(path);
  if (!text) return text.failure();
  auto config = parse_gate_config(*text, overrides);
  if (!config) return fail(ErrorCode::invalid_config, path + ": " + config.error().detail);
  return config;
}

Result<std::optional<PrivateKey>> load_receiver_authorizer_key(const GateConfig& config) {
  if (!config.receiverAuthorizerKeyFile) return std::optional<PrivateKey>{};
  auto key = load_key_file(*config.receiverAuthorizerKeyFile);
  if (!key) return fail(ErrorCode::invalid_config, "receiverAuthorizerKeyFile: " + key.error().detail);
  if (key->address() != config.receiverAuthorizer)
    return fail(ErrorCode::invalid_config, "receiverAuthorizerKeyFile holds the key of another address than receiverAuthorizer");
  return std::optional<PrivateKey>{*key};
}

}  // namespace paychan::engine::gate
