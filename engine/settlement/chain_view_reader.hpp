// The settle job's ChainReader over the facilitator's ChainView: the same three views
// (channels, pendingWithdrawals, refundNonce) the facilitator answers snapshots with.
// Thread-safety: as ChainView.
#pragma once

#include "engine/facilitator/chain_view.hpp"
#include "engine/settlement/settle_job.hpp"

namespace paychan::engine::settlement {

class ChainViewReader final : public ChainReader {
 public:
  explicit ChainViewReader(facilitator::ChainView& chain) : chain_(chain) {}
  http::Awaitable<Result<OnchainChannelState>> channel(const Bytes32& channelId) override {
    auto s = co_await chain_.snapshot(channelId);
    if (!s) co_return s.failure();
    co_return OnchainChannelState{s->balance, s->totalClaimed, s->withdrawRequestedAt, s->refundNonce};
  }

 private:
  facilitator::ChainView& chain_;
};

}  // namespace paychan::engine::settlement
