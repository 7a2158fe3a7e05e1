// The gate as an HTTP handler: what `paychan gate` serves and what a provider mounts in its own
// engine/http server.
//
//   GET /healthz  → 200 "ok" (the store and the workers are up)
//   GET /metrics  → Prometheus text (engine/gate/metrics.hpp)
//   a priced route without PAYMENT-SIGNATURE → 402 with PAYMENT-REQUIRED (the route's offer)
//   a priced route with one → authorize; refused: 400 (malformed header), 402 (with the reason in
//       PAYMENT-REQUIRED's `error`, and channelState/voucherState on a cumulative mismatch), 503
//       (facilitator or store unavailable, Retry-After); accepted: serve, then settle and answer
//       with PAYMENT-RESPONSE — or, for a refund, answer {"message":"Refund acknowledged",…}
//   any other path → the service, free of charge.
// Thread-safety: as http::Handler; Gate, OfferTable, Service and GateMetrics must outlive it.
#pragma once

#include "engine/gate/gate.hpp"
#include "engine/gate/metrics.hpp"
#include "engine/gate/offers.hpp"
#include "engine/gate/service.hpp"
#include "engine/http/handler.hpp"

namespace paychan::engine::gate {

class GateHandler final : public http::Handler {
 public:
  GateHandler(Gate& gate, const OfferTable& offers, Service& service, GateMetrics& metrics, unsigned assetDecimals)
      : gate_(gate), offers_(offers), service_(service), metrics_(metrics), decimals_(assetDecimals) {}

  http::Handled handle(http::Exchange& ex) override;

 private:
  http::Awaitable<void> paid(http::Exchange& ex, const Offer& offer, std::string header);
  http::Awaitable<void> refund(http::Exchange& ex, Authorization auth);
  http::Awaitable<void> free(http::Exchange& ex);
  void refuse(http::Exchange& ex, const Offer& offer, const Refusal& r);

  Gate& gate_;
  const OfferTable& offers_;
  Service& service_;
  GateMetrics& metrics_;
  unsigned decimals_;
};

}  // namespace paychan::engine::gate
