// The connection's PAYMENT-SIGNATURE decoder against the stateless one: with a voucher payload
// remembered, it decodes any next header to what decode_payment_signature makes of it. The input
// is the next header's JSON; the corpus starts from the remembered voucher's successor, so most
// mutations stay close to the text the decoder compares with.
#include "fuzz.hpp"
#include "protocol/base64.hpp"
#include "protocol/headers.hpp"
#include "protocol/payment_signature_decoder.hpp"

namespace {

constexpr std::string_view kRemembered =
    R"({"x402Version":2,"resource":{"url":"http://127.0.0.1:8402/v1/infer"},"accepted":{"scheme":"batch-settlement",)"
    R"("network":"eip155:31337","amount":"1","asset":"0xA331d0E957513E3882845CC0af837d838f9d3BBe",)"
    R"("payTo":"0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902","maxTimeoutSeconds":3600,"extra":{)"
    R"("receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8","withdrawDelay":900,"name":"USDC",)"
    R"("version":"2"}},"payload":{"type":"voucher","channelConfig":{"payer":"0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a",)"
    R"("payerAuthorizer":"0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a","receiver":"0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902",)"
    R"("receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8","token":"0xA331d0E957513E3882845CC0af837d838f9d3BBe",)"
    R"("withdrawDelay":900,"salt":"0x0000000000000000000000000000000000000000000000000000000000000000"},"voucher":{)"
    R"("channelId":"0xf632fd7f59b600f9412deab1233c4a0a0a05f80d24a1b07a8ff050499eb8fdc9","maxClaimableAmount":"1",)"
    R"("signature":"0x79a639586d5094d45fa975dcd6fe5c5e15ad4685242ae28f83fa8efdf08486556d06a2d5958bc03e01535e727e291c00)"
    R"(21098575ce340c5f019f823838c28c821c"}}})";

std::string outcome(const paychan::Result<paychan::protocol::PaymentPayload>& r) {
  return r ? "payload " + paychan::protocol::encode_payment_payload(*r) : "error " + r.error().to_string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  protocol::PaymentSignatureDecoder decoder;
  fuzz::require(decoder.decode(protocol::base64_encode(kRemembered)).ok());
  const std::string next = protocol::base64_encode(fuzz::text(data, size));
  fuzz::require(outcome(decoder.decode(next)) == outcome(protocol::decode_payment_signature(next)));
  return 0;
}
