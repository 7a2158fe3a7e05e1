// What a provider configures: the offer every priced route makes (network, asset with its EIP-712
// domain, payTo, receiverAuthorizer, withdrawDelay), the routes and their prices, and the gate's
// operating limits. Read from a JSON file (`paychan gate --config FILE`); the format is in
// `paychan gate --help`.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/ecdsa.hpp"
#include "channel/result.hpp"

namespace paychan::engine::gate {

// The gate's own endpoints on the API's port, /healthz and /metrics (unless `metrics_here` is false:
// metricsListen moved it): served by the gate itself, free, so never a priced route's path.
[[nodiscard]] bool is_gate_endpoint(std::string_view path, bool metrics_here = true) noexcept;

struct RouteConfig {
  std::string method;  // "" matches every method
  std::string path;    // an exact path, or a prefix ending in '*' ("/v1/*")
  Uint128 price = 0;   // per-request maximum in atomic units; the upstream may charge less
  std::optional<std::string> description;
  std::optional<std::string> mimeType;
  // The smallest deposit the offer asks for (extra.minDeposit), atomic units; at least the price.
  // Without one the offer asks for ten prices, as the reference server does.
  std::optional<Uint128> minDeposit;

  // Whether the route takes requests of `method`: every method without one; a GET route takes
  // HEAD too (most frameworks answer HEAD with the GET handler, its work done, its body dropped,
  // which must not come free). In any case: methods are case-sensitive on the wire, but some
  // frameworks (Werkzeug) upper-case a request's before routing it, so "get" must not come free.
  [[nodiscard]] bool takes(std::string_view method) const noexcept;
  friend bool operator==(const RouteConfig&, const RouteConfig&) = default;
};

// The settle job's time to claim a withdrawing channel, unless the config says otherwise (or its
// withdrawDelay is short: then half of that).
inline constexpr std::uint64_t kDefaultWithdrawalSafetyMarginSeconds = 900;

// A member added here is named in members_needing_restart() unless GateRuntime::reload applies it
// (else that function names it "another member").
struct GateConfig {
  std::string network;  // CAIP-2, "eip155:<chainId>"
  std::uint64_t chainId = 0;
  Address asset;
  std::string assetName;     // the token's EIP-712 domain name, e.g. "USDC" (may be empty for Permit2)
  std::string assetVersion;  // … and version, e.g. "2"
  unsigned assetDecimals = 6;
  // How deposits pull the asset (the offer's extra.assetTransferMethod): ERC-3009 by default, or
  // "permit2" for a token without it (each payer approves Permit2 for the token once).
  bool assetPermit2 = false;
  Address payTo;
  Address receiverAuthorizer;
  std::uint64_t withdrawDelay = 86'400;
  std::uint64_t maxTimeoutSeconds = 300;
  // The longest the gate waits for the upstream's response head, and the longest silence within a
  // streamed body; nothing is charged when the head does not come in time. Below
  // withdrawalSafetyMarginSeconds and at most maxTimeoutSeconds (a file's default: 300, or half the
  // margin or maxTimeoutSeconds if less; a config built in code keeps what it sets).
  std::uint64_t upstreamTimeoutSeconds = 300;
  // A voucher is checked locally (no facilitator call) while the channel's mirrored on-chain state
  // is younger than this; older state is refreshed through the facilitator's /verify.
  std::uint64_t onchainStateTtlSeconds = 300;
  // A channel whose timed withdrawal completes within this many seconds is no longer served: the
  // settle job needs that long to land its claim. Below withdrawDelay (a file's default: 900, or
  // half the delay if less; a config built in code keeps what it sets).
  std::uint64_t withdrawalSafetyMarginSeconds = kDefaultWithdrawalSafetyMarginSeconds;
  std::string facilitator;  // http://host:port of the facilitator ("" for none: deposits refused)
  // The bearer token the facilitator knows this gate (and its settle job) by, when it asks for one.
  std::optional<std::string> facilitatorTokenFile;
  std::string store = "paychan-gate.sqlite";
  std::string listen = "127.0.0.1:8402";
  // Where /metrics is served instead of `listen` ("" : on `listen`, beside the API): its totals
  // are the provider's business, and its path then is the API's like any other.
  std::string metricsListen;
  std::string upstream;  // http://host:port[/prefix]; may come from the command line instead
  // How clients reach the gate: "https" behind a TLS terminator. The offer's resource URL and the
  // X-Forwarded-Proto the upstream sees say so.
  std::string publicScheme = "http";
  // The largest request body the gate takes (413 beyond it), free routes too: it holds one in
  // memory before forwarding it.
  std::uint64_t maxRequestBodyBytes = 1 << 20;
  std::optional<std::string> receiverAuthorizerKeyFile;  // signs refunds; else the facilitator does
  // Refuse a deposit below its offer's minDeposit (invalid_batch_settlement_evm_deposit_below_min_deposit).
  // Off by default, as in the reference server: the minimum is then a hint clients may follow.
  bool enforceMinDeposit = false;
  std::vector<RouteConfig> routes;
  friend bool operator==(const GateConfig&, const GateConfig&) = default;
};

// What `paychan gate`'s flags set over the file's members. Applied before the file is checked, so
// that the rules see the configuration the gate runs: a route priced on /metrics is the API's when
// --metrics-listen moves /metrics to a port of its own, as when "metricsListen" does.
struct GateConfigOverrides {
  std::optional<std::string> upstream;
  std::optional<std::string> listen;
  std::optional<std::string> metricsListen;
  // false: the file is read by what does not serve it (paychan settle), without the gate's command
  // line. A route on /metrics, the API's only where /metrics is moved, is then not refused: the
  // gate that serves the file with --metrics-listen takes it.
  bool serving = true;
};

// Parses and checks a configuration. Errors: invalid_config naming the member and the reason.
[[nodiscard]] Result<GateConfig> parse_gate_config(std::string_view json, const GateConfigOverrides& overrides = {});
// Checks a configuration built in code (a provider embedding the gate) by the rules a file's is
// checked by: a route priced 0, on a gate endpoint, with a method no request carries (its path
// would go free), timeouts outside the withdrawal margin... GateRuntime::start checks what it is
// given. Error: invalid_config naming the member ("routes[1].method: ...") and the reason.
[[nodiscard]] Status check_gate_config(const GateConfig& config);
// The same from a file (at most 1 MiB).
[[nodiscard]] Result<GateConfig> load_gate_config(const std::string& path, const GateConfigOverrides& overrides = {});

// The members of `next` that differ from the `running` gate's and that only a restart changes: all
// but "routes", "enforceMinDeposit" and "facilitatorTokenFile", which GateRuntime::reload applies
// while the gate serves. By their names in the file ("asset" for any of its fields), in a fixed
// order; empty when none. Files are compared by name: a key file rewritten in place is read at the
// next start.
[[nodiscard]] std::vector<std::string_view> members_needing_restart(const GateConfig& running, const GateConfig& next);

// The key of receiverAuthorizerKeyFile (nullopt without one), checked to be receiverAuthorizer's.
// Errors: invalid_config (unreadable, loose permissions, another address).
[[nodiscard]] Result<std::optional<PrivateKey>> load_receiver_authorizer_key(const GateConfig& config);

}  // namespace paychan::engine::gate
