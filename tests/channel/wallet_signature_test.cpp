// A payer's signature of any length: the 65-byte form is an EOA's, any other a smart wallet's;
// both round-trip through bytes and hex, and the limits are typed errors.
#include "channel/wallet_signature.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "channel/hex.hpp"
#include "channel/keccak.hpp"
#include "generators.hpp"

namespace paychan {
namespace {

RC_GTEST_PROP(WalletSignature, RoundTripsThroughBytesAndHex, ()) {
  const WalletSignature s = *test::gen_wallet_signature();
  const ByteView bytes = s.bytes();
  RC_ASSERT(*WalletSignature::from_bytes(bytes) == s);
  RC_ASSERT(*parse_wallet_signature(to_hex(bytes)) == s);
  RC_ASSERT((s.ecdsa() != nullptr) == (bytes.size() == 65));
}

TEST(WalletSignature, SixtyFiveBytesAreTheEcdsaForm) {
  Signature ecdsa;
  ecdsa.fill(0x1c);
  const WalletSignature s{ecdsa};
  ASSERT_NE(s.ecdsa(), nullptr);
  EXPECT_EQ(*s.ecdsa(), ecdsa);
  EXPECT_EQ(*WalletSignature::from_bytes(Bytes(65, 0x1c)), s);
  EXPECT_EQ(WalletSignature::from_bytes(Bytes(66, 0x1c))->ecdsa(), nullptr);
  EXPECT_NE(*WalletSignature::from_bytes(Bytes(66, 0x1c)), s) << "a longer signature with the same start";
}

TEST(WalletSignature, LimitsAndMalformedHexAreTypedErrors) {
  EXPECT_EQ(WalletSignature::from_bytes({}).error().code, ErrorCode::malformed_signature);
  EXPECT_TRUE(WalletSignature::from_bytes(Bytes(WalletSignature::kMaxBytes, 1)));
  EXPECT_EQ(WalletSignature::from_bytes(Bytes(WalletSignature::kMaxBytes + 1, 1)).error().code,
            ErrorCode::malformed_signature);
  for (const std::string& bad : {std::string("0x"), std::string("0x1"), std::string("1b1b"), std::string("0xzz"),
                                 "0x" + std::string(130, 'g'), "0x" + std::string(2 * WalletSignature::kMaxBytes + 2, 'a')})
    EXPECT_EQ(parse_wallet_signature(bad).error().code, ErrorCode::malformed_signature) << bad.substr(0, 20);
  EXPECT_EQ(parse_wallet_signature("0x" + std::string(130, 'A'))->bytes().size(), 65u) << "either case";
}

TEST(WalletSignature, OnlyTheEcdsaFormIsSignedByAnAddress) {
  const PrivateKey key = *PrivateKey::from_hex("0x1100000000000000000000000000000000000000000000000000000000000005");
  const Bytes32 digest = keccak256(as_bytes("voucher"));
  const Signature ecdsa = key.sign(digest);
  EXPECT_TRUE(signed_by(digest, WalletSignature{ecdsa}, key.address()));
  Bytes longer(ecdsa.begin(), ecdsa.end());
  longer.push_back(0);
  EXPECT_FALSE(signed_by(digest, *WalletSignature::from_bytes(longer), key.address()));
}

}  // namespace
}  // namespace paychan
