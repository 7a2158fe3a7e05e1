// A PAYMENT-RESPONSE / facilitator /settle body, and its batch-settlement extra (read in two
// steps, and in the agent's one pass, which must agree).
#include "fuzz.hpp"
#include "protocol/settlement_response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  const auto one_pass = protocol::decode_batch_response_extra(fuzz::text(data, size));
  auto r = protocol::decode_settlement_response(fuzz::text(data, size));
  if (!r) fuzz::require(!one_pass);
  if (r) {
    const auto two_steps = protocol::batch_response_extra(*r);
    fuzz::require(one_pass.ok() == two_steps.ok() && (!one_pass.ok() || *one_pass == *two_steps));
    const std::string once = protocol::encode_settlement_response(*r);
    auto again = protocol::decode_settlement_response(once);
    fuzz::require(again.ok() && protocol::encode_settlement_response(*again) == once);
  }
  return 0;
}
