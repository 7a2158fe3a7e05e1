#include "engine/gate/offers.hpp"

namespace paychan::engine::gate {
namespace {

bool matches(const RouteConfig& route, std::string_view method, std::string_view path) noexcept {
  if (!route.method.empty() && route.method != method) return false;
  if (route.path.ends_with('*')) return path.starts_with(std::string_view{route.path}.substr(0, route.path.size() - 1));
  return route.path == path;
}

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
  r.extra = protocol::make_extra(extra);
  return Offer{route, std::move(r),
               OfferTerms{config.asset, config.payTo, config.receiverAuthorizer, config.withdrawDelay, route.price}};
}

}  // namespace

OfferTable OfferTable::build(const GateConfig& config) {
  OfferTable table;
  table.offers_.reserve(config.routes.size());
  for (const RouteConfig& route : config.routes) table.offers_.push_back(make_offer(config, route));
  return table;
}

const Offer* OfferTable::find(std::string_view method, std::string_view path) const noexcept {
  for (const Offer& o : offers_)
    if (!o.route.path.ends_with('*') && matches(o.route, method, path)) return &o;
  for (const Offer& o : offers_)
    if (o.route.path.ends_with('*') && matches(o.route, method, path)) return &o;
  return nullptr;
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
