// ERC-6492: the signature of a smart-contract wallet that is not deployed yet. The wallet wraps
// what its isValidSignature (EIP-1271) will accept once deployed together with the call that
// deploys it:
//   abi.encode(address factory, bytes factoryCalldata, bytes signature) ‖ 0x6492…6492 (32 bytes)
// The chain itself never unwraps it: the token's and the settlement contract's SignatureChecker
// take the inner signature, after the factory has been called.
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "channel/address.hpp"
#include "channel/result.hpp"
#include "channel/wallet_signature.hpp"

namespace paychan::engine::chain {

// The magic suffix that marks a wrapped signature: 0x6492 repeated, 32 bytes.
inline constexpr std::array<std::uint8_t, 32> kErc6492Suffix = [] {
  std::array<std::uint8_t, 32> suffix{};
  for (std::size_t i = 0; i < suffix.size(); ++i) suffix[i] = i % 2 == 0 ? 0x64 : 0x92;
  return suffix;
}();

struct Erc6492Signature {
  Address factory;
  Bytes factoryCalldata;
  WalletSignature signature;  // the wallet's own, for EIP-1271 once it is deployed
};

// The wrapped parts; nullopt when `signature` does not end with the magic suffix (a plain one).
// Errors: malformed_signature (the suffix is there but what precedes it does not decode).
[[nodiscard]] Result<std::optional<Erc6492Signature>> unwrap_erc6492(const WalletSignature& signature);

}  // namespace paychan::engine::chain
