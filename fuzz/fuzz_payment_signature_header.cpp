// The PAYMENT-SIGNATURE header as the gate receives it: base64, then JSON.
#include "fuzz.hpp"
#include "protocol/headers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  if (auto p = protocol::decode_payment_signature(fuzz::text(data, size))) {
    auto again = protocol::decode_payment_signature(protocol::encode_payment_signature(*p));
    fuzz::require(again.ok());
  }
  return 0;
}
