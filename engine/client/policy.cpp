#include "engine/client/policy.hpp"

#include <algorithm>

namespace paychan::engine::client {
namespace {

Result<ChosenOffer> typed(const protocol::PaymentRequirements& r) {
  ChosenOffer o;
  o.requirements = r;
  o.encoded = protocol::encode_payment_requirements(r);
  PAYCHAN_ASSIGN(o.extra, protocol::batch_settlement_extra(r));
  PAYCHAN_ASSIGN(o.chainId, protocol::evm_chain_id(r.network));
  PAYCHAN_ASSIGN(o.asset, parse_address(r.asset));
  PAYCHAN_ASSIGN(o.payTo, parse_address(r.payTo));
  PAYCHAN_ASSIGN(o.price, parse_uint128(r.amount));
  return o;
}

}  // namespace

Result<ChosenOffer> choose_offer(const protocol::PaymentRequired& required, const ClientPolicy& policy) {
  std::optional<Error> too_expensive;
  bool other_transfer = false;  // an offer asks for deposits by a method paychan does not sign
  // A Permit2 offer is taken when no ERC-3009 one is acceptable: its deposits need the payer's
  // approval of Permit2 first.
  std::optional<ChosenOffer> permit2;
  for (const auto& r : required.accepts) {
    if (r.scheme != protocol::kBatchSettlementScheme) continue;
    if (!policy.networks.empty() && std::find(policy.networks.begin(), policy.networks.end(), r.network) == policy.networks.end())
      continue;
    auto offer = typed(r);
    if (!offer) continue;
    // Deposits are ERC-3009 or Permit2 authorizations (payloads.hpp); an offer naming any other
    // method would refuse both.
    if (offer->extra.assetTransferMethod && *offer->extra.assetTransferMethod != "eip3009" &&
        *offer->extra.assetTransferMethod != "permit2") {
      other_transfer = true;
      continue;
    }
    if (!policy.assets.empty() && std::find(policy.assets.begin(), policy.assets.end(), offer->asset) == policy.assets.end())
      continue;
    if (offer->price > policy.maxPrice) {
      too_expensive = Error{ErrorCode::policy_price_exceeded, "the offer asks " + r.amount + " per request, above --max-price " +
                                                                   to_decimal(policy.maxPrice)};
      continue;
    }
    if (offer->extra.assetTransferMethod == "permit2") {
      if (!permit2) permit2 = std::move(*offer);
      continue;
    }
    return offer;
  }
  if (permit2) return std::move(*permit2);
  if (too_expensive) return Failure{*too_expensive};
  return fail(ErrorCode::policy_no_acceptable_offer,
              "no batch-settlement offer on an allowed network and asset among " + std::to_string(required.accepts.size()) +
                  (other_transfer ? " (one asks for deposits by a transfer method other than eip3009 and permit2, "
                                    "which paychan does not sign)"
                                  : ""));
}

Result<Uint128> deposit_amount(const ClientPolicy& policy, Uint128 price, std::optional<Uint128> minDeposit) {
  if (price > policy.maxDeposit)
    return fail(ErrorCode::policy_price_exceeded, "one request costs more than --max-deposit");
  Uint128 wanted = saturating_mul(price, policy.depositPrices);
  if (minDeposit && *minDeposit >= price) wanted = std::max(wanted, *minDeposit);
  return std::max(price, std::min(wanted, policy.maxDeposit));
}

}  // namespace paychan::engine::client
