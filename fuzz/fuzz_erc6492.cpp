// ERC-6492 envelopes: a payer's deposit signature arrives from the network, and the facilitator
// unwraps it (abi.decode of address, bytes, bytes behind the magic suffix). Any bytes give the
// parts or a typed error; the parts lie within the signature.
#include "channel/wallet_signature.hpp"
#include "engine/chain/erc6492.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  // Half the inputs get the suffix appended, so the envelope's decoder is reached at all.
  Bytes bytes(data, data + size);
  if (size > 0 && data[0] % 2 == 0)
    bytes.insert(bytes.end(), engine::chain::kErc6492Suffix.begin(), engine::chain::kErc6492Suffix.end());
  auto signature = WalletSignature::from_bytes(bytes);
  if (!signature) return 0;
  auto unwrapped = engine::chain::unwrap_erc6492(*signature);
  if (unwrapped && *unwrapped) {
    fuzz::require((*unwrapped)->factoryCalldata.size() < bytes.size());
    fuzz::require((*unwrapped)->signature.bytes().size() < bytes.size());
  }
  return 0;
}
