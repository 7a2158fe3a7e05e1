// The connection's PAYMENT-SIGNATURE decoder against the stateless one: whatever it remembers, it
// decodes any next header to what decode_payment_signature makes of it. The input is the next
// header's JSON, after a fixed voucher payload; or, split at the first "\n--\n", a first JSON
// (remembered if it is a voucher payload) and the next. The corpus starts from the fixed one's
// successor, so that most mutations stay close to the text the decoder compares with.
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
std::string outcome(const paychan::Result<paychan::protocol::SharedPayload>& r) {
  return r ? "payload " + paychan::protocol::encode_payment_payload(**r) : "error " + r.error().to_string();
}

// Decodes `json` with `decoder` and requires the stateless decode's outcome.
paychan::Result<paychan::protocol::SharedPayload> decode_as_full(paychan::protocol::PaymentSignatureDecoder& decoder,
                                                                 std::string_view json) {
  const std::string header = paychan::protocol::base64_encode(json);
  auto decoded = decoder.decode(header);
  paychan::fuzz::require(outcome(decoded) == outcome(paychan::protocol::decode_payment_signature(header)));
  return decoded;
}

// The fixed payload is remembered, and its successor read from it: else this target would only
// compare full decodes.
const bool kRemembers = [] {
  std::string next(kRemembered);
  next.replace(next.find(R"("maxClaimableAmount":"1")"), 24, R"("maxClaimableAmount":"2")");
  paychan::protocol::PaymentSignatureDecoder decoder;
  decode_as_full(decoder, kRemembered);
  decode_as_full(decoder, next);
  paychan::fuzz::require(decoder.repeats() == 1);
  return true;
}();

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace paychan;
  const std::string_view input = fuzz::text(data, size);
  constexpr std::string_view kSplit = "\n--\n";
  const std::size_t split = input.find(kSplit);
  protocol::PaymentSignatureDecoder decoder;
  // The first payload is still held while the second is read (from it, when it is the remembered
  // voucher's successor): it must not change.
  const auto first = decode_as_full(decoder, split == std::string_view::npos ? kRemembered : input.substr(0, split));
  const std::string first_outcome = outcome(first);
  decode_as_full(decoder, split == std::string_view::npos ? input : input.substr(split + kSplit.size()));
  fuzz::require(outcome(first) == first_outcome);
  return 0;
}
