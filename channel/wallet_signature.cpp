#include "channel/wallet_signature.hpp"

#include <algorithm>

#include "channel/hex.hpp"

namespace paychan {

Result<WalletSignature> WalletSignature::from_bytes(ByteView bytes) {
  if (bytes.empty() || bytes.size() > kMaxBytes)
    return fail(ErrorCode::malformed_signature,
                "a signature is 1 to " + std::to_string(kMaxBytes) + " bytes, not " + std::to_string(bytes.size()));
  WalletSignature out;
  if (bytes.size() == out.ecdsa_.size())
    std::copy(bytes.begin(), bytes.end(), out.ecdsa_.begin());
  else
    out.other_ = std::make_shared<const Bytes>(bytes.begin(), bytes.end());
  return out;
}

bool operator==(const WalletSignature& a, const WalletSignature& b) noexcept {
  return std::ranges::equal(a.bytes(), b.bytes());
}

Result<WalletSignature> parse_wallet_signature(std::string_view hex) {
  // The common 65-byte form straight into place, without an intermediate vector.
  if (hex.size() == 2 + 2 * sizeof(Signature)) {
    auto ecdsa = parse_signature(hex);
    if (!ecdsa) return ecdsa.failure();
    return WalletSignature{*ecdsa};
  }
  auto bytes = bytes_from_hex(hex, WalletSignature::kMaxBytes);
  if (!bytes)
    return fail(ErrorCode::malformed_signature, "a signature is 0x followed by 1 to " +
                                                    std::to_string(WalletSignature::kMaxBytes) + " bytes of hex");
  return WalletSignature::from_bytes(*bytes);
}

bool signed_by(const Bytes32& digest, const WalletSignature& sig, const Address& expected) noexcept {
  const Signature* ecdsa = sig.ecdsa();
  return ecdsa != nullptr && signed_by(digest, *ecdsa, expected);
}

}  // namespace paychan
