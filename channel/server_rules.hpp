// The resource server's acceptance rules for batch-settlement payloads, as pure functions
// (spec: "Server: State & Forwarding" → "Request Processing", and the facilitator's "Verification
// Rules" that a server may apply locally to an EOA voucher while its on-chain mirror is fresh).
//
// A paid request runs them in this order (cheapest first, signature before anything that reveals
// channel state to the sender):
//   check_offer_terms → check_channel_id → check_voucher_signature → check_cumulative →
//   check_funding → (handler) → commit_charge
// Thread-safety: pure functions; the caller serializes per channel.
#pragma once

#include <cstdint>
#include <optional>

#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/channel_state.hpp"
#include "channel/ecdsa.hpp"
#include "channel/result.hpp"
#include "channel/types.hpp"

namespace paychan {

// What an offered PaymentRequirements fixes about the channel the client pays into.
struct OfferTerms {
  Address asset;               // → ChannelConfig.token
  Address payTo;               // → ChannelConfig.receiver
  Address receiverAuthorizer;  // → ChannelConfig.receiverAuthorizer (extra.receiverAuthorizer)
  std::uint64_t withdrawDelay = 0;  // extra.withdrawDelay
  Uint128 amount = 0;          // per-request maximum
};

enum class PayloadType { deposit, voucher, refund };

// Token, receiver, receiver authorizer and withdraw delay of `config` match the offer; the delay is
// within the contract's bounds. Codes: *_token_mismatch, *_receiver_mismatch,
// *_receiver_authorizer_mismatch, *_withdraw_delay_out_of_range, *_withdraw_delay_mismatch.
[[nodiscard]] Status check_offer_terms(const OfferTerms& offer, const ChannelConfig& config);

// `config` hashes to `claimedId` under the scheme's domain. Code: *_channel_id_mismatch.
[[nodiscard]] Status check_channel_id(const Bytes32& domainSeparator, const ChannelConfig& config,
                                      const Bytes32& claimedId);

enum class SignatureCheck {
  verified,              // ECDSA, recovered the channel's payerAuthorizer
  requires_facilitator,  // payerAuthorizer is zero: EIP-1271 against payer needs the chain
};
// The voucher is signed by the channel's payerAuthorizer and names `channelId`.
// Codes: *_voucher_signature, *_channel_id_mismatch (voucher for another channel).
[[nodiscard]] Result<SignatureCheck> check_voucher_signature(const Bytes32& domainSeparator,
                                                             const ChannelConfig& config,
                                                             const Bytes32& channelId,
                                                             const SignedVoucher& signed_voucher);
// The same check for a channel whose vouchers come one after another: `payerKey` is the
// payerAuthorizer's public key once a voucher revealed it (filled in here by the first recovery),
// and later vouchers are checked against it, which costs less than recovering the signer again.
// Such a voucher may carry the other v (see verify_signature): stored_voucher_signature gives it
// back with the one the chain and the client recover from.
[[nodiscard]] Result<SignatureCheck> check_voucher_signature(const Bytes32& domainSeparator,
                                                             const ChannelConfig& config,
                                                             const Bytes32& channelId,
                                                             const SignedVoucher& signed_voucher,
                                                             std::optional<PublicKey>& payerKey);

// The channel's stored voucher signature as the chain and clients check it: with the v under which
// it recovers to the payerAuthorizer (a voucher checked against the payer's known key may carry the
// other one); as it is for an EIP-1271 payer. nullopt when it recovers to the payerAuthorizer under
// neither v (or is not 65 bytes long). One or two recoveries: for claims and corrective 402s, not for every voucher.
[[nodiscard]] std::optional<WalletSignature> stored_voucher_signature(const Bytes32& domainSeparator,
                                                                const ChannelState& state);

// deposit/voucher: maxClaimableAmount == charged + amount; refund: maxClaimableAmount == charged.
// Code: *_cumulative_amount_mismatch (answered with a corrective 402).
[[nodiscard]] Status check_cumulative(PayloadType type, Uint128 chargedCumulativeAmount,
                                      Uint128 offeredAmount, Uint128 maxClaimableAmount);

// Against the mirrored on-chain state: the channel is funded (balance + deposit > 0), the voucher
// does not exceed it, and it lies above totalClaimed (at or above for refunds).
// Codes: *_channel_not_found, *_cumulative_exceeds_balance, *_cumulative_below_claimed.
[[nodiscard]] Status check_funding(PayloadType type, const OnchainChannelState& onchain,
                                   Uint128 depositAmount, Uint128 maxClaimableAmount);

// Whether the channel's mirror, synced at onchainSyncedAt, is young enough at `now` that no
// withdrawal it does not show can have come within `safetyMargin` of completing: one started after
// the sync completes no earlier than onchainSyncedAt + withdrawDelay. Only such a mirror may be
// served on without asking the chain (the sync time is the gate's clock, the withdrawal's the
// chain's: their skew must stay well inside the margin).
[[nodiscard]] bool mirror_covers_withdrawals(const ChannelState& state, std::uint64_t now,
                                             std::uint64_t safetyMargin) noexcept;

// A pending timed withdrawal completes at withdrawRequestedAt + withdrawDelay; the server stops
// serving once less than `safetyMargin` seconds remain (claims need time to land).
// Code: channel_withdrawal_pending.
[[nodiscard]] Status check_withdrawal_margin(const ChannelState& state, std::uint64_t now,
                                             std::uint64_t safetyMargin);

// After the handler succeeded: charge `actual` (≤ the offered amount) and keep the voucher that
// covers it. `state` is not modified; the new state is returned for the store to commit.
// Code: *_charge_exceeds_signed_cumulative.
[[nodiscard]] Result<ChannelState> commit_charge(const ChannelState& state, const SignedVoucher& voucher,
                                                 Uint128 offeredAmount, Uint128 actual, std::uint64_t now);

}  // namespace paychan
