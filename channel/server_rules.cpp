#include "channel/server_rules.hpp"

#include "channel/ecdsa.hpp"
#include "channel/eip712.hpp"

namespace paychan {

Status check_offer_terms(const OfferTerms& offer, const ChannelConfig& config) {
  if (config.token != offer.asset)
    return fail(ErrorCode::invalid_batch_settlement_evm_token_mismatch, "channel token is not the offered asset");
  if (config.receiver != offer.payTo)
    return fail(ErrorCode::invalid_batch_settlement_evm_receiver_mismatch, "channel receiver is not payTo");
  if (config.receiverAuthorizer != offer.receiverAuthorizer)
    return fail(ErrorCode::invalid_batch_settlement_evm_receiver_authorizer_mismatch,
                "channel receiverAuthorizer is not the offered one");
  if (config.withdrawDelay < kMinWithdrawDelay || config.withdrawDelay > kMaxWithdrawDelay)
    return fail(ErrorCode::invalid_batch_settlement_evm_withdraw_delay_out_of_range,
                "withdrawDelay must be within 900..2592000 seconds");
  if (config.withdrawDelay != offer.withdrawDelay)
    return fail(ErrorCode::invalid_batch_settlement_evm_withdraw_delay_mismatch,
                "channel withdrawDelay is not the offered one");
  return {};
}

Status check_channel_id(const Bytes32& domainSeparator, const ChannelConfig& config, const Bytes32& claimedId) {
  if (channel_id(domainSeparator, config) != claimedId)
    return fail(ErrorCode::invalid_batch_settlement_evm_channel_id_mismatch,
                "channelConfig does not hash to the voucher's channelId");
  return {};
}

Result<SignatureCheck> check_voucher_signature(const Bytes32& domainSeparator, const ChannelConfig& config,
                                               const Bytes32& channelId, const SignedVoucher& signed_voucher) {
  std::optional<PublicKey> unknown;
  return check_voucher_signature(domainSeparator, config, channelId, signed_voucher, unknown);
}

Result<SignatureCheck> check_voucher_signature(const Bytes32& domainSeparator, const ChannelConfig& config,
                                               const Bytes32& channelId, const SignedVoucher& signed_voucher,
                                               std::optional<PublicKey>& payerKey) {
  if (signed_voucher.voucher.channelId != channelId)
    return fail(ErrorCode::invalid_batch_settlement_evm_channel_id_mismatch, "voucher names another channel");
  if (config.payerAuthorizer.is_zero()) return SignatureCheck::requires_facilitator;
  const Signature* ecdsa = signed_voucher.signature.ecdsa();
  if (ecdsa == nullptr)
    return fail(ErrorCode::invalid_batch_settlement_evm_voucher_signature,
                "the payerAuthorizer's voucher signature must be 65 bytes (ECDSA)");
  const Bytes32 digest = voucher_digest(domainSeparator, signed_voucher.voucher);
  bool valid = false;
  if (payerKey) {
    valid = verify_signature(digest, *ecdsa, *payerKey);
  } else if (auto signer = recover_signer_key(digest, *ecdsa);
             signer && signer->address == config.payerAuthorizer) {
    payerKey = signer->key;
    valid = true;
  }
  if (!valid)
    return fail(ErrorCode::invalid_batch_settlement_evm_voucher_signature,
                "voucher is not signed by the channel's payerAuthorizer");
  return SignatureCheck::verified;
}

std::optional<WalletSignature> stored_voucher_signature(const Bytes32& domainSeparator, const ChannelState& state) {
  if (state.config.payerAuthorizer.is_zero()) return state.signature;
  const Signature* ecdsa = state.signature.ecdsa();
  if (ecdsa == nullptr) return std::nullopt;
  auto fixed = with_recovery_id(voucher_digest(domainSeparator, Voucher{state.channelId, state.signedMaxClaimable}),
                                *ecdsa, state.config.payerAuthorizer);
  if (!fixed) return std::nullopt;
  return WalletSignature{*fixed};
}

Status check_cumulative(PayloadType type, Uint128 charged, Uint128 offeredAmount, Uint128 maxClaimable) {
  if (type == PayloadType::refund) {
    if (maxClaimable != charged)
      return fail(ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch,
                  "a refund voucher must equal the charged total " + to_decimal(charged));
    return {};
  }
  const auto expected = checked_add(charged, offeredAmount);
  if (!expected || maxClaimable != *expected)
    return fail(ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch,
                "maxClaimableAmount must be chargedCumulativeAmount " + to_decimal(charged) + " + amount " +
                    to_decimal(offeredAmount));
  return {};
}

Status check_funding(PayloadType type, const OnchainChannelState& onchain, Uint128 depositAmount,
                     Uint128 maxClaimable) {
  // A deposit in flight counts toward the balance; a sum past uint128 cannot exist on chain.
  const auto funded = checked_add(onchain.balance, depositAmount);
  if (!funded) return fail(ErrorCode::invalid_batch_settlement_evm_deposit_payload, "deposit overflows uint128");
  if (*funded == 0)
    return fail(ErrorCode::invalid_batch_settlement_evm_channel_not_found, "channel has no balance");
  if (maxClaimable > *funded)
    return fail(ErrorCode::invalid_batch_settlement_evm_cumulative_exceeds_balance,
                "maxClaimableAmount exceeds the channel balance " + to_decimal(*funded));
  const bool below = type == PayloadType::voucher ? maxClaimable <= onchain.totalClaimed
                                                  : maxClaimable < onchain.totalClaimed;
  if (below)
    return fail(ErrorCode::invalid_batch_settlement_evm_cumulative_below_claimed,
                "maxClaimableAmount is not above totalClaimed " + to_decimal(onchain.totalClaimed));
  return {};
}

bool mirror_covers_withdrawals(const ChannelState& state, std::uint64_t now, std::uint64_t safetyMargin) noexcept {
  const std::uint64_t delay = state.config.withdrawDelay;
  if (delay <= safetyMargin) return false;
  const std::uint64_t age = now > state.onchainSyncedAt ? now - state.onchainSyncedAt : 0;
  return age < delay - safetyMargin;
}

Status check_withdrawal_margin(const ChannelState& state, std::uint64_t now, std::uint64_t safetyMargin) {
  const std::uint64_t requested = state.onchain.withdrawRequestedAt;
  if (requested == 0) return {};
  // Saturating: a hostile mirror value must not wrap into "far in the future".
  const std::uint64_t completes =
      requested > UINT64_MAX - state.config.withdrawDelay ? UINT64_MAX : requested + state.config.withdrawDelay;
  if (now >= completes || completes - now < safetyMargin)
    return fail(ErrorCode::channel_withdrawal_pending, "a timed withdrawal completes within the safety margin");
  return {};
}

Result<ChannelState> commit_charge(const ChannelState& state, const SignedVoucher& voucher, Uint128 offeredAmount,
                                   Uint128 actual, std::uint64_t now) {
  const auto charged = checked_add(state.chargedCumulativeAmount, actual);
  if (actual > offeredAmount || !charged || *charged > voucher.voucher.maxClaimableAmount)
    return fail(ErrorCode::invalid_batch_settlement_evm_charge_exceeds_signed_cumulative,
                "charge " + to_decimal(actual) + " exceeds what the voucher covers");
  ChannelState next = state;
  next.chargedCumulativeAmount = *charged;
  next.signedMaxClaimable = voucher.voucher.maxClaimableAmount;
  next.signature = voucher.signature;
  next.lastRequestTimestamp = now;
  return next;
}

}  // namespace paychan
