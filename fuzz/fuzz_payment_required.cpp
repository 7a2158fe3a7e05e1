// A PAYMENT-REQUIRED body as the client receives it, and the batch-settlement view of each offer.
#include "fuzz.hpp"
#include "protocol/requirements.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  if (auto p = protocol::decode_payment_required(fuzz::text(data, size))) {
    for (const auto& offer : p->accepts) (void)protocol::batch_settlement_extra(offer);
    const std::string once = protocol::encode_payment_required(*p);
    auto again = protocol::decode_payment_required(once);
    fuzz::require(again.ok() && protocol::encode_payment_required(*again) == once);
  }
  return 0;
}
