// The client's checks of a server's answer (spec: "Client Verification Rules").
#include "channel/client_rules.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "channel/eip712.hpp"

namespace paychan {
namespace {

PrivateKey key(std::uint8_t tag) {
  Bytes32 secret{};
  secret.fill(tag);
  return *PrivateKey::from_bytes(secret);
}

Bytes32 channel(std::uint8_t tag) {
  Bytes32 id{};
  id.fill(tag);
  return id;
}

TEST(ChargeReport, HonestReportGivesTheNewTotal) {
  const ClientExpectation e{channel(1), 3200, 1000, Uint128{100'000}};
  auto total = check_charge_report(e, ChargeReport{channel(1), 700, 3900, 100'000});
  ASSERT_TRUE(total);
  EXPECT_EQ(*total, Uint128{3900});
}

TEST(ChargeReport, EachViolationHasItsCode) {
  const ClientExpectation e{channel(1), 3200, 1000, Uint128{100'000}};
  auto code = [&](ChargeReport r) { return check_charge_report(e, r).error().code; };
  EXPECT_EQ(code({channel(2), 700, 3900, 100'000}), ErrorCode::response_channel_mismatch);
  EXPECT_EQ(code({channel(1), 1001, 4201, 100'000}), ErrorCode::response_overcharged);
  EXPECT_EQ(code({channel(1), 700, 4000, 100'000}), ErrorCode::response_cumulative_mismatch);
  EXPECT_EQ(code({channel(1), 700, 3899, 100'000}), ErrorCode::response_cumulative_mismatch);
  EXPECT_EQ(code({channel(1), 700, 3900, 99'999}), ErrorCode::response_balance_mismatch);
}

TEST(ChargeReport, UnknownBalanceIsNotCheckedAgainstAnExpectation) {
  const ClientExpectation e{channel(1), 0, 1000, std::nullopt};
  EXPECT_TRUE(check_charge_report(e, ChargeReport{channel(1), 1000, 1000, 5'000'000}));
}

// A balance below what the server says it charged cannot be: it refuses vouchers above the balance.
// Such a report would have the agent top up a channel that has room, whatever it expected.
TEST(ChargeReport, ABalanceBelowTheRunningTotalIsAViolation) {
  for (const std::optional<Uint128> expected : {std::optional<Uint128>{}, std::optional<Uint128>{100'000}}) {
    ClientExpectation e{channel(1), 3200, 1000, expected};
    e.balanceIsCeiling = true;
    EXPECT_TRUE(check_charge_report(e, ChargeReport{channel(1), 700, 3900, 3900}));
    EXPECT_EQ(check_charge_report(e, ChargeReport{channel(1), 700, 3900, 3899}).error().code,
              ErrorCode::response_balance_mismatch);
  }
}

// After a refusal for want of funds the balance believed is a ceiling: the receiver may have refunded
// what was unclaimed (the reference server's channel manager does, unasked). Here the agent believed
// 50,000, the provider refunded down to the 40,000 claimed, the agent topped up 50,000.
TEST(ChargeReport, AfterARefusalForFundsALowerBalanceIsConsistentAHigherOneIsNot) {
  ClientExpectation e{channel(1), 40'000, 10'000, Uint128{100'000}};
  e.balanceIsCeiling = true;
  auto total = check_charge_report(e, ChargeReport{channel(1), 10'000, 50'000, 90'000});
  ASSERT_TRUE(total) << total.error().to_string();
  EXPECT_EQ(*total, Uint128{50'000});
  EXPECT_TRUE(check_charge_report(e, ChargeReport{channel(1), 10'000, 50'000, 100'000}));
  auto above = check_charge_report(e, ChargeReport{channel(1), 10'000, 50'000, 100'001});
  ASSERT_FALSE(above);
  EXPECT_EQ(above.error().code, ErrorCode::response_balance_mismatch);
  e.balanceIsCeiling = false;  // otherwise the balance must be exactly what the agent expects
  EXPECT_EQ(check_charge_report(e, ChargeReport{channel(1), 10'000, 50'000, 90'000}).error().code,
            ErrorCode::response_balance_mismatch);
}

TEST(NextVoucher, CeilingIsChargedPlusOfferAndNeverWraps) {
  auto v = next_voucher(channel(1), 3900, 1000);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->maxClaimableAmount, Uint128{4900});
  EXPECT_EQ(v->channelId, channel(1));
  EXPECT_EQ(next_voucher(channel(1), kUint128Max, 1).error().code, ErrorCode::amount_overflow);
}

struct Corrective {
  PrivateKey me = key(0x11);
  Bytes32 domain = batch_settlement_domain_separator(84532);
  SignedVoucher signed_by(const PrivateKey& k, Uint128 max, const Bytes32& id) const {
    SignedVoucher v{Voucher{id, max}, {}};
    v.signature = k.sign(voucher_digest(domain, v.voucher));
    return v;
  }
};

TEST(CorrectiveState, OwnVoucherIsAdopted) {
  Corrective c;
  auto total = adopt_corrective_state(c.domain, c.me.address(), 3200, channel(1), 3200,
                                      c.signed_by(c.me, 3200, channel(1)));
  ASSERT_TRUE(total);
  EXPECT_EQ(*total, Uint128{3200});
  // Dynamic pricing: the server charged less than the last ceiling.
  EXPECT_TRUE(adopt_corrective_state(c.domain, c.me.address(), 3200, channel(1), 2900, c.signed_by(c.me, 3200, channel(1))));
  // An older voucher than the highest sent: the server's state went back (in the client's favour).
  EXPECT_TRUE(adopt_corrective_state(c.domain, c.me.address(), 5000, channel(1), 3200, c.signed_by(c.me, 3200, channel(1))));
}

// The server refuses the voucher for 3300 it was just sent (the highest it may hold is 3200) and
// presents that very voucher as held and charged: the client's own signature, but adopting it
// would make the client pay 3400 for the request it retries.
TEST(CorrectiveState, AVoucherAboveWhatTheServerMayHoldIsRefused) {
  Corrective c;
  auto adopted = adopt_corrective_state(c.domain, c.me.address(), 3200, channel(1), 3300, c.signed_by(c.me, 3300, channel(1)));
  ASSERT_FALSE(adopted);
  EXPECT_EQ(adopted.error().code, ErrorCode::corrective_state_not_held);
  adopted = adopt_corrective_state(c.domain, c.me.address(), 3200, channel(1), 3200, c.signed_by(c.me, 3300, channel(1)));
  ASSERT_FALSE(adopted) << "a lower total does not make the voucher one the server may hold";
  EXPECT_EQ(adopted.error().code, ErrorCode::corrective_state_not_held);
}

TEST(CorrectiveState, TamperedStateIsRefused) {
  Corrective c;
  const Address me = c.me.address();
  auto code = [&](Uint128 charged, SignedVoucher v) {
    return adopt_corrective_state(c.domain, me, kUint128Max, channel(1), charged, v).error().code;
  };
  EXPECT_EQ(code(3200, c.signed_by(key(0x22), 3200, channel(1))), ErrorCode::corrective_state_unsigned);
  EXPECT_EQ(code(3200, c.signed_by(c.me, 3200, channel(2))), ErrorCode::corrective_state_unsigned);
  SignedVoucher inflated = c.signed_by(c.me, 3200, channel(1));
  inflated.voucher.maxClaimableAmount = 9000;
  EXPECT_EQ(code(9000, inflated), ErrorCode::corrective_state_unsigned);
  EXPECT_EQ(code(3201, c.signed_by(c.me, 3200, channel(1))), ErrorCode::corrective_state_unsigned);
}

// Property: a client that signs only after check_charge_report passes never lets the running total
// drift from the sum of the charges it accepted, whatever a (possibly hostile) server reports.
RC_GTEST_PROP(ClientRules, RunningTotalEqualsSumOfAcceptedCharges, ()) {
  const Uint128 offer = *rc::gen::inRange<std::uint64_t>(1, 1'000'000);
  Uint128 total = 0;
  Uint128 sum_accepted = 0;
  const auto steps = *rc::gen::inRange(1, 50);
  for (int i = 0; i < steps; ++i) {
    const Uint128 charge = *rc::gen::inRange<std::uint64_t>(0, 1'200'000);
    const std::int64_t lie = *rc::gen::element<std::int64_t>(0, 0, 0, 1, -1, 1000);
    const ChargeReport report{channel(1), charge, total + charge + static_cast<Uint128>(lie), 0};
    auto next = check_charge_report(ClientExpectation{channel(1), total, offer, std::nullopt}, report);
    if (!next) continue;
    RC_ASSERT(charge <= offer);
    sum_accepted += charge;
    total = *next;
    RC_ASSERT(total == sum_accepted);
  }
}

}  // namespace
}  // namespace paychan
