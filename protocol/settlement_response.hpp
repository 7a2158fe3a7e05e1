// x402 v2's SettlementResponse (the PAYMENT-RESPONSE header and the facilitator's /settle reply),
// with the typed view of a batch-settlement response's `extra` (chargedAmount, channelState).
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>

#include "protocol/requirements.hpp"

namespace paychan::protocol {

struct SettlementResponse {
  bool success = false;
  std::optional<std::string> errorReason;
  std::optional<std::string> errorMessage;
  std::string transaction;  // "" for a voucher (nothing on chain)
  std::string network;
  std::optional<std::string> payer;
  std::optional<std::string> amount;  // "" for a voucher, the deposit/refund/settle amount otherwise
  Json extra;
  Json extensions;
};

struct BatchSettlementResponseExtra {
  std::optional<Uint128> chargedAmount;
  std::optional<ChannelSnapshot> channelState;
  std::optional<VoucherState> voucherState;
  friend bool operator==(const BatchSettlementResponseExtra&, const BatchSettlementResponseExtra&) = default;
};

// Errors: malformed_json, input_too_large, invalid_payload with the path.
[[nodiscard]] Result<SettlementResponse> decode_settlement_response(std::string_view json);
[[nodiscard]] std::string encode_settlement_response(const SettlementResponse& r);

[[nodiscard]] Result<BatchSettlementResponseExtra> batch_response_extra(const SettlementResponse& r);
// The same read straight from a response's JSON in one pass (the agent reads it on every paid request).
[[nodiscard]] Result<BatchSettlementResponseExtra> decode_batch_response_extra(std::string_view json);
[[nodiscard]] Json make_response_extra(const BatchSettlementResponseExtra& extra);

}  // namespace paychan::protocol
