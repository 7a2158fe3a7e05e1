// A signature as the contract's SignatureChecker takes it from a payer: 65 bytes r‖s‖v from an
// externally owned account, checked by recovery; any other length from a smart-contract wallet,
// which only the chain can check (EIP-1271 isValidSignature), and which a wallet not yet deployed
// wraps in ERC-6492's envelope (erc6492.hpp).
//
// The 65-byte form, every EOA's and the hot path's, is held inline: decoding, copying and storing
// it allocates nothing. Any other length is held once on the heap and shared by copies (it is
// never changed in place).
// Thread-safety: a plain value; copies may be used from any thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "channel/bytes.hpp"
#include "channel/ecdsa.hpp"
#include "channel/result.hpp"

namespace paychan {

class WalletSignature {
 public:
  // The most a payload's signature may hold. A WebAuthn smart-wallet signature wrapped with its
  // factory's deployment call (ERC-6492) is 1–2 KB. A voucher's of 4 KB still fits a
  // PAYMENT-SIGNATURE header in the gate's 16 KiB limit (and a corrective 402's voucherState in a
  // client's); a deposit carries two, and two of 4 KB do not (431, not a crash).
  static constexpr std::size_t kMaxBytes = 4096;

  WalletSignature() = default;  // 65 zero bytes, as a default Signature
  // Every ECDSA signature is one (implicit: EOA signatures flow where wallet signatures may).
  WalletSignature(const Signature& ecdsa) noexcept : ecdsa_(ecdsa) {}  // NOLINT(google-explicit-constructor)

  // Errors: malformed_signature when empty or longer than kMaxBytes.
  [[nodiscard]] static Result<WalletSignature> from_bytes(ByteView bytes);

  // The r‖s‖v form when the signature is 65 bytes long (an EOA's must be; whether it is a valid
  // one is recover_signer's to say); nullptr for any other length, which no ECDSA check accepts.
  [[nodiscard]] const Signature* ecdsa() const noexcept { return other_ ? nullptr : &ecdsa_; }
  [[nodiscard]] ByteView bytes() const noexcept { return other_ ? ByteView{*other_} : ByteView{ecdsa_}; }

  friend bool operator==(const WalletSignature& a, const WalletSignature& b) noexcept;

 private:
  Signature ecdsa_{};
  std::shared_ptr<const Bytes> other_;  // set iff the length is not 65
};

// "0x" hex of 1 to kMaxBytes bytes. Errors: malformed_signature.
[[nodiscard]] Result<WalletSignature> parse_wallet_signature(std::string_view hex);

// True iff `sig` is a valid 65-byte ECDSA signature of `digest` by `expected` (as signed_by).
[[nodiscard]] bool signed_by(const Bytes32& digest, const WalletSignature& sig, const Address& expected) noexcept;

}  // namespace paychan
