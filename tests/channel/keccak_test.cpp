// keccak256 known answers (tests/vectors: viem's keccak256), across the 136-byte rate boundary.
#include "channel/keccak.hpp"

#include <gtest/gtest.h>

#include <set>

#include "channel/hex.hpp"
#include "vectors.hpp"

namespace paychan {
namespace {

TEST(Keccak256, Vectors) {
  int n = 0;
  for (const auto& v : test::vectors()["keccak"].GetArray()) {
    const std::string text = test::str(v, "utf8");
    EXPECT_EQ(to_hex(keccak256(as_bytes(text))), test::str(v, "hash")) << text.size() << " bytes";
    ++n;
  }
  EXPECT_GE(n, 6);
}

TEST(Keccak256, IsNotSha3) {
  // SHA3-256("") is a7ffc6f8…; Ethereum's keccak256("") is c5d24601…
  EXPECT_EQ(to_hex(keccak256({})), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

TEST(Keccak256, EveryLengthAroundTheRateDiffersAndIsStable) {
  // 135, 136 and 137 bytes exercise the padding byte landing in the last lane, a full extra
  // block, and a second block; each must hash differently and deterministically.
  std::string s(300, 'a');
  std::set<std::string> seen;
  for (std::size_t len : {0u, 1u, 135u, 136u, 137u, 271u, 272u, 273u}) {
    const auto h = to_hex(keccak256(as_bytes(std::string_view{s}.substr(0, len))));
    EXPECT_EQ(h, to_hex(keccak256(as_bytes(std::string_view{s}.substr(0, len)))));
    EXPECT_TRUE(seen.insert(h).second) << len;
  }
}

}  // namespace
}  // namespace paychan
