// The facilitator's HTTP API messages (specs/x402-specification-v2.md, "Facilitator"):
// POST /verify and /settle take {x402Version, paymentPayload, paymentRequirements};
// /verify answers VerifyResponse, /settle a SettlementResponse; GET /supported answers
// SupportedResponse.
// Thread-safety: plain values and pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/payment_payload.hpp"
#include "protocol/settlement_response.hpp"

namespace paychan::protocol {

struct FacilitatorRequest {  // the body of /verify and of /settle
  std::uint64_t x402Version = kX402Version;
  PaymentPayload paymentPayload;
  PaymentRequirements paymentRequirements;
};

struct VerifyResponse {
  bool isValid = false;
  std::optional<std::string> invalidReason;
  std::optional<std::string> invalidMessage;
  std::optional<std::string> payer;
  Json extra;  // batch-settlement: the on-chain channel snapshot
};

struct SupportedKind {
  std::uint64_t x402Version = kX402Version;
  std::string scheme;
  std::string network;
  Json extra;  // batch-settlement: {receiverAuthorizer}
};

struct SupportedResponse {
  std::vector<SupportedKind> kinds;
  std::vector<std::string> extensions;
  std::map<std::string, std::vector<std::string>> signers;  // e.g. "eip155:*" → addresses
};

// A /verify or /settle body may carry a claim batch (up to 1000 rows of ~650 bytes), far above a
// header-sized message: its own limit.
inline constexpr std::size_t kMaxFacilitatorRequestBytes = 1024 * 1024;

// Errors: input_too_large (above kMaxFacilitatorRequestBytes), then the payload decoders'.
[[nodiscard]] Result<FacilitatorRequest> decode_facilitator_request(std::string_view json);
[[nodiscard]] std::string encode_facilitator_request(const FacilitatorRequest& r);
[[nodiscard]] Result<VerifyResponse> decode_verify_response(std::string_view json);
[[nodiscard]] std::string encode_verify_response(const VerifyResponse& r);
[[nodiscard]] Result<SupportedResponse> decode_supported_response(std::string_view json);
[[nodiscard]] std::string encode_supported_response(const SupportedResponse& r);

// The receiverAuthorizer a batch-settlement kind of /supported advertises (extra.receiverAuthorizer),
// which servers may name to have the facilitator sign their claims and refunds; nullopt when it
// advertises none. Errors: malformed_json (an extra, or its address, that does not read).
[[nodiscard]] Result<std::optional<Address>> supported_receiver_authorizer(const SupportedKind& kind);

// The snapshot a batch-settlement /verify returns in extra (no chargedCumulativeAmount).
[[nodiscard]] Result<ChannelSnapshot> verify_snapshot(const VerifyResponse& r);
[[nodiscard]] Json make_verify_extra(const ChannelSnapshot& s);

}  // namespace paychan::protocol
