// Every facilitator message decoder: /verify and /settle requests, /verify and /supported replies.
#include "fuzz.hpp"
#include "protocol/facilitator_api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  const auto in = fuzz::text(data, size);
  if (auto r = protocol::decode_facilitator_request(in)) {
    const std::string once = protocol::encode_facilitator_request(*r);
    auto again = protocol::decode_facilitator_request(once);
    fuzz::require(again.ok() && protocol::encode_facilitator_request(*again) == once);
  }
  if (auto v = protocol::decode_verify_response(in)) {
    (void)protocol::verify_snapshot(*v);
    fuzz::require(protocol::decode_verify_response(protocol::encode_verify_response(*v)).ok());
  }
  if (auto s = protocol::decode_supported_response(in)) {
    fuzz::require(protocol::decode_supported_response(protocol::encode_supported_response(*s)).ok());
    for (const auto& kind : s->kinds) (void)protocol::supported_receiver_authorizer(kind);
  }
  return 0;
}
