#include "engine/chain/erc6492.hpp"

#include <algorithm>

#include "engine/chain/abi.hpp"

namespace paychan::engine::chain {
namespace {

bool has_magic_suffix(ByteView s) noexcept {
  return s.size() >= kErc6492Suffix.size() && std::ranges::equal(s.last(kErc6492Suffix.size()), kErc6492Suffix);
}

Failure malformed(const Error& e) {
  return fail(ErrorCode::malformed_signature, "an ERC-6492 signature's envelope does not decode: " + e.detail);
}

}  // namespace

Result<std::optional<Erc6492Signature>> unwrap_erc6492(const WalletSignature& signature) {
  const ByteView all = signature.bytes();
  if (!has_magic_suffix(all)) return std::optional<Erc6492Signature>{};
  const AbiReader envelope{all.first(all.size() - kErc6492Suffix.size())};
  Erc6492Signature out;
  auto factory = envelope.address(0);
  if (!factory) return malformed(factory.error());
  out.factory = *factory;
  auto calldata = envelope.bytes(1);
  if (!calldata) return malformed(calldata.error());
  out.factoryCalldata.assign(calldata->begin(), calldata->end());
  auto inner = envelope.bytes(2);
  if (!inner) return malformed(inner.error());
  auto inner_signature = WalletSignature::from_bytes(*inner);
  if (!inner_signature) return malformed(inner_signature.error());
  out.signature = std::move(*inner_signature);
  return std::optional<Erc6492Signature>{std::move(out)};
}

}  // namespace paychan::engine::chain
