// The demo's chain: a fresh anvil, paychan's contracts at their canonical addresses, test USDC
// minted to the agents, and the reads the demo's report needs (token balances, channels, gas of
// mined transactions, the deposits the contract recorded).
// Anvil stops when its starting thread exits: create this from the thread that runs the whole
// demo. The reads block (run_blocking): never call them on an I/O thread.
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/evm/anvil.hpp"
#include "engine/evm/deployment.hpp"
#include "engine/evm/rpc_client.hpp"
#include "engine/evm/tx_sender.hpp"
#include "protocol/requirements.hpp"

namespace paychan::cli::demo {

class LocalChain {
 public:
  // Starts anvil, deploys, mints `mint` test USDC to each of `agents` (who hold no ether: they
  // never send a transaction). Errors: as Anvil::start and deploy_paychan.
  [[nodiscard]] static Result<std::unique_ptr<LocalChain>> start(const std::vector<Address>& agents, Uint128 mint);

  [[nodiscard]] const engine::evm::Anvil& anvil() const noexcept { return *anvil_; }
  [[nodiscard]] const engine::evm::Deployment& deployment() const noexcept { return deployment_; }
  [[nodiscard]] std::string network() const { return protocol::evm_network(deployment_.chainId); }
  // Dev account i's key: anvil's public test keys, funded with ether (devnet only).
  [[nodiscard]] const PrivateKey& dev_key(std::size_t i) const { return anvil_->accounts().at(i).key; }

  [[nodiscard]] Result<Uint128> token_balance(const Address& owner);
  [[nodiscard]] Result<engine::chain::ChannelBalances> channel(const Bytes32& channelId);
  [[nodiscard]] Result<std::uint64_t> gas_used(const Bytes32& transaction);
  // The distinct transactions in which the settlement contract emitted Deposited, in chain order.
  [[nodiscard]] Result<std::vector<Bytes32>> deposit_transactions();
  // Gas of one plain ERC-20 transfer between two accounts that both hold the token already — what
  // paying each request with its own on-chain transfer would cost at the least.
  [[nodiscard]] Result<std::uint64_t> transfer_gas();

 private:
  LocalChain() = default;

  std::unique_ptr<engine::evm::Anvil> anvil_;
  std::unique_ptr<engine::evm::RpcClient> rpc_;
  engine::evm::Deployment deployment_;
};

}  // namespace paychan::cli::demo
