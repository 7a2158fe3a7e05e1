// Calldata for the x402BatchSettlement contract and its ERC-3009 deposit collector, and decoding of
// its views. Function signatures are the canonical contract's (ABI-compatible with ours in
// contracts/), so the same calls work against either.
// Thread-safety: pure functions.
#pragma once

#include <span>
#include <vector>

#include "channel/channel_state.hpp"
#include "channel/ecdsa.hpp"
#include "channel/types.hpp"
#include "engine/chain/abi.hpp"

namespace paychan::engine::chain {

// One row of claim / claimWithSignature: VoucherClaim{Voucher{channel, maxClaimableAmount}, signature, totalClaimed}.
struct VoucherClaim {
  ChannelConfig channel;
  Uint128 maxClaimableAmount = 0;
  WalletSignature signature;
  Uint128 totalClaimed = 0;  // the cumulative amount to claim up to (≤ maxClaimableAmount)
};

// ERC-3009 collectorData: abi.encode(uint256 validAfter, uint256 validBefore, uint256 salt, bytes signature).
[[nodiscard]] Bytes erc3009_collector_data(const U256& validAfter, const U256& validBefore, const Bytes32& salt,
                                           ByteView signature);

// Permit2 collectorData: abi.encode(uint256 nonce, uint256 deadline, bytes signature,
// bytes eip2612PermitData), the last empty (the payer approved Permit2 already).
[[nodiscard]] Bytes permit2_collector_data(const U256& nonce, const U256& deadline, ByteView signature);

[[nodiscard]] Bytes deposit_call(const ChannelConfig& config, Uint128 amount, const Address& collector,
                                 ByteView collectorData);
[[nodiscard]] Bytes claim_call(std::span<const VoucherClaim> claims);
[[nodiscard]] Bytes claim_with_signature_call(std::span<const VoucherClaim> claims, const Signature& authorizerSignature);
[[nodiscard]] Bytes settle_call(const Address& receiver, const Address& token);
[[nodiscard]] Bytes refund_with_signature_call(const ChannelConfig& config, Uint128 amount, const U256& nonce,
                                               const Signature& signature);
// The contract's OpenZeppelin Multicall: several of its own calls in one transaction, all or none
// (a refund with the claim that must precede it).
[[nodiscard]] Bytes multicall_call(std::span<const Bytes> calls);
[[nodiscard]] Bytes initiate_withdraw_call(const ChannelConfig& config, Uint128 amount);
[[nodiscard]] Bytes finalize_withdraw_call(const ChannelConfig& config);

// Views. Each *_call builds the eth_call data; each decode_* checks the reply.
[[nodiscard]] Bytes channels_call(const Bytes32& channelId);
[[nodiscard]] Bytes refund_nonce_call(const Bytes32& channelId);
[[nodiscard]] Bytes pending_withdrawals_call(const Bytes32& channelId);
[[nodiscard]] Bytes receivers_call(const Address& receiver, const Address& token);
[[nodiscard]] Bytes erc20_balance_of_call(const Address& owner);
[[nodiscard]] Bytes erc20_allowance_call(const Address& owner, const Address& spender);
// ERC-20 decimals(): how many decimal places the token's base unit is below its whole unit.
[[nodiscard]] Bytes erc20_decimals_call();
// ERC-20 approve(spender, amount): what the sender lets `spender` move of its tokens from now on.
[[nodiscard]] Bytes erc20_approve_call(const Address& spender, const U256& amount);
// EIP-1271 isValidSignature(bytes32,bytes) on a smart-contract wallet; is_erc1271_magic is true for
// a reply whose first word is its magic value 0x1626ba7e (anything else, short replies included,
// is false; words after the first are ignored, as by the contract).
[[nodiscard]] Bytes erc1271_is_valid_signature_call(const Bytes32& digest, ByteView signature);
[[nodiscard]] bool is_erc1271_magic(ByteView reply) noexcept;

struct ChannelBalances {
  Uint128 balance = 0;
  Uint128 totalClaimed = 0;
};
struct PendingWithdrawal {
  Uint128 amount = 0;
  std::uint64_t initiatedAt = 0;  // uint40 on chain
};
struct ReceiverTotals {
  Uint128 totalClaimed = 0;
  Uint128 totalSettled = 0;
};
[[nodiscard]] Result<ChannelBalances> decode_channels(ByteView reply);
[[nodiscard]] Result<U256> decode_uint256(ByteView reply);
// decimals()'s uint8. Error: invalid_payload for a reply that is not a uint8.
[[nodiscard]] Result<unsigned> decode_decimals(ByteView reply);
[[nodiscard]] Result<PendingWithdrawal> decode_pending_withdrawals(ByteView reply);
[[nodiscard]] Result<ReceiverTotals> decode_receivers(ByteView reply);

}  // namespace paychan::engine::chain
