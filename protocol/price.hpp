// Prices as people write them: atomic units ("10000") or dollars ("$0.01", converted with the
// asset's decimals). Typed amounts (the gate's route prices, the agent's budget options) must be
// exact; the Settlement-Overrides header's are rounded down.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "channel/amount.hpp"
#include "channel/result.hpp"

namespace paychan::protocol {

// "I" or "I.F" scaled by 10^scale into an integer, fractional digits past `scale` dropped (rounded
// down); at most `max_fraction` fractional digits when it is not 0.
// Errors: malformed_decimal, amount_overflow.
[[nodiscard]] Result<Uint128> parse_scaled_decimal(std::string_view text, unsigned scale, std::size_t max_fraction = 0);

// "$D" → D·10^decimals atomic units (rounded down); otherwise a canonical atomic decimal.
// Errors: malformed_decimal, amount_overflow.
[[nodiscard]] Result<Uint128> parse_price(std::string_view text, unsigned assetDecimals);

// As parse_price, but a dollar amount finer than the asset's decimals is refused, not rounded
// down: for amounts a person types (a gate's route prices, an agent's budget and limits), where
// "$0.0000009" silently becoming 0 would hide a mistake. Errors: as parse_price.
[[nodiscard]] Result<Uint128> parse_exact_price(std::string_view text, unsigned assetDecimals);

// The inverse for people: "$D.DDDDDD" with every one of the asset's decimals (exact, no rounding).
[[nodiscard]] std::string format_price(Uint128 atomic, unsigned assetDecimals);

}  // namespace paychan::protocol
