// The gate's priced routes and the offer each one makes. Every offer's PaymentRequirements is built
// once with its table and never rebuilt, so the bytes a client echoes in `accepted` deep-equal what
// the gate compares them with (the reference server's test); a reload builds a new table, its
// offers for unchanged routes byte-identical.
// Thread-safety: immutable after build(); find() is safe from every thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channel/server_rules.hpp"
#include "engine/gate/gate_config.hpp"
#include "engine/gate/method_override.hpp"
#include "protocol/requirements.hpp"

namespace paychan::engine::gate {

struct Offer {
  RouteConfig route;
  protocol::PaymentRequirements requirements;  // the accepts[] entry, byte-stable
  OfferTerms terms;                            // what it fixes about the channel, typed
  Uint128 minDeposit = 0;                      // extra.minDeposit: the route's, or ten prices
  bool enforceMinDeposit = false;              // a smaller deposit is refused
};

// A minDeposit of so many prices when the route sets none: the reference server's default.
inline constexpr Uint128 kDefaultMinDepositPrices = 10;

class OfferTable {
 public:
  [[nodiscard]] static OfferTable build(const GateConfig& config);

  // The route matching `method` and `path` (an exact path in file order, else the longest '*'
  // prefix), both compared in route_key() spelling, a GET route taking HEAD too; nullptr for a path
  // the gate does not price.
  [[nodiscard]] const Offer* find(std::string_view method, std::string_view path) const;
  // The same for a request of `method` that names `overrides` (method_override.hpp): frameworks
  // serve it as any of them, so the dearest route is charged.
  [[nodiscard]] const Offer* find(std::string_view method, const OverrideMethods& overrides, std::string_view path) const;
  [[nodiscard]] const std::vector<Offer>& offers() const noexcept { return offers_; }

 private:
  struct Key {
    std::string key;        // route_key() of the route's path, without a prefix route's '*'
    std::string loose_key;  // the same in the loose reading (KeyReading::loose), its format kept
    bool prefix = false;    // a '*' route
    bool whole_segments = false;  // a prefix ending in '/': "/data" matches "/data/x", not "/database"
    // Whether a request's key, as read, names this route (a key without its format: only an exact one).
    [[nodiscard]] bool matches(std::string_view request, bool loose, bool format_dropped) const noexcept;
  };
  std::vector<Offer> offers_;
  std::vector<Key> keys_;  // one per offer
};

// The PAYMENT-REQUIRED body for `offer` at `resourceUrl`, with `error` set when refusing a payment.
// `accepted` replaces the offer's requirements (a corrective 402 adds channelState/voucherState).
[[nodiscard]] protocol::PaymentRequired payment_required(const Offer& offer, std::string resourceUrl,
                                                         std::optional<std::string> error = std::nullopt,
                                                         const protocol::PaymentRequirements* accepted = nullptr);

}  // namespace paychan::engine::gate
