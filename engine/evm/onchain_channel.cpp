#include "engine/evm/onchain_channel.hpp"

namespace paychan::engine::evm {

http::Awaitable<Result<OnchainChannel>> read_channel(RpcClient& rpc, const Address& contract, const Bytes32& channelId) {
  // One batch, one round trip: the facilitator reads this for every deposit it verifies.
  std::vector<Bytes> views{chain::channels_call(channelId), chain::refund_nonce_call(channelId),
                           chain::pending_withdrawals_call(channelId)};
  auto replies = co_await rpc.calls(contract, std::move(views));
  if (!replies) co_return replies.failure();
  const auto& r = *replies;
  auto balances = chain::decode_channels(r[0]);
  if (!balances) co_return balances.failure();
  auto refundNonce = chain::decode_uint256(r[1]);
  if (!refundNonce) co_return refundNonce.failure();
  auto withdrawal = chain::decode_pending_withdrawals(r[2]);
  if (!withdrawal) co_return withdrawal.failure();
  OnchainChannel out;
  out.balance = balances->balance;
  out.totalClaimed = balances->totalClaimed;
  out.refundNonce = *refundNonce;
  out.pendingWithdrawal = *withdrawal;
  co_return out;
}

}  // namespace paychan::engine::evm
