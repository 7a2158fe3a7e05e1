#include "engine/gate/offers.hpp"

#include <algorithm>

#include "engine/gate/route_key.hpp"

namespace paychan::engine::gate {
namespace {

Offer make_offer(const GateConfig& config, const RouteConfig& route) {
  protocol::PaymentRequirements r;
  r.scheme = std::string{protocol::kBatchSettlementScheme};
  r.network = config.network;
  r.amount = to_decimal(route.price);
  r.asset = to_checksum_hex(config.asset);
  r.payTo = to_checksum_hex(config.payTo);
  r.maxTimeoutSeconds = config.maxTimeoutSeconds;
  protocol::BatchSettlementExtra extra;
  extra.receiverAuthorizer = config.receiverAuthorizer;
  extra.withdrawDelay = config.withdrawDelay;
  extra.name = config.assetName;
  extra.version = config.assetVersion;
  // Absent for ERC-3009, the default, as the reference server's offers leave it.
  if (config.assetPermit2) extra.assetTransferMethod = "permit2";
  extra.minDeposit = route.minDeposit.value_or(saturating_mul(route.price, kDefaultMinDepositPrices));
  r.extra = protocol::make_extra(extra);
  return Offer{route, std::move(r),
               OfferTerms{config.asset, config.payTo, config.receiverAuthorizer, config.withdrawDelay, route.price},
               *extra.minDeposit, config.enforceMinDeposit};
}

}  // namespace

OfferTable OfferTable::build(const GateConfig& config) {
  OfferTable table;
  table.offers_.reserve(config.routes.size());
  for (const RouteConfig& route : config.routes) {
    table.offers_.push_back(make_offer(config, route));
    const bool prefix = route.path.ends_with('*');
    const std::string_view path = std::string_view{route.path}.substr(0, route.path.size() - (prefix ? 1 : 0));
    // "/data/*" takes "/data" and what lies under it, not "/database": its key keeps a segment's end.
    table.keys_.push_back(
        Key{route_key(path), route_key(path, KeyReading{.loose = true}), prefix, prefix && path.ends_with('/')});
  }
  return table;
}

bool OfferTable::Key::matches(std::string_view request, bool loose, bool format_dropped) const noexcept {
  if (format_dropped && prefix) return false;
  const std::string& own = loose ? loose_key : key;
  if (request == own) return true;
  if (!prefix) return false;
  if (own == "/") return true;
  return request.starts_with(own) && (!whole_segments || request[own.size()] == '/');
}

const Offer* OfferTable::find(std::string_view method, std::string_view path) const {
  // An exact route first (in file order), else the longest matching prefix: "/data/premium/*"
  // prices its requests even after "/data/*" (the first such in file order on a tie).
  const auto first = [&](std::string_view key, bool loose = false, bool format_dropped = false) -> const Offer* {
    const Offer* longest = nullptr;
    std::size_t longest_size = 0;
    for (std::size_t i = 0; i < offers_.size(); ++i) {
      if (!offers_[i].route.takes(method) || !keys_[i].matches(key, loose, format_dropped)) continue;
      if (!keys_[i].prefix) return &offers_[i];
      const std::size_t size = (loose ? keys_[i].loose_key : keys_[i].key).size();
      if (!longest || size > longest_size) longest = &offers_[i], longest_size = size;
    }
    return longest;
  };
  if (is_route_key(path)) return first(path);  // most requests: nothing to build
  // Readings may match different routes ("/data/../cheap/x": a resolving upstream serves /cheap/x,
  // Express's /data/* wildcard serves data): the dearest is charged, whichever the upstream takes.
  const Offer* dearest = nullptr;
  for (const ReadKey& read : route_keys(path))
    if (const Offer* offer = first(read.key, read.loose, read.format_dropped);
        offer && (!dearest || offer->route.price > dearest->route.price))
      dearest = offer;
  return dearest;
}

const Offer* OfferTable::find(std::string_view method, const OverrideMethods& overrides, std::string_view path) const {
  const Offer* dearest = find(method, path);
  const auto dearer = [&](const Offer* offer) {
    if (offer && (!dearest || offer->route.price > dearest->route.price)) dearest = offer;
  };
  for (const std::string& other : overrides.methods) dearer(find(other, path));
  if (!overrides.any) return dearest;
  // Any method: every route whose path matches, under each reading of the path (built once).
  const std::vector<ReadKey> keys = route_keys(path);
  for (std::size_t i = 0; i < offers_.size(); ++i)
    if (std::any_of(keys.begin(), keys.end(),
                    [&](const ReadKey& read) { return keys_[i].matches(read.key, read.loose, read.format_dropped); }))
      dearer(&offers_[i]);
  return dearest;
}

protocol::PaymentRequired payment_required(const Offer& offer, std::string resourceUrl, std::optional<std::string> error,
                                           const protocol::PaymentRequirements* accepted) {
  protocol::PaymentRequired p;
  p.error = std::move(error);
  p.resource.url = std::move(resourceUrl);
  p.resource.description = offer.route.description;
  p.resource.mimeType = offer.route.mimeType;
  p.accepts.push_back(accepted ? *accepted : offer.requirements);
  return p;
}

}  // namespace paychan::engine::gate
