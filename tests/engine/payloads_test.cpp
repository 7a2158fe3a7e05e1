// The agent's deposit authorization: executable for the offer's maxTimeoutSeconds, but never for
// longer than kMaxAuthorizationSeconds, whatever the (untrusted) offer says.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <limits>
#include <variant>

#include "engine/client/payloads.hpp"
#include "engine/gate/offers.hpp"
#include "gate_support.hpp"

namespace paychan::engine::client {
namespace {

ChosenOffer offer_with_timeout(std::uint64_t maxTimeoutSeconds) {
  protocol::PaymentRequired required;
  required.accepts.push_back(gate::OfferTable::build(gate::test::test_config()).offers().at(0).requirements);
  required.accepts[0].maxTimeoutSeconds = maxTimeoutSeconds;
  ClientPolicy any;
  any.maxPrice = kUint128Max;
  return *choose_offer(required, any);
}

// An offer whose deposits go by another transfer method (the reference's "permit2") is passed
// over: its facilitator would refuse the ERC-3009 authorization the agent signs. Another offer in
// the same 402 is taken; with none, the error says why.
TEST(ChooseOffer, AnOfferForPermit2DepositsIsPassedOverAndTheReasonGiven) {
  const auto plain = gate::OfferTable::build(gate::test::test_config()).offers().at(0).requirements;
  auto permit2 = plain;
  auto extra = *protocol::batch_settlement_extra(permit2);
  extra.assetTransferMethod = "permit2";
  permit2.extra = protocol::make_extra(extra);
  ClientPolicy any;
  any.maxPrice = kUint128Max;
  protocol::PaymentRequired required;
  required.accepts = {permit2};
  auto none = choose_offer(required, any);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::policy_no_acceptable_offer);
  EXPECT_NE(none.error().detail.find("eip3009"), std::string::npos) << none.error().detail;
  required.accepts = {permit2, plain};
  auto chosen = choose_offer(required, any);
  ASSERT_TRUE(chosen) << chosen.error().to_string();
  EXPECT_EQ(chosen->requirements, plain);
  extra.assetTransferMethod = "eip3009";
  permit2.extra = protocol::make_extra(extra);
  required.accepts = {permit2};
  EXPECT_TRUE(choose_offer(required, any)) << "eip3009 named is the default";
}

U256 valid_before(std::uint64_t maxTimeoutSeconds, std::uint64_t now) {
  const ClientKeys keys{gate::test::test_key(3), std::nullopt};
  const ChosenOffer offer = offer_with_timeout(maxTimeoutSeconds);
  const ChannelConfig config = channel_config_for(offer, keys, channel_salt(0));
  const auto payload = deposit_payload(offer, config, Bytes32{}, 10'000, 1'000'000, keys, now, Bytes32{});
  const auto& batch = std::get<protocol::BatchSettlementPayload>(payload.payload);
  return std::get<protocol::DepositPayload>(batch).deposit.erc3009Authorization->validBefore;
}

RC_GTEST_PROP(DepositAuthorization, LastsTheOffersTimeoutButNeverLongerThanTheCap, (std::uint64_t timeout)) {
  const std::uint64_t now = 1'800'000'000;
  const Uint128 lasts = std::min<Uint128>(timeout, kMaxAuthorizationSeconds);
  RC_ASSERT(valid_before(timeout, now) == U256{Uint128{now} + lasts});
}

TEST(DepositAuthorization, AnOfferAskingForForeverGetsAnHour) {
  EXPECT_EQ(valid_before(std::numeric_limits<std::uint64_t>::max(), 1'000), U256{Uint128{1'000 + 3'600}});
  EXPECT_EQ(valid_before(300, 1'000), U256{Uint128{1'300}});
}

}  // namespace
}  // namespace paychan::engine::client
