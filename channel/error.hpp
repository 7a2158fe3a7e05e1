// The one error type of paychan's pure layers (channel/, protocol/): a code from the x402 vocabulary
// (spelled on the wire exactly as the spec spells it) plus a human detail for logs and CLIs.
// Codes that the spec does not name (codec failures) use paychan's own `malformed_*` names.
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace paychan {

enum class ErrorCode {
  // Codec and envelope errors (paychan's own words, reported as HTTP 400 by the gate).
  malformed_hex,
  malformed_decimal,
  amount_overflow,
  malformed_address,
  malformed_signature,
  malformed_base64,
  malformed_json,
  input_too_large,
  // The client's checks of a server's answer (spec: "Client Verification Rules"); never on the wire.
  response_overcharged,          // extra.chargedAmount > the offered per-request amount
  response_cumulative_mismatch,  // channelState.chargedCumulativeAmount != previous + chargedAmount
  response_channel_mismatch,     // channelState.channelId is not the channel paid into
  response_balance_mismatch,     // channelState.balance is not what the client expects
  corrective_state_unsigned,     // a corrective 402's voucherState is not the client's own signature
  corrective_state_not_held,     // ...or is one the server cannot hold: it refused it, or was never sent it
  corrective_charges_unserved,   // ...or takes up yet another charge whose answer never came (see payment_client.hpp)
  response_settlement_failed,    // a 402 with only a failed PAYMENT-RESPONSE: the server's settlement failed after serving
  // The gate refuses a channel whose timed withdrawal completes within the safety margin.
  channel_withdrawal_pending,
  // HTTP transport (engine/http); the gate maps them to 502/504, they never appear on the wire.
  http_invalid_request,    // a URL, method or header the client cannot send
  http_listen_failed,      // the server could not bind or listen
  http_connect_failed,     // the peer refused or could not be reached
  http_timeout,            // connect, response or read timeout
  http_bad_response,       // malformed response, or the connection ended before it was complete
  http_response_too_large, // the response exceeded the client's limits
  http_peer_closed,        // the downstream client went away while we were answering
  // The gate's own conditions: answered 503 (facilitator, store) or refused at start-up (config).
  facilitator_unavailable,  // the facilitator did not answer (down, timeout, malformed reply)
  store_failed,             // the channel store could not make a state durable
  invalid_config,           // a gate/facilitator/settle configuration file or option is wrong
  // A facilitator with clients configured answers 401 to a /verify or /settle without one's token.
  facilitator_unauthorized,
  // The agent's own policy refusing to pay (engine/client); never on the wire.
  policy_no_acceptable_offer,  // no batch-settlement offer on an allowed network and asset
  policy_price_exceeded,       // the offer's per-request amount is above the agent's maximum price
  policy_budget_exceeded,      // paying would take the agent's signed total past its budget
  channel_suspended,           // the agent stopped signing on this channel after a server violation
  // The agent's timed withdrawal (engine/client/withdrawal.hpp); never on the wire.
  withdrawal_not_pending,      // finalize asked, but no withdrawal of this channel is pending on chain
  withdrawal_not_finalizable,  // the withdrawDelay has not elapsed yet (the detail says when it will)
  withdrawal_nothing_left,     // everything in the channel is claimed or withdrawn already
  // x402 v2 generic codes (specs/x402-specification-v2.md).
  invalid_payload,
  invalid_payment_requirements,
  invalid_x402_version,
  invalid_scheme,
  invalid_network,
  unsupported_scheme,
  // batch-settlement on EVM (specs/schemes/batch-settlement/scheme_batch_settlement_evm.md), verbatim.
  invalid_batch_settlement_evm_authorizer_address_mismatch,
  invalid_batch_settlement_evm_channel_busy,
  invalid_batch_settlement_evm_channel_id_mismatch,
  invalid_batch_settlement_evm_channel_not_found,
  invalid_batch_settlement_evm_channel_state_read_failed,
  invalid_batch_settlement_evm_charge_exceeds_signed_cumulative,
  invalid_batch_settlement_evm_claim_payload,
  invalid_batch_settlement_evm_claim_simulation_failed,
  invalid_batch_settlement_evm_claim_transaction_failed,
  invalid_batch_settlement_evm_cumulative_amount_mismatch,
  invalid_batch_settlement_evm_cumulative_below_claimed,
  invalid_batch_settlement_evm_cumulative_exceeds_balance,
  invalid_batch_settlement_evm_deposit_below_min_deposit,
  invalid_batch_settlement_evm_deposit_payload,
  invalid_batch_settlement_evm_deposit_simulation_failed,
  invalid_batch_settlement_evm_deposit_transaction_failed,
  invalid_batch_settlement_evm_eip6492_factory_not_allowed,
  invalid_batch_settlement_evm_erc3009_authorization_required,
  invalid_batch_settlement_evm_insufficient_balance,
  invalid_batch_settlement_evm_missing_channel,
  invalid_batch_settlement_evm_missing_eip712_domain,
  invalid_batch_settlement_evm_network_mismatch,
  invalid_batch_settlement_evm_payload_authorization_valid_after,
  invalid_batch_settlement_evm_payload_authorization_valid_before,
  invalid_batch_settlement_evm_payload_type,
  invalid_batch_settlement_evm_permit2_allowance_required,
  invalid_batch_settlement_evm_permit2_amount_mismatch,
  invalid_batch_settlement_evm_permit2_authorization_required,
  invalid_batch_settlement_evm_permit2_deadline_expired,
  invalid_batch_settlement_evm_permit2_invalid_signature,
  invalid_batch_settlement_evm_permit2_invalid_spender,
  invalid_batch_settlement_evm_receive_authorization_signature,
  invalid_batch_settlement_evm_receiver_authorizer_mismatch,
  invalid_batch_settlement_evm_receiver_mismatch,
  invalid_batch_settlement_evm_refund_amount_invalid,
  invalid_batch_settlement_evm_refund_no_balance,
  invalid_batch_settlement_evm_refund_payload,
  invalid_batch_settlement_evm_refund_simulation_failed,
  invalid_batch_settlement_evm_refund_transaction_failed,
  invalid_batch_settlement_evm_rpc_read_failed,
  invalid_batch_settlement_evm_scheme,
  invalid_batch_settlement_evm_settle_payload,
  invalid_batch_settlement_evm_nothing_to_settle,
  invalid_batch_settlement_evm_settle_simulation_failed,
  invalid_batch_settlement_evm_settle_transaction_failed,
  invalid_batch_settlement_evm_smart_wallet_deployment_failed,
  invalid_batch_settlement_evm_token_mismatch,
  invalid_batch_settlement_evm_transaction_reverted,
  invalid_batch_settlement_evm_unknown_settle_action,
  invalid_batch_settlement_evm_voucher_payload,
  invalid_batch_settlement_evm_voucher_signature,
  invalid_batch_settlement_evm_wait_for_receipt_failed,
  invalid_batch_settlement_evm_withdraw_delay_mismatch,
  invalid_batch_settlement_evm_withdraw_delay_out_of_range,
};
// How many codes there are (for tables indexed by code); the last enumerator above plus one.
inline constexpr std::size_t kErrorCodeCount =
    static_cast<std::size_t>(ErrorCode::invalid_batch_settlement_evm_withdraw_delay_out_of_range) + 1;

// The wire spelling of a code, e.g. "invalid_batch_settlement_evm_channel_busy".
[[nodiscard]] std::string_view to_string(ErrorCode code) noexcept;
// The inverse of to_string; false when `text` is not a known code.
[[nodiscard]] bool error_code_from_string(std::string_view text, ErrorCode& out) noexcept;

struct Error {
  ErrorCode code;
  std::string detail;  // for humans; never contains keys

  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const Error& a, const Error& b) { return a.code == b.code; }
};

}  // namespace paychan
