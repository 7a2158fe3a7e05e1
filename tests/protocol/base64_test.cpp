// Standard padded base64, strict like the reference (which rejects base64url).
#include "protocol/base64.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

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

// Long texts go 32 characters at a time where the CPU has AVX2, and the rest four at a time: both
// paths, and the hand-over between them at every offset, give the bytes a plain decoder gives.
std::string plain_decode(std::string_view text) {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t bits = 0;
  int held = 0;
  for (char c : text) {
    if (c == '=') break;
    bits = bits << 6 | static_cast<std::uint32_t>(kAlphabet.find(c));
    if ((held += 6) >= 8) out += static_cast<char>(bits >> (held -= 8));
  }
  return out;
}

RC_GTEST_PROP(Base64, LongTextsDecodeAsAPlainDecoderDoes, ()) {
  const auto bytes = *rc::gen::container<std::string>(*rc::gen::inRange<std::size_t>(0, 3000), rc::gen::arbitrary<char>());
  const std::string text = base64_encode(bytes);
  RC_ASSERT(plain_decode(text) == bytes);
  auto d = base64_decode(text, bytes.size());
  RC_ASSERT(d.ok());
  RC_ASSERT(*d == bytes);
}

// Every byte value, at every place of the first 64 characters and near the end of a 2 KB text: an
// alphabet character decodes to its value, anything else is refused.
TEST(Base64, EveryByteAtEveryPlaceOfALongTextIsDecodedOrRefused) {
  std::string bytes(1536, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 + 3);
  const std::string text = base64_encode(bytes);
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<std::size_t> places;
  for (std::size_t at = 0; at < 64; ++at) places.push_back(at);
  for (std::size_t at = text.size() - 70; at < text.size() - 4; ++at) places.push_back(at);
  for (std::size_t at : places) {
    for (int b = 0; b < 256; ++b) {
      std::string changed = text;
      changed[at] = static_cast<char>(b);
      auto d = base64_decode(changed, bytes.size());
      if (kAlphabet.find(static_cast<char>(b)) != std::string_view::npos) {
        ASSERT_TRUE(d) << at << " " << b;
        ASSERT_EQ(*d, plain_decode(changed)) << at << " " << b;
      } else {
        ASSERT_FALSE(d) << at << " " << b;
        ASSERT_EQ(d.error().code, ErrorCode::malformed_base64) << at << " " << b;
      }
    }
  }
}

}  // namespace
}  // namespace paychan::protocol
