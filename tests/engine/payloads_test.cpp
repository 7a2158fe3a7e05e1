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

// An offer whose deposits go by a transfer method paychan does not sign is passed over: its
// facilitator would refuse both kinds of authorization. Another offer in the same 402 is taken;
// with none, the error says why. "permit2" and "eip3009" (the default, named) are taken.
TEST(ChooseOffer, AnOfferForAnUnknownTransferMethodIsPassedOverAndTheReasonGiven) {
  const auto plain = gate::OfferTable::build(gate::test::test_config()).offers().at(0).requirements;
  const auto with_method = [&](const char* method) {
    auto r = plain;
    auto extra = *protocol::batch_settlement_extra(r);
    extra.assetTransferMethod = method;
    r.extra = protocol::make_extra(extra);
    return r;
  };
  ClientPolicy any;
  any.maxPrice = kUint128Max;
  protocol::PaymentRequired required;
  required.accepts = {with_method("eip7702-magic")};
  auto none = choose_offer(required, any);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::policy_no_acceptable_offer);
  EXPECT_NE(none.error().detail.find("eip3009 and permit2"), std::string::npos) << none.error().detail;
  required.accepts = {with_method("eip7702-magic"), plain};
  auto chosen = choose_offer(required, any);
  ASSERT_TRUE(chosen) << chosen.error().to_string();
  EXPECT_EQ(chosen->requirements, plain);
  for (const char* method : {"eip3009", "permit2"}) {
    required.accepts = {with_method(method)};
    auto taken = choose_offer(required, any);
    ASSERT_TRUE(taken) << method;
    EXPECT_EQ(taken->extra.assetTransferMethod, std::optional<std::string>{method});
  }
  // An ERC-3009 offer needs no approval of Permit2: it is taken first, wherever it stands.
  required.accepts = {with_method("permit2"), plain};
  auto preferred = choose_offer(required, any);
  ASSERT_TRUE(preferred);
  EXPECT_EQ(preferred->requirements, plain);
}

// For a Permit2 offer the deposit is Permit2's PermitWitnessTransferFrom, signed by the payer: to
// the Permit2 collector, of the deposit in the offer's asset, the channel its witness, the random
// salt its nonce, its deadline the ERC-3009 authorization's validBefore; no ERC-3009 part.
TEST(DepositPayload, APermit2OfferGetsThePayersPermitWitnessingTheChannel) {
  const ClientKeys keys{gate::test::test_key(3), gate::test::test_key(4)};
  ChosenOffer offer = offer_with_timeout(600);
  offer.extra.assetTransferMethod = "permit2";
  const ChannelConfig config = channel_config_for(offer, keys, channel_salt(0));
  const Bytes32 id = channel_id(batch_settlement_domain_separator(offer.chainId), config);
  Bytes32 salt{};
  salt[31] = 7;
  const auto payload = deposit_payload(offer, config, id, 10'000, 1'000'000, keys, 1'000, salt);
  const auto& d = std::get<protocol::DepositPayload>(std::get<protocol::BatchSettlementPayload>(payload.payload));
  EXPECT_FALSE(d.deposit.erc3009Authorization);
  ASSERT_TRUE(d.deposit.permit2Authorization);
  const auto& p = *d.deposit.permit2Authorization;
  EXPECT_EQ(p.from, keys.payer.address());
  EXPECT_EQ(p.token, offer.asset);
  EXPECT_EQ(p.amount, U256{1'000'000});
  EXPECT_EQ(p.spender, kPermit2CollectorAddress);
  EXPECT_EQ(p.nonce, U256{7});
  EXPECT_EQ(p.deadline, U256{1'600});
  EXPECT_EQ(p.channelId, id);
  const Bytes32 digest = permit2_deposit_digest(permit2_domain_separator(offer.chainId), p.permit());
  EXPECT_TRUE(signed_by(digest, p.signature, keys.payer.address())) << "the payer signs it, not the voucher key";
  EXPECT_TRUE(signed_by(voucher_digest(batch_settlement_domain_separator(offer.chainId), d.voucher.voucher),
                        d.voucher.signature, keys.payerAuthorizer->address()));
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
