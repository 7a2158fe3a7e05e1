// The three x402 v2 HTTP headers: standard padded base64 of compact UTF-8 JSON
// (specs/transports-v2/http.md).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "protocol/payment_payload.hpp"
#include "protocol/requirements.hpp"
#include "protocol/settlement_response.hpp"

namespace paychan::protocol {

inline constexpr std::string_view kPaymentRequiredHeader = "PAYMENT-REQUIRED";    // server → client, on 402
inline constexpr std::string_view kPaymentSignatureHeader = "PAYMENT-SIGNATURE";  // client → server
inline constexpr std::string_view kPaymentResponseHeader = "PAYMENT-RESPONSE";    // server → client

// A header value over this many bytes is refused before decoding (input_too_large).
inline constexpr std::size_t kMaxHeaderValue = 32 * 1024;

// Errors: input_too_large, malformed_base64, then the JSON decoder's.
[[nodiscard]] Result<PaymentPayload> decode_payment_signature(std::string_view header);
[[nodiscard]] std::string encode_payment_signature(const PaymentPayload& p);
[[nodiscard]] Result<PaymentRequired> decode_payment_required_header(std::string_view header);
[[nodiscard]] std::string encode_payment_required_header(const PaymentRequired& p);
[[nodiscard]] Result<SettlementResponse> decode_payment_response(std::string_view header);
[[nodiscard]] std::string encode_payment_response(const SettlementResponse& r);
// A PAYMENT-RESPONSE's batch-settlement extra (decode_batch_response_extra).
[[nodiscard]] Result<BatchSettlementResponseExtra> decode_payment_response_extra(std::string_view header);

// The JSON text inside a header value (for tools). Errors: input_too_large, malformed_base64.
[[nodiscard]] Result<std::string> header_json(std::string_view header);

}  // namespace paychan::protocol
