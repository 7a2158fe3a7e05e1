// Settlement-Overrides: the three amount forms of @x402/core's resolveSettlementOverrideAmount.
#include "protocol/settlement_overrides.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace paychan::protocol {
namespace {

Uint128 charge(std::string_view header, Uint128 offered = 10'000, unsigned decimals = 6) {
  auto r = parse_settlement_overrides(header, offered, decimals);
  EXPECT_TRUE(r) << header << ": " << r.error().to_string();
  return r ? *r : 0;
}

ErrorCode error(std::string_view header) {
  auto r = parse_settlement_overrides(header, 10'000, 6);
  EXPECT_FALSE(r) << header;
  return r ? ErrorCode::invalid_payload : r.error().code;
}

TEST(SettlementOverrides, AtomicAmount) {
  EXPECT_EQ(charge(R"({"amount":"4000"})"), Uint128{4000});
  EXPECT_EQ(charge(R"({"amount":"0"})"), Uint128{0});
}

TEST(SettlementOverrides, PercentOfTheOffer) {
  EXPECT_EQ(charge(R"({"amount":"50%"})"), Uint128{5000});
  EXPECT_EQ(charge(R"({"amount":"12.5%"})", 1000), Uint128{125});
  EXPECT_EQ(charge(R"({"amount":"33.33%"})", 100), Uint128{33}) << "rounded down";
  EXPECT_EQ(charge(R"({"amount":"100%"})"), Uint128{10'000});
}

TEST(SettlementOverrides, DollarsWithAssetDecimals) {
  EXPECT_EQ(charge(R"({"amount":"$0.004"})"), Uint128{4000});
  EXPECT_EQ(charge(R"({"amount":"$0.0000019"})"), Uint128{1}) << "below one atomic unit rounds down";
  EXPECT_EQ(charge(R"({"amount":"$1"})", 10'000, 18), Uint128{1'000'000'000'000'000'000ULL});
}

TEST(SettlementOverrides, MalformedIsATypedError) {
  EXPECT_EQ(error("not json"), ErrorCode::malformed_json);
  EXPECT_EQ(error(R"({"amount":4000})"), ErrorCode::malformed_json);
  EXPECT_EQ(error(R"({})"), ErrorCode::malformed_json);
  EXPECT_EQ(error(R"({"amount":"-1"})"), ErrorCode::malformed_decimal);
  EXPECT_EQ(error(R"({"amount":"1.5"})"), ErrorCode::malformed_decimal) << "atomic units are integers";
  EXPECT_EQ(error(R"({"amount":"1.234%"})"), ErrorCode::malformed_decimal);
  EXPECT_EQ(error(R"({"amount":"$"})"), ErrorCode::malformed_decimal);
  EXPECT_EQ(error(R"({"amount":"340282366920938463463374607431768211456"})"), ErrorCode::amount_overflow);
  EXPECT_EQ(error(std::string(2000, ' ')), ErrorCode::input_too_large);
}

RC_GTEST_PROP(SettlementOverrides, PercentNeverExceedsTheOfferAtOrBelow100, (std::uint64_t offered)) {
  const int bps = *rc::gen::inRange(0, 10'001);
  const std::string pct = std::to_string(bps / 100) + "." + (bps % 100 < 10 ? "0" : "") + std::to_string(bps % 100) + "%";
  auto r = parse_settlement_overrides(R"({"amount":")" + pct + "\"}", offered, 6);
  RC_ASSERT(r.ok());
  RC_ASSERT(*r <= Uint128{offered});
  RC_ASSERT(*r == Uint128{offered} * static_cast<Uint128>(bps) / 10'000);
}

}  // namespace
}  // namespace paychan::protocol
