// Which offer a payment answers. Like the reference server, `accepted` must deep-equal (key order
// ignored) one of the PaymentRequirements the server offers, so an offer must be byte-stable
// between the 402 and the paid retry (the gate builds each once). Unlike it, extra.minDeposit is
// left out of the comparison: a hint to the payer, which an agent's stored copy of the offer may
// predate.
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <span>

#include "protocol/requirements.hpp"

namespace paychan::protocol {

// The index of the matching offer. Errors: unsupported_scheme (no offer of that scheme),
// invalid_network (no offer on that network), invalid_payment_requirements (changed fields).
[[nodiscard]] Result<std::size_t> match_offer(const PaymentRequirements& accepted,
                                              std::span<const PaymentRequirements> offers);

}  // namespace paychan::protocol
