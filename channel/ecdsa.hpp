// secp256k1 ECDSA as Ethereum uses it, through libsecp256k1.
//   Signature: 65 bytes r‖s‖v with v ∈ {27, 28}; s must be in the lower half of the curve order
//   (as OpenZeppelin's ECDSA library requires), r and s non-zero and below the order.
//   PrivateKey: never printed, never logged, wiped on destruction.
// Thread-safety: all functions may be called concurrently; they share one immutable
// libsecp256k1 context created on first use.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "channel/address.hpp"
#include "channel/bytes.hpp"
#include "channel/result.hpp"

namespace paychan {

using Signature = FixedBytes<65>;

// 65-byte hex signature → Signature. Errors: malformed_signature (length, hex).
// Range/low-s/v checks happen in recover_signer, where the contract does them.
[[nodiscard]] Result<Signature> parse_signature(std::string_view hex);

// The address that signed `digest`. Errors: malformed_signature when v ∉ {27,28}, r or s is zero
// or not below the curve order, s is in the upper half, or no public key recovers.
[[nodiscard]] Result<Address> recover_signer(const Bytes32& digest, const Signature& sig) noexcept;

// True iff `sig` is a valid (low-s, v ∈ {27,28}) signature of `digest` by `expected`.
[[nodiscard]] bool signed_by(const Bytes32& digest, const Signature& sig, const Address& expected) noexcept;

// A public key in libsecp256k1's own form: opaque, for verify_signature only.
struct PublicKey {
  std::array<std::uint8_t, 64> opaque{};
};

struct RecoveredSigner {
  Address address;
  PublicKey key;
};

// recover_signer, also giving the public key, for a caller that checks later signatures by the
// same signer with verify_signature (cheaper than a recovery: no square root, no inversion of r).
[[nodiscard]] Result<RecoveredSigner> recover_signer_key(const Bytes32& digest, const Signature& sig) noexcept;

// True iff r‖s is a valid low-s signature of `digest` by `key`, with r, s and v in the ranges
// recover_signer requires. v itself is not checked against the key: a signature that passes may
// carry the wrong one of 27/28, which the chain's ecrecover would turn into another address. Who
// sends such a signature on chain must first pass it through with_recovery_id.
[[nodiscard]] bool verify_signature(const Bytes32& digest, const Signature& sig, const PublicKey& key) noexcept;

// The low-s form of a signature whose s is in the upper half (and below the order): n − s, with
// the other v, which recovers to the same signer; `sig` itself otherwise. For a verifier that takes
// both forms, as bare ecrecover does (Permit2), checked by the low-s rules above.
[[nodiscard]] Signature with_low_s(Signature sig) noexcept;

// `sig` with the v (27 or 28) under which it recovers to `signer`; nullopt if neither does.
[[nodiscard]] std::optional<Signature> with_recovery_id(const Bytes32& digest, Signature sig,
                                                        const Address& signer) noexcept;

class PrivateKey {
 public:
  // Errors: malformed_hex for bad text; invalid_payload for zero or ≥ curve order.
  [[nodiscard]] static Result<PrivateKey> from_bytes(const Bytes32& secret);
  [[nodiscard]] static Result<PrivateKey> from_hex(std::string_view hex);

  PrivateKey(const PrivateKey&) = default;
  PrivateKey& operator=(const PrivateKey&) = default;
  ~PrivateKey();

  [[nodiscard]] const Address& address() const noexcept { return address_; }
  // Deterministic (RFC 6979) low-s recoverable signature with v ∈ {27, 28}.
  [[nodiscard]] Signature sign(const Bytes32& digest) const noexcept;

 private:
  PrivateKey() = default;
  Bytes32 secret_{};
  Address address_{};
};

}  // namespace paychan
