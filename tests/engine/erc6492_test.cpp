// ERC-6492 signatures: a wrapped one gives back its factory, its deployment call and the wallet's
// own signature; a plain one is left as it is; a hostile envelope is a typed error.
#include "engine/chain/erc6492.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "generators.hpp"
#include "smart_wallet_support.hpp"

namespace paychan::engine::chain {
namespace {

using evm::test::erc6492_wrapped;

Bytes gen_calldata() {
  return *rc::gen::container<Bytes>(rc::gen::map(rc::gen::inRange(0, 256), [](int b) { return static_cast<std::uint8_t>(b); }));
}

RC_GTEST_PROP(Erc6492, AWrappedSignatureUnwrapsToItsParts, ()) {
  const Address factory = *paychan::test::gen_address();
  const Bytes calldata = gen_calldata();
  const auto inner_length = *rc::gen::inRange<std::size_t>(1, 1024);
  Bytes inner_bytes(inner_length, 0x5c);
  const WalletSignature inner = *WalletSignature::from_bytes(inner_bytes);
  RC_PRE(calldata.size() + inner_length + 256 <= WalletSignature::kMaxBytes);

  const auto unwrapped = unwrap_erc6492(erc6492_wrapped(factory, calldata, inner));
  RC_ASSERT(static_cast<bool>(unwrapped));
  RC_ASSERT(unwrapped->has_value());
  RC_ASSERT((*unwrapped)->factory == factory);
  RC_ASSERT((*unwrapped)->factoryCalldata == calldata);
  RC_ASSERT((*unwrapped)->signature == inner);
}

RC_GTEST_PROP(Erc6492, APlainSignatureIsNotWrapped, ()) {
  const WalletSignature plain = *paychan::test::gen_wallet_signature();
  const ByteView b = plain.bytes();
  // Only a signature ending in the 32-byte magic suffix is taken for an envelope.
  RC_PRE(b.size() < kErc6492Suffix.size() || b.back() != kErc6492Suffix.back());
  const auto unwrapped = unwrap_erc6492(plain);
  RC_ASSERT(static_cast<bool>(unwrapped));
  RC_ASSERT(!unwrapped->has_value());
}

TEST(Erc6492, AnEnvelopeThatDoesNotDecodeIsAMalformedSignature) {
  const WalletSignature good =
      erc6492_wrapped(Address{}, Bytes{1, 2, 3}, *WalletSignature::from_bytes(Bytes(65, 0x1b)));
  const Bytes bytes(good.bytes().begin(), good.bytes().end());

  // The suffix alone: no envelope before it.
  const Bytes suffix(kErc6492Suffix.begin(), kErc6492Suffix.end());
  auto refused = unwrap_erc6492(*WalletSignature::from_bytes(suffix));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::malformed_signature);

  // The inner signature's offset pointed past the data.
  Bytes hostile = bytes;
  hostile[2 * 32 + 31] = 0xff;
  hostile[2 * 32 + 30] = 0xff;
  refused = unwrap_erc6492(*WalletSignature::from_bytes(hostile));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::malformed_signature);

  // An empty inner signature is none.
  const WalletSignature empty_inner = erc6492_wrapped(Address{}, Bytes{}, WalletSignature{});
  Bytes no_inner(empty_inner.bytes().begin(), empty_inner.bytes().end());
  // abi.encode(address, bytes(0), bytes(65)): word 4 is the inner signature's length.
  no_inner[4 * 32 + 31] = 0;
  EXPECT_FALSE(unwrap_erc6492(*WalletSignature::from_bytes(no_inner)));
}

}  // namespace
}  // namespace paychan::engine::chain
