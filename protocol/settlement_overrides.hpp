// The `Settlement-Overrides` response header (the reference server's convention, @x402/core's
// x402HTTPResourceServer): an upstream handler reports what a request actually cost, as JSON
// {"amount": A}, where A is
//   "1234"     atomic units,
//   "50%"      a percentage of the offered amount (at most two decimals, rounded down),
//   "$0.004"   dollars, converted with the asset's decimals (rounded down).
// The gate strips the header before replying; the charge must still be ≤ the offered amount,
// which commit_charge enforces.
// Thread-safety: pure function.
#pragma once

#include <string_view>

#include "channel/amount.hpp"
#include "channel/result.hpp"

namespace paychan::protocol {

// Header value → atomic charge. Errors: malformed_json, malformed_decimal, amount_overflow,
// input_too_large.
[[nodiscard]] Result<Uint128> parse_settlement_overrides(std::string_view header, Uint128 offeredAmount,
                                                          unsigned assetDecimals);

}  // namespace paychan::protocol
