#include "engine/client/channel_chain.hpp"

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "engine/http/run_blocking.hpp"

namespace paychan::engine::client {

using http::run_blocking;

Result<std::unique_ptr<ChannelChain>> ChannelChain::connect(const std::string& rpcUrl, PrivateKey sender,
                                                            evm::WaitOptions wait) {
  evm::RpcClient probe(rpcUrl);
  auto id = run_blocking(probe.chain_id());
  if (!id) return id.failure();
  return std::unique_ptr<ChannelChain>(new ChannelChain(rpcUrl, std::move(sender), *id, wait));
}

ChannelChain::ChannelChain(const std::string& rpcUrl, PrivateKey sender, std::uint64_t chainId, evm::WaitOptions wait)
    : rpc_(std::make_unique<evm::RpcClient>(rpcUrl)),
      chainId_(chainId),
      sender_(*rpc_, std::move(sender), chainId),
      wait_(wait) {}

Result<evm::OnchainChannel> ChannelChain::read(const Bytes32& channelId) {
  return run_blocking(evm::read_channel(*rpc_, kBatchSettlementAddress, channelId));
}

Result<U256> ChannelChain::permit2_allowance(const Address& token, const Address& owner) {
  PAYCHAN_ASSIGN(const Bytes reply, run_blocking(rpc_->call(token, chain::erc20_allowance_call(owner, kPermit2Address))));
  return chain::decode_uint256(reply);
}

Result<unsigned> ChannelChain::token_decimals(const Address& token) {
  PAYCHAN_ASSIGN(const Bytes reply, run_blocking(rpc_->call(token, chain::erc20_decimals_call())));
  return chain::decode_decimals(reply);
}

Result<std::uint64_t> ChannelChain::time() {
  PAYCHAN_ASSIGN(const auto block, run_blocking(rpc_->latest_block()));
  return block.timestamp;
}

Result<chain::Receipt> ChannelChain::send_to(const Address& to, Bytes calldata) {
  evm::TxRequest request;
  request.to = to;
  request.data = std::move(calldata);
  PAYCHAN_ASSIGN(auto sent, run_blocking(sender_.submit(std::move(request))));
  PAYCHAN_ASSIGN(auto receipt, run_blocking(sender_.wait(std::move(sent), wait_)));
  if (!receipt.success)
    return fail(ErrorCode::invalid_batch_settlement_evm_transaction_reverted,
                "transaction " + to_hex(receipt.transactionHash) + " was mined but reverted");
  return receipt;
}

}  // namespace paychan::engine::client
