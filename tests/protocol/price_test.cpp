#include "protocol/price.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace paychan::protocol {
namespace {

TEST(Price, ParsesDollarsAndAtomicUnits) {
  EXPECT_EQ(*parse_price("$0.01", 6), Uint128{10'000});
  EXPECT_EQ(*parse_price("$0.0000019", 6), Uint128{1}) << "rounded down";
  EXPECT_EQ(*parse_price("10000", 6), Uint128{10'000});
  EXPECT_FALSE(parse_price("$", 6));
  EXPECT_FALSE(parse_price("-1", 6));
  EXPECT_FALSE(parse_price("1e3", 6));
}

TEST(Price, AnExactPriceRefusesDigitsFinerThanTheToken) {
  EXPECT_EQ(*parse_exact_price("$0.01", 6), Uint128{10'000});
  EXPECT_EQ(*parse_exact_price("$0.000001", 6), Uint128{1});
  EXPECT_EQ(*parse_exact_price("$0.0000010000", 6), Uint128{1}) << "trailing zeros are exact";
  EXPECT_EQ(*parse_exact_price("$5", 6), Uint128{5'000'000});
  EXPECT_EQ(*parse_exact_price("123", 6), Uint128{123});
  for (const char* finer : {"$0.0000009", "$0.0000019", "$1.1234567"}) {
    auto r = parse_exact_price(finer, 6);
    ASSERT_FALSE(r) << finer;
    EXPECT_EQ(r.error().code, ErrorCode::malformed_decimal);
  }
  EXPECT_FALSE(parse_exact_price("$0.5", 0));
  EXPECT_FALSE(parse_exact_price("$x", 6));
}

TEST(Price, FormatsEveryDecimal) {
  EXPECT_EQ(format_price(10'000, 6), "$0.010000");
  EXPECT_EQ(format_price(0, 6), "$0.000000");
  EXPECT_EQ(format_price(123'456'789, 6), "$123.456789");
  EXPECT_EQ(format_price(5, 0), "$5");
  EXPECT_EQ(format_price(~Uint128{0}, 18), "$340282366920938463463.374607431768211455");
}

RC_GTEST_PROP(Price, FormatThenParseIsTheIdentity, (std::uint64_t hi, std::uint64_t lo)) {
  const Uint128 v = (Uint128{hi} << 64) | lo;
  const auto decimals = *rc::gen::inRange(0u, 19u);
  const auto back = parse_price(format_price(v, decimals), decimals);
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == v);
}

}  // namespace
}  // namespace paychan::protocol
