#include "channel/client_rules.hpp"

#include "channel/eip712.hpp"

namespace paychan {

Result<Uint128> check_charge_report(const ClientExpectation& expected, const ChargeReport& report) {
  if (report.channelId != expected.channelId)
    return fail(ErrorCode::response_channel_mismatch, "the response reports another channel");
  if (report.chargedAmount > expected.offeredAmount)
    return fail(ErrorCode::response_overcharged, "charged " + to_decimal(report.chargedAmount) +
                                                     " above the offered " + to_decimal(expected.offeredAmount));
  const auto total = checked_add(expected.previousCharged, report.chargedAmount);
  if (!total || report.chargedCumulativeAmount != *total)
    return fail(ErrorCode::response_cumulative_mismatch,
                "running total " + to_decimal(report.chargedCumulativeAmount) + " is not previous " +
                    to_decimal(expected.previousCharged) + " + charge " + to_decimal(report.chargedAmount));
  // A voucher above the balance is refused (maxClaimableAmount <= balance), so a total charged above
  // it contradicts itself: a server making the agent believe the channel emptier than it is.
  if (report.balance < report.chargedCumulativeAmount)
    return fail(ErrorCode::response_balance_mismatch, "balance " + to_decimal(report.balance) +
                                                          " is below the running total " +
                                                          to_decimal(report.chargedCumulativeAmount) + " it charged");
  if (expected.balance && (expected.balanceIsCeiling ? report.balance > *expected.balance
                                                     : report.balance != *expected.balance))
    return fail(ErrorCode::response_balance_mismatch, "balance " + to_decimal(report.balance) + ", expected " +
                                                          (expected.balanceIsCeiling ? "at most " : "") +
                                                          to_decimal(*expected.balance));
  return *total;
}

Result<Voucher> next_voucher(const Bytes32& channelId, Uint128 charged, Uint128 offeredAmount) {
  const auto ceiling = checked_add(charged, offeredAmount);
  if (!ceiling) return fail(ErrorCode::amount_overflow, "voucher ceiling exceeds uint128");
  return Voucher{channelId, *ceiling};
}

Result<Uint128> adopt_corrective_state(const Bytes32& domainSeparator, const Address& ownSigner, Uint128 heldCeiling,
                                       const Bytes32& channelId, Uint128 chargedCumulativeAmount,
                                       const SignedVoucher& voucherState) {
  if (voucherState.voucher.channelId != channelId)
    return fail(ErrorCode::corrective_state_unsigned, "voucherState names another channel");
  if (!signed_by(voucher_digest(domainSeparator, voucherState.voucher), voucherState.signature, ownSigner))
    return fail(ErrorCode::corrective_state_unsigned, "voucherState is not signed by this client");
  if (chargedCumulativeAmount > voucherState.voucher.maxClaimableAmount)
    return fail(ErrorCode::corrective_state_unsigned,
                "the server's charged total exceeds the voucher it holds");
  if (voucherState.voucher.maxClaimableAmount > heldCeiling)
    return fail(ErrorCode::corrective_state_not_held,
                "voucherState for " + to_decimal(voucherState.voucher.maxClaimableAmount) +
                    " is above every voucher the server was sent and did not refuse (" + to_decimal(heldCeiling) + ")");
  return chargedCumulativeAmount;
}

}  // namespace paychan
