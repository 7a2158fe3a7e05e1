// 0x-hex codecs: strict prefix and length, either case in, lower case out.
#include "channel/hex.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace paychan {
namespace {

TEST(Hex, Strictness) {
  EXPECT_EQ(to_hex(*bytes_from_hex("0xDEADbeef")), "0xdeadbeef");
  EXPECT_TRUE(bytes_from_hex("0x")->empty());
  EXPECT_TRUE(bytes_from_hex("0X00"));
  for (std::string_view bad : {"", "0", "deadbeef", "0x0", "0xgg", "0x 0", "0x00 "})
    EXPECT_EQ(bytes_from_hex(bad).error().code, ErrorCode::malformed_hex) << bad;
  EXPECT_EQ(bytes_from_hex("0x0000", 1).error().code, ErrorCode::input_too_large);
  EXPECT_FALSE((fixed_from_hex<4>("0x001122")));
  EXPECT_FALSE((fixed_from_hex<4>("0x0011223344")));
  EXPECT_TRUE((fixed_from_hex<4>("0x00112233")));
}

RC_GTEST_PROP(Hex, RoundTrip, (const std::vector<std::uint8_t>& bytes)) {
  RC_ASSERT(*bytes_from_hex(to_hex(bytes)) == bytes);
}

}  // namespace
}  // namespace paychan
