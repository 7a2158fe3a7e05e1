// A local chain for engine tests: a real anvil child process (one per Devnet object), an RpcClient
// on it, a TransactionSender for dev account 0, and paychan's contracts deployed on demand at
// their canonical addresses. Reusable by any engine test that needs a chain:
//
//   test::Devnet chain;                       // anvil, chain id 31337, automining
//   ASSERT_TRUE(chain.ok()) << chain.error();
//   auto receipt = chain.run(chain.sender().wait(*chain.run(chain.sender().submit(std::move(tx)))));
//   const Deployment& d = chain.deploy({payer});  // needs the `contracts` artifacts
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/evm/anvil.hpp"
#include "engine/evm/deployment.hpp"
#include "engine/evm/rpc_client.hpp"
#include "engine/evm/tx_sender.hpp"
#include "engine/http/run_blocking.hpp"

namespace paychan::engine::evm::test {

class Devnet {
 public:
  explicit Devnet(AnvilOptions options = {}) {
    auto node = Anvil::start(std::move(options));
    if (!node) {
      error_ = node.error().to_string();
      return;
    }
    anvil_ = std::move(*node);
    rpc_ = std::make_unique<RpcClient>(anvil_->url());
    sender_ = std::make_unique<TransactionSender>(*rpc_, key(0), anvil_->chain_id());
  }

  [[nodiscard]] bool ok() const noexcept { return anvil_ != nullptr; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  [[nodiscard]] Anvil& anvil() { return *anvil_; }
  [[nodiscard]] RpcClient& rpc() { return *rpc_; }
  [[nodiscard]] std::uint64_t chain_id() const { return anvil_->chain_id(); }
  // Dev account i's key (funded with 10,000 ETH; devnet only).
  [[nodiscard]] const PrivateKey& key(std::size_t i) const { return anvil_->accounts().at(i).key; }
  // The sender for dev account 0, the deployer.
  [[nodiscard]] TransactionSender& sender() { return *sender_; }

  // Runs a coroutine to completion from the test thread.
  template <typename T>
  T run(http::Awaitable<T> awaitable) {
    return http::run_blocking(std::move(awaitable));
  }

  // paychan's contracts from the `contracts` target's artifacts, `fund` minted test USDC. Deploys
  // once per Devnet; a failure is reported as a test failure and returns nullptr.
  const Deployment* deploy(std::vector<Address> fund = {}) {
    if (!deployment_) {
      DeploymentOptions options;
      options.fund = std::move(fund);
      auto deployed = run(deploy_paychan(*rpc_, *sender_, std::move(options)));
      if (!deployed) {
        ADD_FAILURE() << "deploy_paychan: " << deployed.error().to_string();
        return nullptr;
      }
      deployment_ = std::move(*deployed);
    }
    return &*deployment_;
  }

  // Whether the `contracts` artifacts exist in this build tree.
  [[nodiscard]] static bool have_artifacts() {
    return std::filesystem::exists(default_artifacts_dir() / "X402BatchSettlement.json");
  }

 private:
  std::string error_;
  std::unique_ptr<Anvil> anvil_;
  std::unique_ptr<RpcClient> rpc_;
  std::unique_ptr<TransactionSender> sender_;
  std::optional<Deployment> deployment_;
};

}  // namespace paychan::engine::evm::test
