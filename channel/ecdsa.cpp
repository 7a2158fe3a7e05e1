#include "channel/ecdsa.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <string.h>  // explicit_bzero
#include <sys/random.h>

#include <algorithm>
#include <cstring>

#include "channel/hex.hpp"
#include "channel/keccak.hpp"

namespace paychan {
namespace {

// The curve order n and n/2, big-endian: s must be in [1, n/2] (EIP-2 / OpenZeppelin ECDSA) and
// r in [1, n-1].
constexpr FixedBytes<32> kOrder = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                   0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48,
                                   0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};
constexpr FixedBytes<32> kHalfOrder = {0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                       0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4,
                                       0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0};

// One context for the process: created once, never mutated afterwards, so concurrent use is safe
// (libsecp256k1's contract for const contexts). Randomized to blind signing against side channels.
const secp256k1_context* context() noexcept {
  static const secp256k1_context* const ctx = [] {
    secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    unsigned char seed[32];
    if (getrandom(seed, sizeof seed, 0) == static_cast<ssize_t>(sizeof seed)) {
      // Failure leaves the context unblinded but correct; nothing to report from here.
      [[maybe_unused]] const int blinded = secp256k1_context_randomize(c, seed);
    }
    explicit_bzero(seed, sizeof seed);
    return c;
  }();
  return ctx;
}

// Big-endian 32-byte compare of a signature scalar against a bound.
int compare(const std::uint8_t* scalar, const FixedBytes<32>& bound) noexcept {
  return std::memcmp(scalar, bound.data(), 32);
}

bool is_zero32(const std::uint8_t* scalar) noexcept {
  return std::all_of(scalar, scalar + 32, [](std::uint8_t b) { return b == 0; });
}

// The checks the contract makes before any curve arithmetic (OpenZeppelin's ECDSA).
Status check_form(const Signature& sig) noexcept {
  const std::uint8_t* r = sig.data();
  const std::uint8_t* s = sig.data() + 32;
  const std::uint8_t v = sig[64];
  if (v != 27 && v != 28) return fail(ErrorCode::malformed_signature, "v must be 27 or 28");
  if (is_zero32(r) || compare(r, kOrder) >= 0) return fail(ErrorCode::malformed_signature, "r out of range");
  if (is_zero32(s) || compare(s, kHalfOrder) > 0) return fail(ErrorCode::malformed_signature, "s out of range (high s)");
  return {};
}

Address address_of(const secp256k1_pubkey& pubkey) noexcept {
  unsigned char uncompressed[65];
  std::size_t len = sizeof uncompressed;
  secp256k1_ec_pubkey_serialize(context(), uncompressed, &len, &pubkey, SECP256K1_EC_UNCOMPRESSED);
  const Bytes32 h = keccak256(ByteView{uncompressed + 1, 64});  // X‖Y without the 0x04 tag
  Address a;
  std::memcpy(a.bytes.data(), h.data() + 12, 20);
  return a;
}

}  // namespace

Signature with_low_s(Signature sig) noexcept {
  std::uint8_t* s = sig.data() + 32;
  if (compare(s, kHalfOrder) <= 0 || compare(s, kOrder) >= 0 || (sig[64] != 27 && sig[64] != 28)) return sig;
  // n − s, big-endian, byte by byte with a borrow.
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    const int d = kOrder[static_cast<std::size_t>(i)] - s[i] - borrow;
    borrow = d < 0 ? 1 : 0;
    s[i] = static_cast<std::uint8_t>(d + 256 * borrow);
  }
  sig[64] = sig[64] == 27 ? 28 : 27;
  return sig;
}

Result<Signature> parse_signature(std::string_view hex) {
  Signature sig{};
  if (!fixed_from_hex(hex, sig.data(), sig.size()))
    return fail(ErrorCode::malformed_signature, "a signature is 0x followed by 65 bytes of hex");
  return sig;
}

Result<RecoveredSigner> recover_signer_key(const Bytes32& digest, const Signature& sig) noexcept {
  if (Status form = check_form(sig); !form) return form.failure();
  secp256k1_ecdsa_recoverable_signature parsed;
  secp256k1_pubkey pubkey;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &parsed, sig.data(), sig[64] - 27) ||
      !secp256k1_ecdsa_recover(context(), &pubkey, &parsed, digest.data()))
    return fail(ErrorCode::malformed_signature, "no public key recovers from this signature");
  RecoveredSigner out;
  out.address = address_of(pubkey);
  std::memcpy(out.key.opaque.data(), pubkey.data, sizeof pubkey.data);
  return out;
}

Result<Address> recover_signer(const Bytes32& digest, const Signature& sig) noexcept {
  auto signer = recover_signer_key(digest, sig);
  if (!signer) return signer.failure();
  return signer->address;
}

bool verify_signature(const Bytes32& digest, const Signature& sig, const PublicKey& key) noexcept {
  if (!check_form(sig)) return false;
  secp256k1_ecdsa_signature parsed;
  secp256k1_pubkey pubkey;
  std::memcpy(pubkey.data, key.opaque.data(), sizeof pubkey.data);
  return secp256k1_ecdsa_signature_parse_compact(context(), &parsed, sig.data()) &&
         secp256k1_ecdsa_verify(context(), &parsed, digest.data(), &pubkey);
}

std::optional<Signature> with_recovery_id(const Bytes32& digest, Signature sig, const Address& signer) noexcept {
  if (signed_by(digest, sig, signer)) return sig;
  sig[64] = sig[64] == 27 ? 28 : 27;
  if (signed_by(digest, sig, signer)) return sig;
  return std::nullopt;
}

bool signed_by(const Bytes32& digest, const Signature& sig, const Address& expected) noexcept {
  auto signer = recover_signer(digest, sig);
  return signer && *signer == expected;
}

Result<PrivateKey> PrivateKey::from_bytes(const Bytes32& secret) {
  if (!secp256k1_ec_seckey_verify(context(), secret.data()))
    return fail(ErrorCode::invalid_payload, "not a valid secp256k1 private key (zero or not below the order)");
  secp256k1_pubkey pubkey;
  if (!secp256k1_ec_pubkey_create(context(), &pubkey, secret.data()))
    return fail(ErrorCode::invalid_payload, "not a valid secp256k1 private key");
  PrivateKey key;
  key.secret_ = secret;
  key.address_ = address_of(pubkey);
  return key;
}

Result<PrivateKey> PrivateKey::from_hex(std::string_view hex) {
  Bytes32 secret{};
  if (!fixed_from_hex(hex, secret.data(), secret.size()))
    return fail(ErrorCode::malformed_hex, "a private key is 0x followed by 64 hex digits");
  auto key = from_bytes(secret);
  explicit_bzero(secret.data(), secret.size());
  return key;
}

PrivateKey::~PrivateKey() { explicit_bzero(secret_.data(), secret_.size()); }

Signature PrivateKey::sign(const Bytes32& digest) const noexcept {
  secp256k1_ecdsa_recoverable_signature sig;
  // RFC 6979 nonces; libsecp256k1 always produces low-s signatures. A valid key cannot fail here.
  (void)secp256k1_ecdsa_sign_recoverable(context(), &sig, digest.data(), secret_.data(), nullptr, nullptr);
  Signature out{};
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), out.data(), &recid, &sig);
  out[64] = static_cast<std::uint8_t>(27 + recid);
  return out;
}

}  // namespace paychan
