#include "engine/facilitator/facilitator_runtime.hpp"

#include <cstdio>

#include "engine/facilitator/facilitator_service.hpp"
#include "engine/gate/gate_runtime.hpp"
#include "engine/http/run_blocking.hpp"
#include "engine/http/server.hpp"
#include "engine/key_source.hpp"

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
  std::optional<ClientAuth> clients;
  std::unique_ptr<FacilitatorService> service;
  std::unique_ptr<http::HttpServer> server;
};

Result<std::unique_ptr<FacilitatorRuntime>> FacilitatorRuntime::start(const FacilitatorConfig& config,
                                                                      FacilitatorRuntimeOptions options) {
  auto p = std::make_unique<Parts>();
  PAYCHAN_ASSIGN(auto listen, gate::parse_listen(config.listen));
  auto signer = load_key_file(config.signerKeyFile);
  if (!signer) return fail(ErrorCode::invalid_config, "signerKeyFile: " + signer.error().detail);
  std::optional<PrivateKey> authorizer;
  if (config.receiverAuthorizerKeyFile) {
    auto key = load_key_file(*config.receiverAuthorizerKeyFile);
    if (!key) return fail(ErrorCode::invalid_config, "receiverAuthorizerKeyFile: " + key.error().detail);
    authorizer = *key;
  }
  if (!config.clients.empty()) {
    PAYCHAN_ASSIGN(p->clients, ClientAuth::load(config.clients));
  }
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

  p->service = std::make_unique<FacilitatorService>(f, p->clients ? &*p->clients : nullptr);
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
Facilitator& FacilitatorRuntime::facilitator() noexcept { return *parts_->facilitator; }
const RecoveryReport& FacilitatorRuntime::recovered() const noexcept { return parts_->recovered; }

std::size_t FacilitatorRuntime::stop(std::chrono::milliseconds grace) {
  return parts_->server ? parts_->server->stop(grace) : 0;
}

void FacilitatorRuntime::end_grace() {
  if (parts_->server) parts_->server->end_grace();
}

}  // namespace paychan::engine::facilitator
