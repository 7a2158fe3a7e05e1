#include "protocol/offer_match.hpp"

#include <algorithm>

namespace paychan::protocol {

Result<std::size_t> match_offer(const PaymentRequirements& accepted, std::span<const PaymentRequirements> offers) {
  const auto it = std::find(offers.begin(), offers.end(), accepted);
  if (it != offers.end()) return static_cast<std::size_t>(it - offers.begin());
  // No exact match: say which part differs, most general first.
  const auto same_scheme = [&](const PaymentRequirements& o) { return o.scheme == accepted.scheme; };
  if (std::none_of(offers.begin(), offers.end(), same_scheme))
    return fail(ErrorCode::unsupported_scheme, "no offer of scheme " + accepted.scheme);
  if (std::none_of(offers.begin(), offers.end(),
                   [&](const PaymentRequirements& o) { return same_scheme(o) && o.network == accepted.network; }))
    return fail(ErrorCode::invalid_network, "no " + accepted.scheme + " offer on " + accepted.network);
  return fail(ErrorCode::invalid_payment_requirements, "accepted does not match any offered requirements");
}

}  // namespace paychan::protocol
