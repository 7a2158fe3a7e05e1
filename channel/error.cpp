#include "channel/error.hpp"

#include <array>
#include <utility>

namespace paychan {
namespace {

// Kept in enum order: to_string indexes it.
constexpr std::array kNames{
    std::string_view{"malformed_hex"},
    std::string_view{"malformed_decimal"},
    std::string_view{"amount_overflow"},
    std::string_view{"malformed_address"},
    std::string_view{"malformed_signature"},
    std::string_view{"malformed_base64"},
    std::string_view{"malformed_json"},
    std::string_view{"input_too_large"},
    std::string_view{"response_overcharged"},
    std::string_view{"response_cumulative_mismatch"},
    std::string_view{"response_channel_mismatch"},
    std::string_view{"response_balance_mismatch"},
    std::string_view{"corrective_state_unsigned"},
    std::string_view{"corrective_state_not_held"},
    std::string_view{"corrective_charges_unserved"},
    std::string_view{"response_settlement_failed"},
    std::string_view{"channel_withdrawal_pending"},
    std::string_view{"http_invalid_request"},
    std::string_view{"http_listen_failed"},
    std::string_view{"http_connect_failed"},
    std::string_view{"http_timeout"},
    std::string_view{"http_bad_response"},
    std::string_view{"http_response_too_large"},
    std::string_view{"http_peer_closed"},
    std::string_view{"facilitator_unavailable"},
    std::string_view{"store_failed"},
    std::string_view{"invalid_config"},
    std::string_view{"facilitator_unauthorized"},
    std::string_view{"policy_no_acceptable_offer"},
    std::string_view{"policy_price_exceeded"},
    std::string_view{"policy_budget_exceeded"},
    std::string_view{"channel_suspended"},
    std::string_view{"withdrawal_not_pending"},
    std::string_view{"withdrawal_not_finalizable"},
    std::string_view{"withdrawal_nothing_left"},
    std::string_view{"invalid_payload"},
    std::string_view{"invalid_payment_requirements"},
    std::string_view{"invalid_x402_version"},
    std::string_view{"invalid_scheme"},
    std::string_view{"invalid_network"},
    std::string_view{"unsupported_scheme"},
    std::string_view{"invalid_batch_settlement_evm_authorizer_address_mismatch"},
    std::string_view{"invalid_batch_settlement_evm_channel_busy"},
    std::string_view{"invalid_batch_settlement_evm_channel_id_mismatch"},
    std::string_view{"invalid_batch_settlement_evm_channel_not_found"},
    std::string_view{"invalid_batch_settlement_evm_channel_state_read_failed"},
    std::string_view{"invalid_batch_settlement_evm_charge_exceeds_signed_cumulative"},
    std::string_view{"invalid_batch_settlement_evm_claim_payload"},
    std::string_view{"invalid_batch_settlement_evm_claim_simulation_failed"},
    std::string_view{"invalid_batch_settlement_evm_claim_transaction_failed"},
    std::string_view{"invalid_batch_settlement_evm_cumulative_amount_mismatch"},
    std::string_view{"invalid_batch_settlement_evm_cumulative_below_claimed"},
    std::string_view{"invalid_batch_settlement_evm_cumulative_exceeds_balance"},
    std::string_view{"invalid_batch_settlement_evm_deposit_below_min_deposit"},
    std::string_view{"invalid_batch_settlement_evm_deposit_payload"},
    std::string_view{"invalid_batch_settlement_evm_deposit_simulation_failed"},
    std::string_view{"invalid_batch_settlement_evm_deposit_transaction_failed"},
    std::string_view{"invalid_batch_settlement_evm_eip6492_factory_not_allowed"},
    std::string_view{"invalid_batch_settlement_evm_erc3009_authorization_required"},
    std::string_view{"invalid_batch_settlement_evm_insufficient_balance"},
    std::string_view{"invalid_batch_settlement_evm_missing_channel"},
    std::string_view{"invalid_batch_settlement_evm_missing_eip712_domain"},
    std::string_view{"invalid_batch_settlement_evm_network_mismatch"},
    std::string_view{"invalid_batch_settlement_evm_payload_authorization_valid_after"},
    std::string_view{"invalid_batch_settlement_evm_payload_authorization_valid_before"},
    std::string_view{"invalid_batch_settlement_evm_payload_type"},
    std::string_view{"invalid_batch_settlement_evm_permit2_allowance_required"},
    std::string_view{"invalid_batch_settlement_evm_permit2_amount_mismatch"},
    std::string_view{"invalid_batch_settlement_evm_permit2_authorization_required"},
    std::string_view{"invalid_batch_settlement_evm_permit2_deadline_expired"},
    std::string_view{"invalid_batch_settlement_evm_permit2_invalid_signature"},
    std::string_view{"invalid_batch_settlement_evm_permit2_invalid_spender"},
    std::string_view{"invalid_batch_settlement_evm_receive_authorization_signature"},
    std::string_view{"invalid_batch_settlement_evm_receiver_authorizer_mismatch"},
    std::string_view{"invalid_batch_settlement_evm_receiver_mismatch"},
    std::string_view{"invalid_batch_settlement_evm_refund_amount_invalid"},
    std::string_view{"invalid_batch_settlement_evm_refund_no_balance"},
    std::string_view{"invalid_batch_settlement_evm_refund_payload"},
    std::string_view{"invalid_batch_settlement_evm_refund_simulation_failed"},
    std::string_view{"invalid_batch_settlement_evm_refund_transaction_failed"},
    std::string_view{"invalid_batch_settlement_evm_rpc_read_failed"},
    std::string_view{"invalid_batch_settlement_evm_scheme"},
    std::string_view{"invalid_batch_settlement_evm_settle_payload"},
    std::string_view{"invalid_batch_settlement_evm_nothing_to_settle"},
    std::string_view{"invalid_batch_settlement_evm_settle_simulation_failed"},
    std::string_view{"invalid_batch_settlement_evm_settle_transaction_failed"},
    std::string_view{"invalid_batch_settlement_evm_smart_wallet_deployment_failed"},
    std::string_view{"invalid_batch_settlement_evm_token_mismatch"},
    std::string_view{"invalid_batch_settlement_evm_transaction_reverted"},
    std::string_view{"invalid_batch_settlement_evm_unknown_settle_action"},
    std::string_view{"invalid_batch_settlement_evm_voucher_payload"},
    std::string_view{"invalid_batch_settlement_evm_voucher_signature"},
    std::string_view{"invalid_batch_settlement_evm_wait_for_receipt_failed"},
    std::string_view{"invalid_batch_settlement_evm_withdraw_delay_mismatch"},
    std::string_view{"invalid_batch_settlement_evm_withdraw_delay_out_of_range"},
};
static_assert(kNames.size() == kErrorCodeCount);

}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  return kNames[static_cast<std::size_t>(code)];
}

bool error_code_from_string(std::string_view text, ErrorCode& out) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == text) {
      out = static_cast<ErrorCode>(i);
      return true;
    }
  }
  return false;
}

std::string Error::to_string() const {
  std::string s{paychan::to_string(code)};
  if (!detail.empty()) {
    s += ": ";
    s += detail;
  }
  return s;
}

}  // namespace paychan
