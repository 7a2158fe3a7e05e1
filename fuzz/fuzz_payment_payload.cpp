// decode_payment_payload is total; anything it accepts re-encodes to JSON that decodes to the same
// encoding (a differential check of the codec against itself).
#include "fuzz.hpp"
#include "protocol/payment_payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  if (auto p = protocol::decode_payment_payload(fuzz::text(data, size))) {
    const std::string once = protocol::encode_payment_payload(*p);
    auto again = protocol::decode_payment_payload(once);
    fuzz::require(again.ok() && protocol::encode_payment_payload(*again) == once);
  }
  return 0;
}
