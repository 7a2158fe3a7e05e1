#include "demo/provider.hpp"

#include "demo/local_chain.hpp"
#include "demo/toy_inference.hpp"
#include "engine/gate/gate_runtime.hpp"
#include "engine/gate/service.hpp"
#include "persistence/tx_journal.hpp"
#include "protocol/requirements.hpp"

namespace paychan::cli::demo {

namespace gate = engine::gate;

// Declared in the order they are built; destroyed in reverse, the gate first: it stops serving and
// finishes its commits while the facilitator it calls still exists.
struct Provider::Parts {
  gate::GateConfig config;
  std::unique_ptr<persistence::TxJournal> journal;
  std::unique_ptr<engine::facilitator::Facilitator> facilitator;
  gate::FunctionService service{toy_inference};
  std::unique_ptr<gate::GateRuntime> gate;
};

namespace {

gate::GateConfig gate_config(const engine::evm::Deployment& d, const ProviderSetup& setup) {
  gate::GateConfig c;
  c.network = protocol::evm_network(d.chainId);
  c.chainId = d.chainId;
  c.asset = d.token;
  c.assetName = d.tokenName;
  c.assetVersion = d.tokenVersion;
  c.payTo = setup.payTo;
  c.receiverAuthorizer = setup.receiverAuthorizer.address();  // delegated to the facilitator
  c.store = (setup.dir / "gate.sqlite").string();
  c.listen = "127.0.0.1:0";
  c.routes = {gate::RouteConfig{"POST", std::string{kInferPath}, kOfferedPrice, "a toy completion", "application/json"}};
  return c;
}

}  // namespace

Result<std::unique_ptr<Provider>> Provider::start(LocalChain& chain, ProviderSetup setup) {
  auto p = std::make_unique<Parts>();
  p->config = gate_config(chain.deployment(), setup);

  engine::facilitator::NetworkOptions network;
  network.network = p->config.network;
  network.rpcUrl = chain.anvil().url();
  network.batchSettlement = chain.deployment().settlement;
  network.erc3009Collector = chain.deployment().collector;
  engine::facilitator::FacilitatorOptions facilitator_options;
  facilitator_options.receiptPoll = std::chrono::milliseconds(20);  // anvil mines each transaction at once
  PAYCHAN_ASSIGN(p->journal, persistence::TxJournal::open((setup.dir / "facilitator.sqlite").string()));
  p->facilitator = std::make_unique<engine::facilitator::Facilitator>(
      std::vector{network}, setup.facilitatorSigner, setup.receiverAuthorizer, *p->journal, facilitator_options);

  gate::RuntimeOptions gate_options;
  gate_options.facilitator = p->facilitator.get();
  gate_options.service = &p->service;
  PAYCHAN_ASSIGN(p->gate, gate::GateRuntime::start(p->config, gate_options));
  return std::unique_ptr<Provider>(new Provider(std::move(p)));
}

Provider::Provider(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Provider::~Provider() = default;

std::string Provider::url() const {
  return "http://127.0.0.1:" + std::to_string(parts_->gate->port()) + std::string{kInferPath};
}
const gate::GateConfig& Provider::config() const noexcept { return parts_->config; }
const gate::GateMetrics& Provider::metrics() const noexcept { return parts_->gate->metrics(); }
engine::facilitator::Facilitator& Provider::facilitator() noexcept { return *parts_->facilitator; }
void Provider::stop_serving() { parts_->gate->stop(); }

}  // namespace paychan::cli::demo
