// The client's checks before it signs again (spec: "Client Verification Rules"), as pure functions.
// A violation means: stop signing on this channel and start a withdrawal.
// Thread-safety: pure functions.
#pragma once

#include <optional>

#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/ecdsa.hpp"
#include "channel/result.hpp"
#include "channel/types.hpp"

namespace paychan {

// What the client knew before the paid request.
struct ClientExpectation {
  Bytes32 channelId{};
  Uint128 previousCharged = 0;  // chargedCumulativeAmount before this request
  Uint128 offeredAmount = 0;    // the per-request maximum the client accepted
  std::optional<Uint128> balance;  // the balance the client expects, when it knows one
  // Set when the server has just refused a voucher for want of funds (channel not found, cumulative
  // exceeds balance): `balance` is then only a ceiling. The receiver may refund what is unclaimed
  // without the payer asking (a cooperative refund is the receiver's to sign; the reference server
  // refunds idle channels so), which lowers the balance behind the client's back and returns the
  // money to the payer. A balance above the ceiling stays a violation.
  bool balanceIsCeiling = false;
};

// What a PAYMENT-RESPONSE reported (extra.chargedAmount and extra.channelState).
struct ChargeReport {
  Bytes32 channelId{};
  Uint128 chargedAmount = 0;
  Uint128 chargedCumulativeAmount = 0;
  Uint128 balance = 0;
};

// Steady-state rules 1–4, and a balance at least the running total. Returns the new
// chargedCumulativeAmount.
// Codes: response_overcharged, response_cumulative_mismatch, response_channel_mismatch,
// response_balance_mismatch.
[[nodiscard]] Result<Uint128> check_charge_report(const ClientExpectation& expected, const ChargeReport& report);

// The next voucher's ceiling: charged so far + the offered per-request maximum. Code: amount_overflow.
[[nodiscard]] Result<Voucher> next_voucher(const Bytes32& channelId, Uint128 charged, Uint128 offeredAmount);

// A corrective 402 carries the server's chargedCumulativeAmount and the last voucher it holds.
// The client adopts that total only if the voucher is its own signature over
// Voucher(channelId, signedMaxClaimable), the total does not exceed it, and the voucher is one the
// server can hold: at most `heldCeiling`, the highest voucher the client sent that was not refused.
// (A server may otherwise refuse the voucher it was just sent and present that very voucher as held
// and charged: the client would sign again and pay twice for one request.)
// Returns the total to adopt. Codes: corrective_state_unsigned, corrective_state_not_held.
[[nodiscard]] Result<Uint128> adopt_corrective_state(const Bytes32& domainSeparator, const Address& ownSigner,
                                                     Uint128 heldCeiling, const Bytes32& channelId,
                                                     Uint128 chargedCumulativeAmount, const SignedVoucher& voucherState);

}  // namespace paychan
