#include "protocol/headers.hpp"

#include "protocol/base64.hpp"
#include "protocol/codec_parts.hpp"

namespace paychan::protocol {

Result<std::string> header_json(std::string_view header) {
  if (header.size() > kMaxHeaderValue)
    return fail(ErrorCode::input_too_large, "header exceeds " + std::to_string(kMaxHeaderValue) + " bytes");
  return base64_decode(header, kMaxHeaderValue);
}

Result<PaymentPayload> decode_payment_signature(std::string_view header) {
  auto json = header_json(header);
  if (!json) return json.failure();
  return decode_payment_payload_in_place(*json);
}

std::string encode_payment_signature(const PaymentPayload& p) { return base64_encode(encode_payment_payload(p)); }

Result<PaymentRequired> decode_payment_required_header(std::string_view header) {
  auto json = header_json(header);
  if (!json) return json.failure();
  return decode_payment_required(*json);
}

std::string encode_payment_required_header(const PaymentRequired& p) {
  return base64_encode(encode_payment_required(p));
}

Result<SettlementResponse> decode_payment_response(std::string_view header) {
  auto json = header_json(header);
  if (!json) return json.failure();
  return decode_settlement_response(*json);
}

Result<BatchSettlementResponseExtra> decode_payment_response_extra(std::string_view header) {
  auto json = header_json(header);
  if (!json) return json.failure();
  return decode_batch_response_extra(*json);
}

std::string encode_payment_response(const SettlementResponse& r) {
  return base64_encode(encode_settlement_response(r));
}

}  // namespace paychan::protocol
