// Exact integers: canonical decimal codecs for uint128 / uint256, checked arithmetic.
#include "channel/amount.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "generators.hpp"

namespace paychan {
namespace {

TEST(Uint128, Boundaries) {
  EXPECT_EQ(*parse_uint128("0"), Uint128{0});
  EXPECT_EQ(*parse_uint128("340282366920938463463374607431768211455"), kUint128Max);
  EXPECT_EQ(parse_uint128("340282366920938463463374607431768211456").error().code, ErrorCode::amount_overflow);
  EXPECT_EQ(parse_uint128("1000000000000000000000000000000000000000").error().code, ErrorCode::amount_overflow);
  EXPECT_EQ(to_decimal(kUint128Max), "340282366920938463463374607431768211455");
  EXPECT_EQ(to_decimal(0), "0");
}

TEST(Uint128, NonCanonicalFormsAreRefused) {
  for (std::string_view bad : {"", "01", "00", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "１"})
    EXPECT_EQ(parse_uint128(bad).error().code, ErrorCode::malformed_decimal) << bad;
}

TEST(Uint128, CheckedArithmetic) {
  EXPECT_EQ(*checked_add(1, 2), Uint128{3});
  EXPECT_FALSE(checked_add(kUint128Max, 1));
  EXPECT_EQ(*checked_add(kUint128Max, 0), kUint128Max);
  EXPECT_EQ(*checked_sub(5, 5), Uint128{0});
  EXPECT_FALSE(checked_sub(4, 5));
}

TEST(U256, Boundaries) {
  const std::string max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
  auto v = U256::parse(max);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->to_decimal(), max);
  EXPECT_FALSE(v->next());
  EXPECT_EQ(U256::parse("115792089237316195423570985008687907853269984665640564039457584007913129639936").error().code,
            ErrorCode::amount_overflow);
  EXPECT_EQ(U256::parse("340282366920938463463374607431768211456")->to_decimal(), "340282366920938463463374607431768211456");
  EXPECT_FALSE(U256::parse("340282366920938463463374607431768211456")->to_uint128());
  EXPECT_EQ(*U256{Uint128{41}}.next(), U256{Uint128{42}});
  EXPECT_EQ(U256::parse("0100").error().code, ErrorCode::malformed_decimal);
}

// The decimal digits by the definition, one 128-bit division at a time: what to_decimal's 64-bit
// and 19-digit steps must agree with.
std::string digits_by_definition(Uint128 v) {
  std::string out;
  do {
    out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  return out;
}

TEST(Uint128, DecimalsAcrossTheSixtyFourBitAndNineteenDigitSteps) {
  const Uint128 two64 = Uint128{1} << 64;
  const Uint128 ten19 = 10'000'000'000'000'000'000ULL;
  EXPECT_EQ(to_decimal(two64 - 1), "18446744073709551615");
  EXPECT_EQ(to_decimal(two64), "18446744073709551616");
  EXPECT_EQ(to_decimal(ten19), "10000000000000000000");
  EXPECT_EQ(to_decimal(2 * ten19 + 5), "20000000000000000005");  // past 2^64: an inner run of zeros
  EXPECT_EQ(to_decimal(ten19 * ten19), "1" + std::string(38, '0'));
  EXPECT_EQ(to_decimal(ten19 * ten19 - 1), std::string(38, '9'));
  for (const Uint128 v : {two64 - 1, two64, ten19 * ten19, ten19 * ten19 + 1, kUint128Max / 10, kUint128Max - 1})
    EXPECT_EQ(*parse_uint128(to_decimal(v)), v);
  // 2^128-1 is 340282366920938463463374607431768211455: every last digit past 5, and every
  // 39-digit number above its first 38 digits, overflows.
  for (char last = '6'; last <= '9'; ++last)
    EXPECT_EQ(parse_uint128(std::string("34028236692093846346337460743176821145") + last).error().code,
              ErrorCode::amount_overflow);
  EXPECT_EQ(parse_uint128("340282366920938463463374607431768211460").error().code, ErrorCode::amount_overflow);
  EXPECT_EQ(*parse_uint128("340282366920938463463374607431768211449"), kUint128Max - 6);
}

RC_GTEST_PROP(Uint128, DecimalsAreTheDigitsByDefinition, ()) {
  // Any width, up to 1 to 128 significant bits: values below 2^64 (64-bit steps only) and above
  // (19-digit steps first), each path as often.
  const int bits = *rc::gen::inRange(1, 129);
  const Uint128 v = *test::gen_uint128() >> (128 - bits);
  const std::string expected = digits_by_definition(v);
  RC_ASSERT(to_decimal(v) == expected);
  RC_ASSERT(*parse_uint128(expected) == v);
}

RC_GTEST_PROP(Uint128, DecimalRoundTrip, ()) {
  const Uint128 v = *test::gen_uint128();
  RC_ASSERT(*parse_uint128(to_decimal(v)) == v);
}

RC_GTEST_PROP(U256, DecimalAndBigEndianRoundTrip, ()) {
  const U256 v = *test::gen_u256();
  RC_ASSERT(*U256::parse(v.to_decimal()) == v);
  RC_ASSERT(U256::from_be(v.to_be()) == v);
}

RC_GTEST_PROP(U256, OrderMatchesUint128, ()) {
  const Uint128 a = *test::gen_uint128();
  const Uint128 b = *test::gen_uint128();
  RC_ASSERT((U256{a} < U256{b}) == (a < b));
  RC_ASSERT((U256{a} == U256{b}) == (a == b));
}

}  // namespace
}  // namespace paychan
