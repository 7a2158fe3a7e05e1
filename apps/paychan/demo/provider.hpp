// The demo's provider side, all in this process: paychan's facilitator (its signer an anvil dev
// account that pays the gas, its receiverAuthorizer a fresh key the gate delegates claims and
// refunds to) and a gate on loopback in front of the toy inference endpoint, with its SQLite
// channel store and metrics, run as `paychan gate` runs it (GateRuntime). After the agents are
// done the gate stops serving and closes its store; the facilitator stays for the settle job,
// which opens the store's file itself, as `paychan settle` does.
// Thread-safety: start/stop_serving from one controlling thread; the parts are as documented in
// their own headers.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "engine/facilitator/facilitator.hpp"
#include "engine/gate/gate_config.hpp"
#include "engine/gate/metrics.hpp"

namespace paychan::cli::demo {

class LocalChain;

struct ProviderSetup {
  PrivateKey facilitatorSigner;   // sends deposits, claims and the sweep (needs ether)
  PrivateKey receiverAuthorizer;  // the facilitator's; signs claim batches and refunds
  Address payTo;                  // the provider's receiving address
  std::filesystem::path dir;      // for the gate's store and the facilitator's journal
};

class Provider {
 public:
  // Errors: the journal's and the store's, http_listen_failed.
  [[nodiscard]] static Result<std::unique_ptr<Provider>> start(LocalChain& chain, ProviderSetup setup);
  ~Provider();

  // The paid endpoint, http://127.0.0.1:PORT/v1/infer.
  [[nodiscard]] std::string url() const;
  [[nodiscard]] const engine::gate::GateConfig& config() const noexcept;
  [[nodiscard]] const engine::gate::GateMetrics& metrics() const noexcept;
  [[nodiscard]] engine::facilitator::Facilitator& facilitator() noexcept;
  // Stops the gate's server (requests in progress finish) and closes its store: every charge is
  // then on disk, in config().store.
  void stop_serving();

  struct Parts;

 private:
  explicit Provider(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace paychan::cli::demo
