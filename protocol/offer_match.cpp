#include "protocol/offer_match.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "protocol/json_reader.hpp"

namespace paychan::protocol {
namespace {

// `r` without extra.minDeposit. The hint tells a payer how much to deposit; it fixes nothing about
// the channel or the price (a gate enforces its own value), so an `accepted` copied before the
// offer announced it, or announced another (an agent's offer stored when its channel opened, before
// the provider upgraded or changed the minimum), still answers the same offer.
PaymentRequirements without_deposit_hint(PaymentRequirements r) {
  if (!r.extra.present()) return r;
  auto extra = parse_untrusted(r.extra.text(), ErrorCode::invalid_payment_requirements);
  if (!extra || !extra->IsObject() || !extra->RemoveMember("minDeposit")) return r;
  rapidjson::StringBuffer text;
  rapidjson::Writer<rapidjson::StringBuffer> writer(text);
  extra->Accept(writer);
  r.extra = Json::trusted(text.GetString());
  return r;
}

}  // namespace

Result<std::size_t> match_offer(const PaymentRequirements& accepted, std::span<const PaymentRequirements> offers) {
  const auto it = std::find(offers.begin(), offers.end(), accepted);
  if (it != offers.end()) return static_cast<std::size_t>(it - offers.begin());
  // Most payments echo the offer as it is: only a mismatch pays for the second look.
  const PaymentRequirements plain = without_deposit_hint(accepted);
  for (std::size_t i = 0; i < offers.size(); ++i)
    if (without_deposit_hint(offers[i]) == plain) return i;
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
