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
