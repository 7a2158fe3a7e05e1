#include "demo/local_chain.hpp"

#include <algorithm>

#include "channel/hex.hpp"
#include "channel/keccak.hpp"
#include "engine/chain/abi.hpp"
#include "engine/http/run_blocking.hpp"

namespace paychan::cli::demo {
namespace {

namespace evm = engine::evm;
namespace chain = engine::chain;
using engine::http::run_blocking;

// Dev account 0 deploys; 1 is the facilitator's signer; 2 and 3 hold test USDC to measure a transfer.
constexpr std::size_t kDeployer = 0;
constexpr std::size_t kTransferFrom = 2;
constexpr std::size_t kTransferTo = 3;

}  // namespace

Result<std::unique_ptr<LocalChain>> LocalChain::start(const std::vector<Address>& agents, Uint128 mint) {
  std::unique_ptr<LocalChain> c(new LocalChain);
  PAYCHAN_ASSIGN(c->anvil_, evm::Anvil::start());
  c->rpc_ = std::make_unique<evm::RpcClient>(c->anvil_->url());
  evm::DeploymentOptions options;
  options.fund = agents;
  options.fund.push_back(c->dev_key(kTransferFrom).address());
  options.fund.push_back(c->dev_key(kTransferTo).address());
  options.mintAmount = mint;
  evm::TransactionSender deployer(*c->rpc_, c->dev_key(kDeployer), c->anvil_->chain_id());
  PAYCHAN_ASSIGN(c->deployment_, run_blocking(evm::deploy_paychan(*c->rpc_, deployer, std::move(options))));
  return c;
}

Result<Uint128> LocalChain::token_balance(const Address& owner) {
  PAYCHAN_ASSIGN(auto reply, run_blocking(rpc_->call(deployment_.token, chain::erc20_balance_of_call(owner))));
  PAYCHAN_ASSIGN(auto balance, chain::decode_uint256(reply));
  auto small = balance.to_uint128();
  if (!small) return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "token balance above 2^128");
  return *small;
}

Result<engine::chain::ChannelBalances> LocalChain::channel(const Bytes32& channelId) {
  PAYCHAN_ASSIGN(auto reply, run_blocking(rpc_->call(deployment_.settlement, chain::channels_call(channelId))));
  return chain::decode_channels(reply);
}

Result<std::uint64_t> LocalChain::gas_used(const Bytes32& transaction) {
  PAYCHAN_ASSIGN(auto receipt, run_blocking(rpc_->receipt(transaction)));
  if (!receipt) return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "not mined: " + to_hex(transaction));
  return receipt->gasUsed;
}

Result<std::vector<Bytes32>> LocalChain::deposit_transactions() {
  engine::evm::LogFilter filter;
  filter.address = deployment_.settlement;
  filter.topics = {keccak256(as_bytes("Deposited(bytes32,address,uint128,uint128)"))};
  PAYCHAN_ASSIGN(auto logs, run_blocking(rpc_->logs(filter)));
  std::vector<Bytes32> out;
  for (const auto& log : logs)
    if (std::find(out.begin(), out.end(), log.transactionHash) == out.end()) out.push_back(log.transactionHash);
  return out;
}

Result<std::uint64_t> LocalChain::transfer_gas() {
  evm::TransactionSender holder(*rpc_, dev_key(kTransferFrom), anvil_->chain_id());
  evm::TxRequest transfer;
  transfer.to = deployment_.token;
  transfer.data = chain::encode_call("transfer(address,uint256)", {chain::AbiValue::address(dev_key(kTransferTo).address()),
                                                                   chain::AbiValue::uint(U256{10'000})});
  PAYCHAN_ASSIGN(auto sent, run_blocking(holder.submit(std::move(transfer))));
  PAYCHAN_ASSIGN(auto receipt, run_blocking(holder.wait(std::move(sent))));
  if (!receipt.success) return fail(ErrorCode::invalid_batch_settlement_evm_transaction_reverted, "ERC-20 transfer reverted");
  return receipt.gasUsed;
}

}  // namespace paychan::cli::demo
