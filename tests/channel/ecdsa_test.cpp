// secp256k1 signing and recovery as the contract accepts them: known keys, the boundary table of
// r, s and v (0, 1, n/2, n/2+1, n-1, n), and properties over random keys and digests.
#include "channel/ecdsa.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "channel/hex.hpp"
#include "channel/keccak.hpp"
#include "generators.hpp"
#include "signature_twin.hpp"
#include "vectors.hpp"

namespace paychan {
namespace {

constexpr std::string_view kOrder = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
constexpr std::string_view kHalfOrder = "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0";

Bytes32 scalar(std::string_view hex) { return *fixed_from_hex<32>("0x" + std::string{hex}); }

// n - k (k small), big-endian.
Bytes32 order_minus(std::uint8_t k) {
  Bytes32 v = scalar(kOrder);
  v[31] = static_cast<std::uint8_t>(v[31] - k);
  return v;
}

Bytes32 plus_one(Bytes32 v) {
  for (int i = 31; i >= 0 && ++v[static_cast<std::size_t>(i)] == 0; --i) {}
  return v;
}

Signature with(const Signature& base, const Bytes32* r, const Bytes32* s, std::optional<std::uint8_t> v) {
  Signature out = base;
  if (r != nullptr) std::copy(r->begin(), r->end(), out.begin());
  if (s != nullptr) std::copy(s->begin(), s->end(), out.begin() + 32);
  if (v) out[64] = *v;
  return out;
}

struct Signed {
  PrivateKey key = *PrivateKey::from_hex("0x3c8ef5dfeb55bb926a7d81ba4bd20da93602f3b615860e8bda7b41b87ef8e119");
  Bytes32 digest = keccak256(as_bytes("paychan"));
  Signature sig = key.sign(digest);
};

TEST(Keys, VectorKeysGiveVectorAddresses) {
  int n = 0;
  for (const auto& k : test::vectors()["keys"].GetArray()) {
    auto key = PrivateKey::from_hex(test::str(k, "privateKey"));
    ASSERT_TRUE(key);
    EXPECT_EQ(to_checksum_hex(key->address()), test::str(k, "address"));
    ++n;
  }
  EXPECT_EQ(n, 4);
}

TEST(Keys, OutOfRangeKeysAreRefused) {
  EXPECT_FALSE(PrivateKey::from_bytes(Bytes32{}));
  EXPECT_FALSE(PrivateKey::from_bytes(scalar(kOrder)));
  EXPECT_FALSE(PrivateKey::from_bytes(plus_one(scalar(kOrder))));
  EXPECT_TRUE(PrivateKey::from_bytes(order_minus(1)));
  Bytes32 one{};
  one[31] = 1;
  EXPECT_TRUE(PrivateKey::from_bytes(one));
  EXPECT_EQ(PrivateKey::from_hex("0x1234").error().code, ErrorCode::malformed_hex);
}

TEST(Signatures, LowSAndVIn27Or28) {
  Signed s;
  EXPECT_TRUE(s.sig[64] == 27 || s.sig[64] == 28);
  EXPECT_LE(std::memcmp(s.sig.data() + 32, scalar(kHalfOrder).data(), 32), 0);
  auto signer = recover_signer(s.digest, s.sig);
  ASSERT_TRUE(signer);
  EXPECT_EQ(*signer, s.key.address());
}

TEST(Signatures, VBoundaries) {
  Signed s;
  const PublicKey key = recover_signer_key(s.digest, s.sig)->key;
  for (std::uint8_t v : {0, 1, 26, 29, 255}) {
    EXPECT_FALSE(recover_signer(s.digest, with(s.sig, nullptr, nullptr, v))) << int(v);
    EXPECT_FALSE(verify_signature(s.digest, with(s.sig, nullptr, nullptr, v), key)) << int(v);
  }
  // The other valid v recovers a different key: never the signer.
  const std::uint8_t other = s.sig[64] == 27 ? 28 : 27;
  auto wrong = recover_signer(s.digest, with(s.sig, nullptr, nullptr, other));
  if (wrong) {
    EXPECT_NE(*wrong, s.key.address());
  }
}

TEST(Signatures, SBoundaryTable) {
  Signed s;
  const Bytes32 zero{};
  Bytes32 one{};
  one[31] = 1;
  const Bytes32 half = scalar(kHalfOrder);
  const Bytes32 half_plus_one = plus_one(half);
  const Bytes32 n_minus_one = order_minus(1);
  const Bytes32 n = scalar(kOrder);
  EXPECT_FALSE(recover_signer(s.digest, with(s.sig, nullptr, &zero, std::nullopt))) << "s = 0";
  EXPECT_FALSE(recover_signer(s.digest, with(s.sig, nullptr, &half_plus_one, std::nullopt))) << "s = n/2 + 1";
  EXPECT_FALSE(recover_signer(s.digest, with(s.sig, nullptr, &n_minus_one, std::nullopt))) << "s = n - 1";
  EXPECT_FALSE(recover_signer(s.digest, with(s.sig, nullptr, &n, std::nullopt))) << "s = n";
  // s = 1 and s = n/2 are in range: recovery runs (and yields some other key).
  for (const Bytes32* ok : std::array<const Bytes32*, 2>{&one, &half}) {
    auto r = recover_signer(s.digest, with(s.sig, nullptr, ok, std::nullopt));
    if (r) EXPECT_NE(*r, s.key.address());
    else EXPECT_NE(r.error().detail, "s out of range (high s)");
  }
}

TEST(Signatures, RBoundaryTable) {
  Signed s;
  const Bytes32 zero{};
  const Bytes32 n = scalar(kOrder);
  const Bytes32 above = plus_one(n);
  EXPECT_FALSE(recover_signer(s.digest, with(s.sig, &zero, nullptr, std::nullopt))) << "r = 0";
  EXPECT_FALSE(recover_signer(s.digest, with(s.sig, &n, nullptr, std::nullopt))) << "r = n";
  EXPECT_FALSE(recover_signer(s.digest, with(s.sig, &above, nullptr, std::nullopt))) << "r = n + 1";
}

TEST(Signatures, HighSTwinIsRefused) {
  // The contract refuses the twin, so do we.
  Signed s;
  const Signature twin = test::high_s_twin(s.sig);
  auto r = recover_signer(s.digest, twin);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().detail, "s out of range (high s)");
  EXPECT_FALSE(verify_signature(s.digest, twin, recover_signer_key(s.digest, s.sig)->key));
}

// For a verifier that takes both forms (Permit2's bare ecrecover): with_low_s turns the twin back
// into the signature it came from, and leaves a low-s signature, or a malformed one, as it is.
RC_GTEST_PROP(Signatures, WithLowSUndoesTheTwin, ()) {
  auto key = PrivateKey::from_bytes(*test::gen_bytes<32>());
  RC_PRE(key.ok());
  const Signature sig = key->sign(*test::gen_bytes<32>());
  RC_ASSERT(with_low_s(test::high_s_twin(sig)) == sig);
  RC_ASSERT(with_low_s(sig) == sig);
  Signature bad_v = test::high_s_twin(sig);
  bad_v[64] = 29;
  RC_ASSERT(with_low_s(bad_v) == bad_v);
}

TEST(Signatures, ParseChecksLengthAndHex) {
  EXPECT_FALSE(parse_signature("0x" + std::string(128, 'a')));
  EXPECT_FALSE(parse_signature("0x" + std::string(132, 'a')));
  EXPECT_FALSE(parse_signature("0x" + std::string(129, 'a')));
  EXPECT_FALSE(parse_signature(std::string(130, 'a')));
  EXPECT_FALSE(parse_signature("0x" + std::string(128, 'a') + "zz"));
  EXPECT_TRUE(parse_signature("0x" + std::string(130, 'a')));
}

RC_GTEST_PROP(Signatures, SignThenRecoverGivesTheSigner, ()) {
  const Bytes32 secret = *test::gen_bytes<32>();
  auto key = PrivateKey::from_bytes(secret);
  RC_PRE(key.ok());
  const Bytes32 digest = *test::gen_bytes<32>();
  const Signature sig = key->sign(digest);
  RC_ASSERT(signed_by(digest, sig, key->address()));
  RC_ASSERT(key->sign(digest) == sig);  // deterministic (RFC 6979)
}

RC_GTEST_PROP(Signatures, AFlippedBitNeverRecoversTheSigner, ()) {
  Signed s;
  const auto bit = *rc::gen::inRange(0, (32 + 65) * 8);
  Bytes32 digest = s.digest;
  Signature sig = s.sig;
  if (bit < 256) digest[static_cast<std::size_t>(bit / 8)] ^= static_cast<std::uint8_t>(1 << (bit % 8));
  else sig[static_cast<std::size_t>((bit - 256) / 8)] ^= static_cast<std::uint8_t>(1 << (bit % 8));
  RC_ASSERT(!signed_by(digest, sig, s.key.address()));
}

// A signer's known key checks what recovery checks, except which of 27/28 v is: any corruption of
// the digest, r or s fails both ways; the other valid v passes verify_signature only, and
// with_recovery_id puts back the v the chain needs.
RC_GTEST_PROP(Signatures, VerifyingWithTheKnownKeyAgreesWithRecoveryButForV, ()) {
  Signed s;
  const auto key = recover_signer_key(s.digest, s.sig);
  RC_ASSERT(key.ok() && key->address == s.key.address());
  RC_ASSERT(verify_signature(s.digest, s.sig, key->key));

  // Maybe a bit of the digest, r or s flipped, then v swapped or not.
  const bool intact = *rc::gen::arbitrary<bool>();
  const bool other_v = *rc::gen::arbitrary<bool>();
  Bytes32 digest = s.digest;
  Signature sig = s.sig;
  if (!intact) {
    const auto bit = *rc::gen::inRange(0, (32 + 64) * 8);
    if (bit < 256) digest[static_cast<std::size_t>(bit / 8)] ^= static_cast<std::uint8_t>(1 << (bit % 8));
    else sig[static_cast<std::size_t>((bit - 256) / 8)] ^= static_cast<std::uint8_t>(1 << (bit % 8));
  }
  if (other_v) sig[64] = sig[64] == 27 ? 28 : 27;
  RC_ASSERT(verify_signature(digest, sig, key->key) == intact);
  RC_ASSERT(signed_by(digest, sig, s.key.address()) == (intact && !other_v));
  if (intact) RC_ASSERT(with_recovery_id(digest, sig, s.key.address()) == std::optional<Signature>{s.sig});
}

TEST(Signatures, WithRecoveryIdNeedsTheSignersSignature) {
  Signed s;
  const std::uint8_t other = s.sig[64] == 27 ? 28 : 27;
  EXPECT_EQ(with_recovery_id(s.digest, s.sig, s.key.address()), std::optional<Signature>{s.sig});
  EXPECT_EQ(with_recovery_id(s.digest, with(s.sig, nullptr, nullptr, other), s.key.address()),
            std::optional<Signature>{s.sig});
  const PrivateKey stranger = *PrivateKey::from_bytes(scalar("00000000000000000000000000000000000000000000000000000000000000a7"));
  EXPECT_FALSE(with_recovery_id(s.digest, s.sig, stranger.address()));
  EXPECT_FALSE(verify_signature(s.digest, s.sig, recover_signer_key(s.digest, stranger.sign(s.digest))->key));
}

}  // namespace
}  // namespace paychan
