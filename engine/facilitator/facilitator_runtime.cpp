#include "engine/facilitator/facilitator_runtime.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/config_file.hpp"
#include "engine/facilitator/facilitator_service.hpp"
#include "engine/http/run_blocking.hpp"
#include "engine/http/server.hpp"
#include "engine/key_source.hpp"
#include "engine/metrics_listener.hpp"

namespace paychan::engine::facilitator {
namespace {

void log_line(const std::string& line) {
  const std::string text = "paychan facilitator: " + line + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);  // one write per line: lines never interleave
}

}  // namespace

// Declared in the order they are built; destroyed in reverse, the server first.
struct FacilitatorRuntime::Parts {
  std::unique_ptr<persistence::TxJournal> journal;
  std::unique_ptr<Facilitator> facilitator;
  RecoveryReport recovered;
  // The client table in use (a request in progress holds its own); null: no clients, the API open.
  std::shared_ptr<const ClientAuth> clients;
  FacilitatorConfig config;  // as started, its clients as last reloaded
  std::unique_ptr<FacilitatorService> service;
  std::unique_ptr<MetricsListener> metrics_listener;  // config.metricsListen's
  std::unique_ptr<http::HttpServer> server;
};

Result<std::unique_ptr<FacilitatorRuntime>> FacilitatorRuntime::start(const FacilitatorConfig& config,
                                                                      FacilitatorRuntimeOptions options) {
  auto p = std::make_unique<Parts>();
  PAYCHAN_ASSIGN(auto listen, parse_listen(config.listen));
  PAYCHAN_ASSIGN(const auto metrics_listen, parse_metrics_listen(config.metricsListen, listen));
  auto signer = load_key_file(config.signerKeyFile);
  if (!signer) return fail(ErrorCode::invalid_config, "signerKeyFile: " + signer.error().detail);
  std::optional<PrivateKey> authorizer;
  if (config.receiverAuthorizerKeyFile) {
    auto key = load_key_file(*config.receiverAuthorizerKeyFile);
    if (!key) return fail(ErrorCode::invalid_config, "receiverAuthorizerKeyFile: " + key.error().detail);
    authorizer = *key;
  }
  if (!config.clients.empty()) {
    PAYCHAN_ASSIGN(auto clients, ClientAuth::load(config.clients));
    p->clients = std::make_shared<const ClientAuth>(std::move(clients));
  }
  p->config = config;
  PAYCHAN_ASSIGN(p->journal, persistence::TxJournal::open(config.journal));

  FacilitatorOptions facilitator_options;
  facilitator_options.receiptTimeout = std::chrono::seconds(config.receiptTimeoutSeconds);
  facilitator_options.repriceAfter = std::chrono::seconds(config.repriceAfterSeconds);
  if (config.maxFeePerGasGwei) facilitator_options.maxFeePerGas = U256{Uint128{*config.maxFeePerGasGwei} * 1'000'000'000};
  facilitator_options.fault = options.fault;
  if (options.log) facilitator_options.log = log_line;
  p->facilitator = std::make_unique<Facilitator>(config.networks, *signer, authorizer, *p->journal, facilitator_options);
  Facilitator& f = *p->facilitator;
  PAYCHAN_TRY(http::run_blocking(f.check_nodes()));
  PAYCHAN_ASSIGN(p->recovered, http::run_blocking(f.recover()));

  p->service = std::make_unique<FacilitatorService>(f, p->clients);
  if (metrics_listen) {
    p->service->serve_metrics_elsewhere();
    PAYCHAN_ASSIGN(p->metrics_listener,
                   MetricsListener::start(*metrics_listen, [&service = *p->service](http::Exchange& ex) {
                     return service.answer_metrics_port(ex);
                   }));
  }
  http::ServerOptions server_options;
  server_options.address = listen.first;
  server_options.port = listen.second;
  server_options.threads = options.threads;
  server_options.limits.max_body_bytes = protocol::kMaxFacilitatorRequestBytes;
  server_options.on_turned_away = log_line;
  p->server = std::make_unique<http::HttpServer>(*p->service, server_options);
  PAYCHAN_TRY(p->server->start());
  return std::unique_ptr<FacilitatorRuntime>(new FacilitatorRuntime(std::move(p)));
}

FacilitatorRuntime::FacilitatorRuntime(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
FacilitatorRuntime::~FacilitatorRuntime() { stop(); }

std::uint16_t FacilitatorRuntime::port() const noexcept { return parts_->server->port(); }
std::uint16_t FacilitatorRuntime::metrics_port() const noexcept {
  return parts_->metrics_listener ? parts_->metrics_listener->port() : 0;
}
Facilitator& FacilitatorRuntime::facilitator() noexcept { return *parts_->facilitator; }
const RecoveryReport& FacilitatorRuntime::recovered() const noexcept { return parts_->recovered; }

std::size_t FacilitatorRuntime::stop(std::chrono::milliseconds grace) {
  if (parts_->metrics_listener) parts_->metrics_listener->stop();
  return parts_->server ? parts_->server->stop(grace) : 0;
}

Result<bool> FacilitatorRuntime::reload(const FacilitatorConfig& next) {
  if (const auto members = members_needing_restart(parts_->config, next); !members.empty()) {
    const bool opens_or_closes = std::ranges::find(members, "clients") != members.end();
    return restart_needed(members,
                          opens_or_closes ? " (clients where there were none, or none left: the API would open or close)"
                                          : "",
                          "the clients' changes: added, removed, token files read again");
  }
  // Open (no clients) as it started: members_needing_restart let no client in.
  if (!parts_->clients) return false;
  PAYCHAN_ASSIGN(auto clients, ClientAuth::load(next.clients));
  if (clients == *parts_->clients) return false;
  auto table = std::make_shared<const ClientAuth>(std::move(clients));
  std::vector<ClientConfig> configured = next.clients;
  // Nothing below throws: the reload is whole or not at all.
  parts_->clients = std::move(table);
  (void)parts_->service->use_clients(parts_->clients);  // started with clients: taken
  parts_->config.clients = std::move(configured);
  return true;
}

void FacilitatorRuntime::end_grace() {
  if (parts_->server) parts_->server->end_grace();
}

}  // namespace paychan::engine::facilitator
