#include "engine/evm/onchain_channel.hpp"

namespace paychan::engine::evm {

http::Awaitable<Result<OnchainChannel>> read_channel(RpcClient& rpc, const Address& contract, const Bytes32& channelId) {
  OnchainChannel out;
  auto balances = co_await rpc.call(contract, chain::channels_call(channelId));
  if (!balances) co_return balances.failure();
  auto decoded = chain::decode_channels(*balances);
  if (!decoded) co_return decoded.failure();
  out.balance = decoded->balance;
  out.totalClaimed = decoded->totalClaimed;
  auto nonce = co_await rpc.call(contract, chain::refund_nonce_call(channelId));
  if (!nonce) co_return nonce.failure();
  auto refundNonce = chain::decode_uint256(*nonce);
  if (!refundNonce) co_return refundNonce.failure();
  out.refundNonce = *refundNonce;
  auto pending = co_await rpc.call(contract, chain::pending_withdrawals_call(channelId));
  if (!pending) co_return pending.failure();
  auto withdrawal = chain::decode_pending_withdrawals(*pending);
  if (!withdrawal) co_return withdrawal.failure();
  out.pendingWithdrawal = *withdrawal;
  co_return out;
}

}  // namespace paychan::engine::evm
