// A PAYMENT-RESPONSE / facilitator /settle body, and its batch-settlement extra.
#include "fuzz.hpp"
#include "protocol/settlement_response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  if (auto r = protocol::decode_settlement_response(fuzz::text(data, size))) {
    (void)protocol::batch_response_extra(*r);
    const std::string once = protocol::encode_settlement_response(*r);
    auto again = protocol::decode_settlement_response(once);
    fuzz::require(again.ok() && protocol::encode_settlement_response(*again) == once);
  }
  return 0;
}
