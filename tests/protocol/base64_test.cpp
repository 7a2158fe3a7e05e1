// Standard padded base64, strict like the reference (which rejects base64url).
#include "protocol/base64.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace paychan::protocol {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "+/8="}};
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(base64_encode(plain), encoded);
    auto d = base64_decode(encoded, 100);
    ASSERT_TRUE(d) << encoded;
    EXPECT_EQ(*d, plain);
  }
}

TEST(Base64, StrictDecoding) {
  auto code = [](std::string_view s) { return base64_decode(s, 100).error().code; };
  EXPECT_EQ(code("-_8="), ErrorCode::malformed_base64) << "base64url alphabet";
  EXPECT_EQ(code("Zg"), ErrorCode::malformed_base64) << "missing padding";
  EXPECT_EQ(code("Zg=a"), ErrorCode::malformed_base64) << "data after padding";
  EXPECT_EQ(code("Z==="), ErrorCode::malformed_base64);
  EXPECT_EQ(code("===="), ErrorCode::malformed_base64);
  EXPECT_EQ(code("Zm9v\n"), ErrorCode::malformed_base64) << "whitespace";
  EXPECT_EQ(code("Zh=="), ErrorCode::malformed_base64) << "non-zero padding bits";
  EXPECT_EQ(code("Zm9=="), ErrorCode::malformed_base64);
  EXPECT_EQ(base64_decode("Zm9vYmFy", 5).error().code, ErrorCode::input_too_large);
  EXPECT_TRUE(base64_decode("Zm9vYmFy", 6));
}

RC_GTEST_PROP(Base64, RoundTrip, (const std::string& bytes)) {
  auto d = base64_decode(base64_encode(bytes), bytes.size());
  RC_ASSERT(d.ok());
  RC_ASSERT(*d == bytes);
}

RC_GTEST_PROP(Base64, DecodeIsTotalAndCanonical, (const std::string& text)) {
  // Whatever the input, decoding is an error or a value that re-encodes to the same text.
  if (auto d = base64_decode(text, 1 << 16)) RC_ASSERT(base64_encode(*d) == text);
}

}  // namespace
}  // namespace paychan::protocol
