// The server's acceptance rules (spec: "Request Processing" and the facilitator's "Verification
// Rules"), each code exercised by a payload that breaks exactly one rule.
#include "channel/server_rules.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "channel/ecdsa.hpp"
#include "channel/eip712.hpp"

namespace paychan {
namespace {

Address addr(std::uint8_t tag) {
  Address a;
  a.bytes.fill(tag);
  return a;
}

PrivateKey key(std::uint8_t tag) {
  Bytes32 secret{};
  secret.fill(tag);
  return *PrivateKey::from_bytes(secret);
}

struct Fixture {
  PrivateKey payer = key(0x11);
  Bytes32 domain = batch_settlement_domain_separator(31337);
  ChannelConfig config{payer.address(), payer.address(), addr(0xaa), addr(0xbb), addr(0xcc), 900, Bytes32{}};
  OfferTerms offer{addr(0xcc), addr(0xaa), addr(0xbb), 900, 10'000};
  Bytes32 id = channel_id(domain, config);

  SignedVoucher sign(Uint128 max, const PrivateKey& by) const {
    SignedVoucher v{Voucher{id, max}, {}};
    v.signature = by.sign(voucher_digest(domain, v.voucher));
    return v;
  }
  SignedVoucher sign(Uint128 max) const { return sign(max, payer); }
};

ErrorCode code(const Status& s) { return s.error().code; }

TEST(OfferTerms, MatchingConfigPasses) {
  Fixture f;
  EXPECT_TRUE(check_offer_terms(f.offer, f.config));
}

TEST(OfferTerms, EachMismatchHasItsCode) {
  Fixture f;
  auto with = [&](auto mutate) {
    ChannelConfig c = f.config;
    mutate(c);
    return code(check_offer_terms(f.offer, c));
  };
  EXPECT_EQ(with([](ChannelConfig& c) { c.token = addr(1); }), ErrorCode::invalid_batch_settlement_evm_token_mismatch);
  EXPECT_EQ(with([](ChannelConfig& c) { c.receiver = addr(1); }),
            ErrorCode::invalid_batch_settlement_evm_receiver_mismatch);
  EXPECT_EQ(with([](ChannelConfig& c) { c.receiverAuthorizer = addr(1); }),
            ErrorCode::invalid_batch_settlement_evm_receiver_authorizer_mismatch);
  EXPECT_EQ(with([](ChannelConfig& c) { c.withdrawDelay = 901; }),
            ErrorCode::invalid_batch_settlement_evm_withdraw_delay_mismatch);
  EXPECT_EQ(with([](ChannelConfig& c) { c.withdrawDelay = 899; }),
            ErrorCode::invalid_batch_settlement_evm_withdraw_delay_out_of_range);
  EXPECT_EQ(with([](ChannelConfig& c) { c.withdrawDelay = kMaxWithdrawDelay + 1; }),
            ErrorCode::invalid_batch_settlement_evm_withdraw_delay_out_of_range);
}

TEST(ChannelId, ConfigMustHashToClaimedId) {
  Fixture f;
  EXPECT_TRUE(check_channel_id(f.domain, f.config, f.id));
  ChannelConfig other = f.config;
  other.salt[31] = 1;
  EXPECT_EQ(code(check_channel_id(f.domain, other, f.id)), ErrorCode::invalid_batch_settlement_evm_channel_id_mismatch);
  // The same config on another chain is another channel.
  EXPECT_FALSE(check_channel_id(batch_settlement_domain_separator(8453), f.config, f.id));
}

TEST(VoucherSignature, PayerAuthorizerSignatureVerifies) {
  Fixture f;
  auto r = check_voucher_signature(f.domain, f.config, f.id, f.sign(10'000));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, SignatureCheck::verified);
}

TEST(VoucherSignature, ForeignSignerIsRejected) {
  Fixture f;
  auto r = check_voucher_signature(f.domain, f.config, f.id, f.sign(10'000, key(0x22)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_batch_settlement_evm_voucher_signature);
}

TEST(VoucherSignature, SignatureOverAnotherAmountIsRejected) {
  Fixture f;
  SignedVoucher v = f.sign(10'000);
  v.voucher.maxClaimableAmount = 20'000;
  EXPECT_FALSE(check_voucher_signature(f.domain, f.config, f.id, v));
}

TEST(VoucherSignature, VoucherForAnotherChannelIsRejected) {
  Fixture f;
  SignedVoucher v = f.sign(10'000);
  Bytes32 other = f.id;
  other[0] ^= 1;
  auto r = check_voucher_signature(f.domain, f.config, other, v);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_batch_settlement_evm_channel_id_mismatch);
}

TEST(VoucherSignature, ZeroPayerAuthorizerGoesToTheFacilitator) {
  Fixture f;
  f.config.payerAuthorizer = Address{};
  auto r = check_voucher_signature(f.domain, f.config, f.id, f.sign(10'000));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, SignatureCheck::requires_facilitator);
}

TEST(Cumulative, VoucherMustBeChargedPlusAmount) {
  EXPECT_TRUE(check_cumulative(PayloadType::voucher, 700, 1000, 1700));
  EXPECT_TRUE(check_cumulative(PayloadType::deposit, 0, 1000, 1000));
  EXPECT_EQ(code(check_cumulative(PayloadType::voucher, 700, 1000, 2000)),
            ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch);
  EXPECT_FALSE(check_cumulative(PayloadType::voucher, 700, 1000, 1699));
  // An offer that would overflow the running total can never be met.
  EXPECT_FALSE(check_cumulative(PayloadType::voucher, kUint128Max, 1, 0));
}

TEST(Cumulative, RefundVoucherIsZeroCharge) {
  EXPECT_TRUE(check_cumulative(PayloadType::refund, 3200, 1000, 3200));
  EXPECT_FALSE(check_cumulative(PayloadType::refund, 3200, 1000, 4200));
}

TEST(Funding, Boundaries) {
  const OnchainChannelState chain{1000, 300, 0, U256{}};
  EXPECT_TRUE(check_funding(PayloadType::voucher, chain, 0, 1000));
  EXPECT_TRUE(check_funding(PayloadType::voucher, chain, 0, 301));
  EXPECT_EQ(code(check_funding(PayloadType::voucher, chain, 0, 1001)),
            ErrorCode::invalid_batch_settlement_evm_cumulative_exceeds_balance);
  EXPECT_EQ(code(check_funding(PayloadType::voucher, chain, 0, 300)),
            ErrorCode::invalid_batch_settlement_evm_cumulative_below_claimed);
  // Refund and deposit vouchers may equal totalClaimed.
  EXPECT_TRUE(check_funding(PayloadType::refund, chain, 0, 300));
  EXPECT_TRUE(check_funding(PayloadType::deposit, chain, 0, 300));
  EXPECT_FALSE(check_funding(PayloadType::refund, chain, 0, 299));
  // A deposit in flight counts toward the balance.
  EXPECT_TRUE(check_funding(PayloadType::deposit, chain, 500, 1500));
  EXPECT_FALSE(check_funding(PayloadType::deposit, chain, 500, 1501));
}

TEST(Funding, EmptyChannelIsNotFound) {
  const OnchainChannelState empty{};
  EXPECT_EQ(code(check_funding(PayloadType::voucher, empty, 0, 1)),
            ErrorCode::invalid_batch_settlement_evm_channel_not_found);
  EXPECT_TRUE(check_funding(PayloadType::deposit, empty, 1000, 1000));
}

TEST(Funding, DepositOverflowingUint128IsMalformed) {
  const OnchainChannelState chain{kUint128Max, 0, 0, U256{}};
  EXPECT_EQ(code(check_funding(PayloadType::deposit, chain, 1, 1)),
            ErrorCode::invalid_batch_settlement_evm_deposit_payload);
}

TEST(WithdrawalMargin, ServesUntilTheMargin) {
  Fixture f;
  ChannelState s{f.id, f.config};
  EXPECT_TRUE(check_withdrawal_margin(s, 5000, 300));
  s.onchain.withdrawRequestedAt = 1000;  // completes at 1900
  EXPECT_TRUE(check_withdrawal_margin(s, 1599, 300));
  EXPECT_EQ(code(check_withdrawal_margin(s, 1601, 300)), ErrorCode::channel_withdrawal_pending);
  EXPECT_FALSE(check_withdrawal_margin(s, 1900, 0));
  s.onchain.withdrawRequestedAt = UINT64_MAX;  // hostile mirror: saturates, never wraps
  EXPECT_TRUE(check_withdrawal_margin(s, 1000, 300));
}

// What a mirror that covers withdrawals promises: any withdrawal started after its sync, which it
// cannot show, is still outside the safety margin. And it covers no longer than needed: once it
// stops, a withdrawal started at the sync is inside the margin a second later.
RC_GTEST_PROP(WithdrawalMargin, ACoveringMirrorMissesNoWithdrawalInsideTheMargin, ()) {
  Fixture f;
  ChannelState s{f.id, f.config};
  s.config.withdrawDelay = *rc::gen::inRange<std::uint64_t>(kMinWithdrawDelay, kMaxWithdrawDelay + 1);
  const auto margin = *rc::gen::inRange<std::uint64_t>(0, s.config.withdrawDelay + 10);
  s.onchainSyncedAt = *rc::gen::inRange<std::uint64_t>(0, std::uint64_t{1} << 40);
  const auto now = s.onchainSyncedAt + *rc::gen::inRange<std::uint64_t>(0, 2 * s.config.withdrawDelay);
  const auto started = s.onchainSyncedAt + *rc::gen::inRange<std::uint64_t>(1, 2 * s.config.withdrawDelay);
  ChannelState actual = s;  // the chain, with the withdrawal the mirror does not show
  actual.onchain.withdrawRequestedAt = started;
  if (mirror_covers_withdrawals(s, now, margin)) RC_ASSERT(check_withdrawal_margin(actual, now, margin).ok());
  actual.onchain.withdrawRequestedAt = s.onchainSyncedAt;
  if (!mirror_covers_withdrawals(s, now, margin)) RC_ASSERT(!check_withdrawal_margin(actual, now + 1, margin).ok());
}

TEST(WithdrawalMargin, AMirrorCoversUntilDelayLessMarginHasPassed) {
  Fixture f;
  ChannelState s{f.id, f.config};
  s.config.withdrawDelay = 3600;
  s.onchainSyncedAt = 10'000;
  EXPECT_TRUE(mirror_covers_withdrawals(s, 10'000, 600));
  EXPECT_TRUE(mirror_covers_withdrawals(s, 12'999, 600));
  EXPECT_FALSE(mirror_covers_withdrawals(s, 13'000, 600));
  EXPECT_TRUE(mirror_covers_withdrawals(s, 9'000, 600)) << "a clock that went back: the mirror is new";
  EXPECT_FALSE(mirror_covers_withdrawals(s, 10'000, 3600)) << "a margin of the whole delay: never";
  s.onchainSyncedAt = 0;  // never synced (or distrusted)
  EXPECT_FALSE(mirror_covers_withdrawals(s, 13'000, 600));
}

TEST(CommitCharge, DynamicPriceWithinTheVoucher) {
  Fixture f;
  ChannelState s{f.id, f.config};
  s.chargedCumulativeAmount = 700;
  const SignedVoucher v = f.sign(1700);
  auto next = commit_charge(s, v, 1000, 400, 42);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->chargedCumulativeAmount, Uint128{1100});
  EXPECT_EQ(next->signedMaxClaimable, Uint128{1700});
  EXPECT_EQ(next->signature, v.signature);
  EXPECT_EQ(next->lastRequestTimestamp, 42u);
  EXPECT_EQ(s.chargedCumulativeAmount, Uint128{700}) << "the input state is left as it was";
}

TEST(CommitCharge, ChargeAboveOfferOrVoucherIsRefused) {
  Fixture f;
  ChannelState s{f.id, f.config};
  s.chargedCumulativeAmount = 700;
  auto over_offer = commit_charge(s, f.sign(1700), 1000, 1001, 0);
  ASSERT_FALSE(over_offer);
  EXPECT_EQ(over_offer.error().code, ErrorCode::invalid_batch_settlement_evm_charge_exceeds_signed_cumulative);
  EXPECT_FALSE(commit_charge(s, f.sign(1500), 1000, 1000, 0)) << "voucher covers only 800 more";
}

// Property: whatever sequence of offers, charges and forged or stale vouchers arrives, a server
// that follows the rules keeps chargedCumulativeAmount monotonic, never above the signed voucher it
// holds, and never above the on-chain balance.
RC_GTEST_PROP(ServerRules, RunningTotalStaysWithinSignedAndFunded, ()) {
  Fixture f;
  const Uint128 balance = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
  OnchainChannelState chain{balance, 0, 0, U256{}};
  ChannelState s{f.id, f.config};
  const auto steps = *rc::gen::inRange(1, 40);
  for (int i = 0; i < steps; ++i) {
    const Uint128 offered = *rc::gen::inRange<std::uint64_t>(0, 100'000);
    const Uint128 actual = *rc::gen::inRange<std::uint64_t>(0, 120'000);
    // The client usually pays right, sometimes with a stale or inflated ceiling.
    const std::int64_t skew = *rc::gen::element<std::int64_t>(0, 0, 0, -1, 1, 50'000);
    const Uint128 max = s.chargedCumulativeAmount + offered + static_cast<Uint128>(skew);
    const bool forged = *rc::gen::inRange(0, 10) == 0;
    const SignedVoucher v = forged ? f.sign(max, key(0x33)) : f.sign(max);

    const Uint128 before = s.chargedCumulativeAmount;
    const bool accepted = check_voucher_signature(f.domain, f.config, f.id, v).ok() &&
                          check_cumulative(PayloadType::voucher, s.chargedCumulativeAmount, offered, max).ok() &&
                          check_funding(PayloadType::voucher, chain, 0, max).ok();
    if (accepted) {
      RC_ASSERT(!forged);
      if (auto next = commit_charge(s, v, offered, actual, 0)) s = *next;
    }
    RC_ASSERT(s.chargedCumulativeAmount >= before);
    RC_ASSERT(s.chargedCumulativeAmount <= chain.balance);
    if (s.chargedCumulativeAmount > 0) RC_ASSERT(s.chargedCumulativeAmount <= s.signedMaxClaimable);
  }
}

}  // namespace
}  // namespace paychan
