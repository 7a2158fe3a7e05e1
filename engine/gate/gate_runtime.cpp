#include "engine/gate/gate_runtime.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/config_file.hpp"
#include "engine/gate/claimed_refresh.hpp"
#include "engine/gate/gate.hpp"
#include "engine/gate/gate_handler.hpp"
#include "engine/gate/http_facilitator.hpp"
#include "engine/gate/offers.hpp"
#include "engine/gate/service.hpp"
#include "engine/http/run_blocking.hpp"
#include "engine/http/server.hpp"
#include "engine/metrics_listener.hpp"
#include "protocol/requirements.hpp"

namespace paychan::engine::gate {

namespace {

http::ClientOptions upstream_options(const GateConfig& config) {
  http::ClientOptions o;
  o.response_timeout = std::chrono::seconds(config.upstreamTimeoutSeconds);
  o.read_timeout = std::chrono::seconds(config.upstreamTimeoutSeconds);
  return o;
}

// What makes the channels opened to this gate unclaimable, if anything: their receiverAuthorizer
// must sign every claim and refund, and neither the facilitator (the authorizer its /supported
// `kind` advertises) nor this configuration's receiverAuthorizerKeyFile holds its key.
std::optional<std::string> unclaimable_channels(const GateConfig& config, const protocol::SupportedKind& kind) {
  if (config.receiverAuthorizerKeyFile) return std::nullopt;  // its key was checked to be receiverAuthorizer's
  auto advertised = protocol::supported_receiver_authorizer(kind);
  if (advertised && *advertised && **advertised == config.receiverAuthorizer) return std::nullopt;
  const std::string theirs = !advertised ? "an unreadable one (" + advertised.error().detail + ")"
                             : *advertised ? to_checksum_hex(**advertised)
                                           : "none";
  return "receiverAuthorizer " + to_checksum_hex(config.receiverAuthorizer) + " is not the facilitator's (" + theirs +
         " in its /supported), and no receiverAuthorizerKeyFile holds its key: `paychan settle` cannot claim the "
         "channels paid to this gate (refused with authorizer_address_mismatch), nor the facilitator refund them. Set "
         "receiverAuthorizer to the facilitator's, or receiverAuthorizerKeyFile to its key";
}

}  // namespace

// Declared in the order they are built; destroyed in reverse, the server first.
struct GateRuntime::Parts {
  explicit Parts(const GateConfig& c) : config(c), upstream_client(upstream_options(c)) {}
  GateConfig config;
  GateMetrics metrics;
  std::unique_ptr<persistence::ChannelStore> store;
  std::unique_ptr<HttpFacilitator> facilitator;
  std::unique_ptr<Gate> gate;
  std::unique_ptr<ClaimedRefresh> claimed_refresh;
  http::HttpClient upstream_client;
  std::unique_ptr<ProxyService> service;
  std::unique_ptr<GateHandler> handler;
  std::unique_ptr<http::HttpServer> server;
  std::unique_ptr<MetricsListener> metrics_listener;  // config.metricsListen's
  std::vector<std::string> warnings;
};

Result<std::unique_ptr<GateRuntime>> GateRuntime::start(const GateConfig& config, RuntimeOptions options) {
  PAYCHAN_TRY(check_gate_config(config));
  auto p = std::make_unique<Parts>(config);
  if (config.upstream.empty() && options.service == nullptr)
    return fail(ErrorCode::invalid_config, "no upstream: set \"upstream\" or --upstream");
  PAYCHAN_ASSIGN(auto listen, parse_listen(config.listen));
  PAYCHAN_ASSIGN(const auto metrics_listen, parse_metrics_listen(config.metricsListen, listen));

  GateOptions gate_options;
  gate_options.chainId = config.chainId;
  gate_options.network = config.network;
  gate_options.onchainStateTtlSeconds = config.onchainStateTtlSeconds;
  gate_options.withdrawalSafetyMarginSeconds = config.withdrawalSafetyMarginSeconds;
  PAYCHAN_ASSIGN(gate_options.receiverAuthorizerKey, load_receiver_authorizer_key(config));

  Facilitator* facilitator = options.facilitator;
  if (facilitator == nullptr && !config.facilitator.empty()) {
    PAYCHAN_ASSIGN(auto facilitator_options, http_facilitator_options(config));
    PAYCHAN_ASSIGN(p->facilitator, HttpFacilitator::create(std::move(facilitator_options)));
    facilitator = p->facilitator.get();
    // A refused token is a configuration error: stop here. A facilitator that does not answer
    // may come back; known channels are served meanwhile.
    if (Status access = http::run_blocking(p->facilitator->check_token()); !access) {
      if (access.error().code == ErrorCode::facilitator_unauthorized) return access.failure();
      p->warnings.push_back("facilitator " + config.facilitator + " did not answer as one at start-up (" +
                            access.error().to_string() + "); deposits wait for it, known channels are served");
    } else if (auto served = http::run_blocking(p->facilitator->supported()); served) {
      // The kind for the gate's own network, else one for its family ("eip155:*").
      const auto serves = [&](bool exactly) {
        return std::find_if(served->kinds.begin(), served->kinds.end(), [&](const protocol::SupportedKind& k) {
          const bool wildcard = k.network.ends_with(":*") && config.network.starts_with(k.network.substr(0, k.network.size() - 1));
          return k.scheme == protocol::kBatchSettlementScheme && (k.network == config.network || (!exactly && wildcard));
        });
      };
      auto ours = serves(true);
      if (ours == served->kinds.end()) ours = serves(false);
      if (ours == served->kinds.end())
        p->warnings.push_back("facilitator " + config.facilitator + " does not list " + std::string(protocol::kBatchSettlementScheme) +
                              " on " + config.network + " in /supported: it will refuse every deposit and refund "
                              "(invalid_network), so no channel can be opened");
      else if (auto warning = unclaimable_channels(config, *ours)) p->warnings.push_back(std::move(*warning));
    }
  }
  // A margin below the default (half a short withdrawDelay) leaves the settle job little time to
  // claim a withdrawing channel: its runs must come often, and with --rpc (the watchtower).
  if (config.withdrawalSafetyMarginSeconds < kDefaultWithdrawalSafetyMarginSeconds)
    p->warnings.push_back("withdrawalSafetyMarginSeconds is " + std::to_string(config.withdrawalSafetyMarginSeconds) +
                          " s: a channel whose payer starts a withdrawal must be claimed within it, so run `paychan "
                          "settle --rpc` well within that (every few minutes), or give the channels a longer "
                          "withdrawDelay");
  if (facilitator == nullptr)
    p->warnings.push_back("no \"facilitator\" configured: every deposit and refund is refused (503), so no new "
                          "channel can be opened; only channels in the store are served");
  persistence::StoreOptions store_options;
  store_options.durable = options.durable;
  store_options.voucher_log = true;  // the gate owns its store: commits go to the log
  store_options.on_fold_failure = [store = config.store](const Status& failed) {
    const std::string line = "paychan gate: cannot fold the voucher log into " + store + " (" + failed.error().to_string() +
                             "); the commits stay durable in the log, a settle job does not see them until a fold succeeds; "
                             "retrying\n";
    std::fwrite(line.data(), 1, line.size(), stderr);  // one write: lines never interleave
  };
  PAYCHAN_ASSIGN(p->store, persistence::ChannelStore::open(config.store, store_options));
  p->gate = std::make_unique<Gate>(std::move(gate_options), *p->store, facilitator, p->metrics);
  PAYCHAN_TRY(p->gate->restore());
  p->claimed_refresh = std::make_unique<ClaimedRefresh>(
      *p->gate, options.claimed_refresh, [store = config.store](const Status& refreshed) {
        const std::string line =
            refreshed ? "paychan gate: the settle job's claims and deletions in " + store + " are read again\n"
                      : "paychan gate: cannot read the settle job's claims and deletions in " + store + " (" +
                            refreshed.error().to_string() +
                            "); until it can, /metrics' unclaimed amount lags them and the channels it deleted stay "
                            "in memory; retrying\n";
        std::fwrite(line.data(), 1, line.size(), stderr);  // one write: lines never interleave
      });

  Service* service = options.service;
  if (service == nullptr) {
    auto proxy = gate_proxy(p->upstream_client, config.upstream, config.publicScheme);
    if (!proxy) return fail(ErrorCode::invalid_config, "upstream: " + proxy.error().detail);
    // An upstream that is not there yet may come; until it does every request gets 502.
    if (Status there = http::run_blocking(p->upstream_client.connect_only(config.upstream)); !there)
      p->warnings.push_back("upstream " + config.upstream + " does not accept connections (" + there.error().to_string() +
                            "): every request gets 502 until it does");
    p->service = std::make_unique<ProxyService>(std::move(*proxy));
    service = p->service.get();
  }
  p->handler = std::make_unique<GateHandler>(*p->gate, std::make_shared<const OfferTable>(OfferTable::build(config)),
                                            *service, p->metrics, config.assetDecimals);
  p->handler->set_public_scheme(config.publicScheme);
  // One write per line: lines never interleave.
  const auto write_line = [](const std::string& text) {
    const std::string line = "paychan gate: " + text + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
  if (options.access_log) p->handler->set_access_log([write_line](const AccessRecord& r) { write_line(to_logfmt(r)); });
  else p->handler->set_operator_log(write_line);
  if (metrics_listen) {
    p->handler->serve_metrics_elsewhere();
    PAYCHAN_ASSIGN(p->metrics_listener,
                   MetricsListener::start(*metrics_listen, [&handler = *p->handler](http::Exchange& ex) {
                     return handler.answer_own_endpoint(ex, true);
                   }));
  }
  if (options.listen) {
    http::ServerOptions server_options;
    server_options.address = listen.first;
    server_options.port = listen.second;
    server_options.threads = options.threads;
    server_options.limits.max_body_bytes = config.maxRequestBodyBytes;
    server_options.on_turned_away = write_line;
    p->server = std::make_unique<http::HttpServer>(*p->handler, server_options);
    PAYCHAN_TRY(p->server->start());
  }
  return std::unique_ptr<GateRuntime>(new GateRuntime(std::move(p)));
}

GateRuntime::GateRuntime(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
GateRuntime::~GateRuntime() { (void)stop(); }

std::uint16_t GateRuntime::port() const noexcept { return parts_->server ? parts_->server->port() : 0; }
std::uint16_t GateRuntime::metrics_port() const noexcept {
  return parts_->metrics_listener ? parts_->metrics_listener->port() : 0;
}
http::Handler& GateRuntime::handler() noexcept { return *parts_->handler; }
std::size_t GateRuntime::channels() const { return parts_->gate->channels().size(); }
const GateMetrics& GateRuntime::metrics() const noexcept { return parts_->metrics; }
const std::vector<std::string>& GateRuntime::warnings() const noexcept { return parts_->warnings; }

Result<ReloadOutcome> GateRuntime::reload(const GateConfig& next) {
  PAYCHAN_TRY(check_gate_config(next));
  if (const auto members = members_needing_restart(parts_->config, next); !members.empty())
    return restart_needed(members, "", "routes, enforceMinDeposit and facilitatorTokenFile");
  ReloadOutcome outcome;
  TokenRenewal renewal;
  if (parts_->facilitator) {  // an in-process facilitator (options.facilitator) takes no token
    auto renewed = renew_token(*parts_->facilitator, next);
    if (!renewed) return fail(renewed.error().code, renewed.error().detail + "; the gate sends the token it did");
    renewal = std::move(*renewed);
  }
  // All that can fail first: then only steps that cannot, so a refusal changes nothing.
  outcome.routes = next.routes != parts_->config.routes || next.enforceMinDeposit != parts_->config.enforceMinDeposit;
  std::shared_ptr<const OfferTable> offers;
  if (outcome.routes) offers = std::make_shared<const OfferTable>(OfferTable::build(next));
  GateConfig running = next;
  if (renewal.warning) outcome.warnings.push_back(std::move(*renewal.warning));
  if (renewal.token) {
    parts_->facilitator->use_token(std::move(*renewal.token));
    outcome.token = true;
  }
  if (offers) parts_->handler->use_offers(std::move(offers));
  parts_->config = std::move(running);
  return outcome;
}

void GateRuntime::end_grace() {
  if (parts_->server) parts_->server->end_grace();
}

std::size_t GateRuntime::stop(std::chrono::milliseconds grace) {
  if (parts_->metrics_listener) parts_->metrics_listener->stop();
  const std::size_t cut = parts_->server ? parts_->server->stop(grace) : 0;
  parts_->claimed_refresh.reset();  // it reads the store
  parts_->store.reset();            // finishes every queued commit
  return cut;
}

}  // namespace paychan::engine::gate
