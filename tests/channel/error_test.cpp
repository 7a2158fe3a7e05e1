// The error vocabulary: every code has a distinct wire spelling that parses back to itself.
#include "channel/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace paychan {
namespace {

constexpr auto kLast = ErrorCode::invalid_batch_settlement_evm_withdraw_delay_out_of_range;

TEST(ErrorCode, EverySpellingRoundTripsAndIsUnique) {
  std::set<std::string, std::less<>> seen;
  for (int i = 0; i <= static_cast<int>(kLast); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    const std::string_view name = to_string(code);
    ASSERT_FALSE(name.empty());
    EXPECT_TRUE(seen.insert(std::string{name}).second) << name;
    ErrorCode back{};
    ASSERT_TRUE(error_code_from_string(name, back)) << name;
    EXPECT_EQ(back, code);
  }
}

TEST(ErrorCode, SpecSpellingsAreVerbatim) {
  EXPECT_EQ(to_string(ErrorCode::invalid_batch_settlement_evm_channel_busy), "invalid_batch_settlement_evm_channel_busy");
  EXPECT_EQ(to_string(ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch),
            "invalid_batch_settlement_evm_cumulative_amount_mismatch");
  ErrorCode out{};
  EXPECT_FALSE(error_code_from_string("invalid_batch_settlement_evm_nope", out));
}

TEST(Error, ToStringCarriesTheDetail) {
  EXPECT_EQ((Error{ErrorCode::malformed_hex, "odd"}.to_string()), "malformed_hex: odd");
  EXPECT_EQ((Error{ErrorCode::malformed_hex, ""}.to_string()), "malformed_hex");
}

}  // namespace
}  // namespace paychan
