#include "engine/facilitator/chain_view.hpp"

#include "channel/address.hpp"
#include "engine/chain/abi.hpp"
#include "engine/evm/onchain_channel.hpp"

namespace paychan::engine::facilitator {

ChainView::ChainView(NetworkOptions options, std::uint64_t chainId)
    : options_(std::move(options)),
      chainId_(chainId),
      domain_(batch_settlement_domain_separator(chainId, options_.batchSettlement)),
      rpc_(options_.rpcUrl) {}

http::Awaitable<Status> ChainView::check_node(std::optional<std::chrono::milliseconds> timeout) {
  std::optional<evm::RpcClient> quick;
  if (timeout) {
    http::ClientOptions bounded;
    bounded.connect_timeout = bounded.response_timeout = bounded.read_timeout = *timeout;
    quick.emplace(options_.rpcUrl, bounded);
  }
  auto id = co_await (quick ? *quick : rpc_).chain_id();
  if (!id) co_return fail(ErrorCode::invalid_config, options_.network + ": the node at " + options_.rpcUrl +
                                                         " did not answer eth_chainId: " + id.error().detail);
  if (*id != chainId_)
    co_return fail(ErrorCode::invalid_config, options_.network + ": the node at " + options_.rpcUrl + " is chain " +
                                                  std::to_string(*id));
  co_return Status{};
}

http::Awaitable<std::vector<std::string>> ChainView::check_setup(const Address& signer) {
  std::vector<std::string> warnings;
  const std::string network = options_.network + ": ";
  if (auto code = co_await rpc_.code(options_.batchSettlement); !code)
    warnings.push_back(network + "whether the batchSettlement contract is deployed could not be checked (eth_getCode: " +
                       code.error().detail + ")");
  else if (code->empty())
    warnings.push_back(network + "no contract at batchSettlement " + to_checksum_hex(options_.batchSettlement) +
                       ": every deposit, claim, refund and sweep will fail until it is deployed (check \"batchSettlement\")");
  if (auto funds = co_await rpc_.balance(signer); !funds)
    warnings.push_back(network + "the signer's balance could not be read (eth_getBalance: " + funds.error().detail + ")");
  else if (*funds == U256{})
    warnings.push_back(network + "the signer " + to_checksum_hex(signer) +
                       " holds nothing to pay gas with: every transaction will fail until it is funded");
  const auto check = [&](const Address& contract, std::string_view role, std::string_view getter,
                         const Address& expected, std::string_view expectedRole,
                         std::string_view fails) -> http::Awaitable<void> {
    const std::string where = options_.network + ": the " + std::string(role) + " at " + to_checksum_hex(contract);
    auto code = co_await rpc_.code(contract);
    if (!code) {
      warnings.push_back(where + " could not be checked (eth_getCode: " + code.error().detail + ")");
      co_return;
    }
    if (code->empty()) co_return;  // not deployed here: its deposits fail on their own, with their codes
    auto reply = co_await rpc_.call(contract, chain::encode_call(getter, {}));
    auto named = reply ? chain::AbiReader{*reply}.address(0) : Result<Address>{reply.failure()};
    if (!named) {
      warnings.push_back(where + " could not be checked (" + std::string(getter) + ": " + named.error().detail + ")");
    } else if (*named != expected) {
      warnings.push_back(where + " works with " + to_checksum_hex(*named) + " (" + std::string(getter) + "), but " +
                         std::string(expectedRole) + " is configured as " + to_checksum_hex(expected) + ": " +
                         std::string(fails) + " (check \"" + std::string(role) + "\" and \"" + std::string(expectedRole) +
                         "\" for this network)");
    }
  };
  co_await check(options_.erc3009Collector, "erc3009Collector", "x402BatchSettlement()", options_.batchSettlement,
                 "batchSettlement", "every ERC-3009 deposit will revert");
  co_await check(options_.permit2Collector, "permit2Collector", "x402BatchSettlement()", options_.batchSettlement,
                 "batchSettlement", "every Permit2 deposit will revert");
  co_await check(options_.permit2Collector, "permit2Collector", "PERMIT2()", options_.permit2, "permit2",
                 "every Permit2 deposit will be refused (permit2_invalid_signature)");
  co_return warnings;
}

http::Awaitable<Result<protocol::ChannelSnapshot>> ChainView::snapshot(const Bytes32& channelId) {
  auto onchain = co_await evm::read_channel(rpc_, options_.batchSettlement, channelId);
  if (!onchain) co_return onchain.failure();
  protocol::ChannelSnapshot s;
  s.channelId = channelId;
  s.balance = onchain->balance;
  s.totalClaimed = onchain->totalClaimed;
  s.withdrawRequestedAt = onchain->pendingWithdrawal.initiatedAt;
  s.refundNonce = onchain->refundNonce;
  co_return s;
}

http::Awaitable<Result<U256>> ChainView::token_balance(const Address& token, const Address& owner) {
  auto reply = co_await rpc_.call(token, chain::erc20_balance_of_call(owner));
  if (!reply) co_return reply.failure();
  co_return chain::decode_uint256(*reply);
}

http::Awaitable<Result<U256>> ChainView::token_allowance(const Address& token, const Address& owner,
                                                         const Address& spender) {
  auto reply = co_await rpc_.call(token, chain::erc20_allowance_call(owner, spender));
  if (!reply) co_return reply.failure();
  co_return chain::decode_uint256(*reply);
}

http::Awaitable<Result<chain::ReceiverTotals>> ChainView::receiver_totals(const Address& receiver,
                                                                          const Address& token) {
  auto reply = co_await rpc_.call(options_.batchSettlement, chain::receivers_call(receiver, token));
  if (!reply) co_return reply.failure();
  co_return chain::decode_receivers(*reply);
}

http::Awaitable<Result<std::uint64_t>> ChainView::now() {
  auto block = co_await rpc_.latest_block();
  if (!block) co_return block.failure();
  co_return block->timestamp;
}

http::Awaitable<Result<bool>> ChainView::signature_valid(const Address& signer, const Bytes32& digest,
                                                         const WalletSignature& signature, EcdsaRule rule) {
  // As the contract (and OpenZeppelin's SignatureChecker) decide: ECDSA for an account without
  // code, EIP-1271 alone for one with code, even when its key signed (an EIP-7702 account whose
  // delegate refuses raw ECDSA signatures would have every claim revert).
  // Both read in one round trip: the call is asked of an EOA too, and its answer then ignored.
  auto read = co_await rpc_.code_and_call(signer, chain::erc1271_is_valid_signature_call(digest, signature.bytes()));
  if (!read) co_return read.failure();
  if (read->code.empty()) {
    const Signature* ecdsa = signature.ecdsa();
    co_return ecdsa != nullptr && signed_by(digest, rule == EcdsaRule::either_s ? with_low_s(*ecdsa) : *ecdsa, signer);
  }
  if (!read->call) {
    // A wallet that reverts rejects the signature; only a failed read is an error.
    if (read->call.error().code == ErrorCode::invalid_batch_settlement_evm_transaction_reverted) co_return false;
    co_return read->call.failure();
  }
  co_return chain::is_erc1271_magic(*read->call);
}

}  // namespace paychan::engine::facilitator
