// What an agent is willing to pay, and which offer of a 402 it takes under that policy.
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/result.hpp"
#include "protocol/requirements.hpp"

namespace paychan::engine::client {

struct ClientPolicy {
  std::vector<std::string> networks;  // CAIP-2 networks allowed; empty: any eip155 network
  std::vector<Address> assets;        // tokens allowed; empty: any
  Uint128 maxPrice = 0;               // per request, atomic units
  Uint128 maxDeposit = 0;             // per deposit, atomic units
  Uint128 budget = 0;                 // Σ over channels of the highest voucher signed (what providers can claim)
  Uint128 depositPrices = 100;        // a deposit covers this many requests at the offered price
};

// A batch-settlement offer the policy accepts, with its typed parts.
struct ChosenOffer {
  protocol::PaymentRequirements requirements;  // echoed as `accepted`, unchanged
  std::string encoded;  // `requirements` as a channel stores them (encode_payment_requirements), once
  protocol::BatchSettlementExtra extra;
  std::uint64_t chainId = 0;
  Address asset;
  Address payTo;
  Uint128 price = 0;
};

// The first acceptable offer whose deposits go by ERC-3009, else the first by Permit2 (which needs
// the payer's approval of Permit2 beforehand). Errors: policy_no_acceptable_offer (none on an allowed network and
// asset, or malformed), policy_price_exceeded (acceptable but too expensive).
[[nodiscard]] Result<ChosenOffer> choose_offer(const protocol::PaymentRequired& required, const ClientPolicy& policy);

// The deposit for a channel at `price`: depositPrices × price, or the offer's `minDeposit` if that
// is more, capped at maxDeposit, never below one price. A minDeposit below one price is no hint (as
// the reference client reads it). Capped below it, the deposit may be refused by a server that
// enforces its minimum (invalid_batch_settlement_evm_deposit_below_min_deposit).
// Error: policy_price_exceeded when even one price is above maxDeposit.
[[nodiscard]] Result<Uint128> deposit_amount(const ClientPolicy& policy, Uint128 price,
                                             std::optional<Uint128> minDeposit = std::nullopt);

}  // namespace paychan::engine::client
