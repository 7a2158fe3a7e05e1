// EIP-55 addresses: checksums, case rules, strictness.
#include "channel/address.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "generators.hpp"

namespace paychan {
namespace {

TEST(Address, Eip55KnownAnswers) {
  // From EIP-55's own examples.
  for (std::string_view a : {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                             "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
    auto parsed = parse_address(a);
    ASSERT_TRUE(parsed) << a;
    EXPECT_EQ(to_checksum_hex(*parsed), a);
  }
}

TEST(Address, CaseRules) {
  EXPECT_TRUE(parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")) << "all lower";
  EXPECT_TRUE(parse_address("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED")) << "all upper";
  EXPECT_EQ(parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD").error().code, ErrorCode::malformed_address)
      << "one letter's case wrong";
}

TEST(Address, Strictness) {
  for (std::string_view bad : {"", "0x", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
                               "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg",
                               " 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"})
    EXPECT_FALSE(parse_address(bad)) << bad;
  EXPECT_TRUE(Address{}.is_zero());
  EXPECT_FALSE(parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")->is_zero());
}

RC_GTEST_PROP(Address, ChecksumRoundTrips, ()) {
  const Address a = *test::gen_address();
  const std::string text = to_checksum_hex(a);
  RC_ASSERT(*parse_address(text) == a);
  // Flipping the case of one letter breaks the checksum; only an all-one-case result is accepted
  // (as an address without a checksum).
  const auto letter = text.find_first_of("abcdefABCDEF", 2);
  RC_PRE(letter != std::string::npos);
  std::string flipped = text;
  flipped[letter] = static_cast<char>(flipped[letter] ^ 0x20);
  const std::string_view digits = std::string_view{flipped}.substr(2);
  const bool mixed = digits.find_first_of("abcdef") != std::string_view::npos &&
                     digits.find_first_of("ABCDEF") != std::string_view::npos;
  RC_ASSERT(parse_address(flipped).ok() == !mixed);
}

}  // namespace
}  // namespace paychan
