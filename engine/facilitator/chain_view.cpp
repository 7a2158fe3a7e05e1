#include "engine/facilitator/chain_view.hpp"

namespace paychan::engine::facilitator {

ChainView::ChainView(NetworkOptions options, std::uint64_t chainId)
    : options_(std::move(options)),
      chainId_(chainId),
      domain_(batch_settlement_domain_separator(chainId, options_.batchSettlement)),
      rpc_(options_.rpcUrl) {}

http::Awaitable<Status> ChainView::check_node() {
  auto id = co_await rpc_.chain_id();
  if (!id) co_return fail(ErrorCode::invalid_config, options_.network + ": the node at " + options_.rpcUrl +
                                                         " did not answer eth_chainId: " + id.error().detail);
  if (*id != chainId_)
    co_return fail(ErrorCode::invalid_config, options_.network + ": the node at " + options_.rpcUrl + " is chain " +
                                                  std::to_string(*id));
  co_return Status{};
}

http::Awaitable<Result<Bytes>> ChainView::view(const Address& to, Bytes data) {
  co_return co_await rpc_.call(to, data);
}

http::Awaitable<Result<protocol::ChannelSnapshot>> ChainView::snapshot(const Bytes32& channelId) {
  const Address& c = options_.batchSettlement;
  auto channel = co_await view(c, chain::channels_call(channelId));
  if (!channel) co_return channel.failure();
  auto balances = chain::decode_channels(*channel);
  if (!balances) co_return balances.failure();
  auto withdrawal = co_await view(c, chain::pending_withdrawals_call(channelId));
  if (!withdrawal) co_return withdrawal.failure();
  auto pending = chain::decode_pending_withdrawals(*withdrawal);
  if (!pending) co_return pending.failure();
  auto nonce_reply = co_await view(c, chain::refund_nonce_call(channelId));
  if (!nonce_reply) co_return nonce_reply.failure();
  auto nonce = chain::decode_uint256(*nonce_reply);
  if (!nonce) co_return nonce.failure();
  protocol::ChannelSnapshot s;
  s.channelId = channelId;
  s.balance = balances->balance;
  s.totalClaimed = balances->totalClaimed;
  s.withdrawRequestedAt = pending->initiatedAt;
  s.refundNonce = *nonce;
  co_return s;
}

http::Awaitable<Result<U256>> ChainView::token_balance(const Address& token, const Address& owner) {
  auto reply = co_await view(token, chain::erc20_balance_of_call(owner));
  if (!reply) co_return reply.failure();
  co_return chain::decode_uint256(*reply);
}

http::Awaitable<Result<chain::ReceiverTotals>> ChainView::receiver_totals(const Address& receiver,
                                                                          const Address& token) {
  auto reply = co_await view(options_.batchSettlement, chain::receivers_call(receiver, token));
  if (!reply) co_return reply.failure();
  co_return chain::decode_receivers(*reply);
}

http::Awaitable<Result<std::uint64_t>> ChainView::now() {
  auto block = co_await rpc_.latest_block();
  if (!block) co_return block.failure();
  co_return block->timestamp;
}

http::Awaitable<Result<bool>> ChainView::signature_valid(const Address& signer, const Bytes32& digest,
                                                         const Signature& signature) {
  if (signed_by(digest, signature, signer)) co_return true;
  // Not an ECDSA signature of `signer`: a smart-contract wallet may still accept it (EIP-1271).
  auto code = co_await rpc_.code(signer);
  if (!code) co_return code.failure();
  if (code->empty()) co_return false;
  auto reply = co_await rpc_.call(signer, chain::erc1271_is_valid_signature_call(digest, signature));
  if (!reply) {
    // A wallet that reverts rejects the signature; only a failed read is an error.
    if (reply.error().code == ErrorCode::invalid_batch_settlement_evm_transaction_reverted) co_return false;
    co_return reply.failure();
  }
  co_return chain::is_erc1271_magic(*reply);
}

}  // namespace paychan::engine::facilitator
