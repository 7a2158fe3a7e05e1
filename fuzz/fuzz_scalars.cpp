// The scalar codecs under every JSON field: hex, decimals (uint128, uint256), addresses,
// signatures (with recovery; a wallet's of any length), each canonical where the codec promises it.
#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/ecdsa.hpp"
#include "channel/hex.hpp"
#include "channel/wallet_signature.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  const auto in = fuzz::text(data, size);
  if (auto b = bytes_from_hex(in)) (void)to_hex(*b);
  if (auto v = parse_uint128(in)) fuzz::require(to_decimal(*v) == in);
  if (auto v = U256::parse(in)) fuzz::require(v->to_decimal() == in);
  if (auto a = parse_address(in)) fuzz::require(*parse_address(to_checksum_hex(*a)) == *a);
  if (auto sig = parse_signature(in)) (void)recover_signer(Bytes32{}, *sig);
  if (auto sig = parse_wallet_signature(in)) {
    fuzz::require(*parse_wallet_signature(to_hex(sig->bytes())) == *sig);
    fuzz::require((sig->ecdsa() != nullptr) == (sig->bytes().size() == 65));
  }
  if (size == 65 + 32) {
    Signature sig;
    Bytes32 digest;
    std::copy(data, data + 65, sig.begin());
    std::copy(data + 65, data + 97, digest.begin());
    (void)recover_signer(digest, sig);
  }
  return 0;
}
