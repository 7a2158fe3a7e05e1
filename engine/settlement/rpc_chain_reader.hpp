// The settle job's ChainReader over a node: evm::read_channel against the contract.
// Thread-safety: as RpcClient.
#pragma once

#include "engine/evm/onchain_channel.hpp"
#include "engine/settlement/settle_job.hpp"

namespace paychan::engine::settlement {

class RpcChainReader final : public ChainReader {
 public:
  RpcChainReader(evm::RpcClient& rpc, const Address& contract) : rpc_(rpc), contract_(contract) {}
  http::Awaitable<Result<OnchainChannelState>> channel(const Bytes32& channelId) override {
    auto c = co_await evm::read_channel(rpc_, contract_, channelId);
    if (!c) co_return c.failure();
    co_return c->state();
  }

 private:
  evm::RpcClient& rpc_;
  Address contract_;
};

}  // namespace paychan::engine::settlement
