// The gate as an HTTP handler: what `paychan gate` serves and what a provider mounts in its own
// engine/http server.
//
//   GET /healthz  → 200 "ok": liveness, an I/O thread answered. The store's and the facilitator's
//                   troubles show in /metrics (refusals by reason, the fold backlog) and the log.
//   GET /metrics  → Prometheus text (engine/gate/metrics.hpp)
//   a priced route without PAYMENT-SIGNATURE → 402 with PAYMENT-REQUIRED (the route's offer); one
//       that expects 100 Continue gets it before its body is sent, and the connection closes
//   a priced route with one → authorize; refused: 400 (malformed header), 402 (with the reason in
//       PAYMENT-REQUIRED's `error`, and channelState/voucherState on a cumulative mismatch), 503
//       (facilitator or store unavailable, Retry-After); accepted: serve, then settle and answer
//       with PAYMENT-RESPONSE — or, for a refund, answer {"message":"Refund acknowledged",…}
//   any other path → the service, free of charge.
// Thread-safety: as http::Handler; Gate, Service and GateMetrics must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "engine/gate/gate.hpp"
#include "engine/gate/metrics.hpp"
#include "engine/gate/offers.hpp"
#include "engine/gate/service.hpp"
#include "engine/http/handler.hpp"
#include "engine/log_throttle.hpp"

namespace paychan::engine::gate {

// One paid request's outcome, for an access log. Never keys or signatures: the channel appears
// as a short prefix of its id.
struct AccessRecord {
  std::string_view method;
  std::string_view path;
  int status = 0;
  // "paid", "refused", "upstream_failed", "refunded", or "unanswered" (status 0): the gate stopped
  // before the request's answer was decided.
  std::string_view outcome;
  std::string_view reason;   // the error code when refused or failed
  bool byFacilitator = false;  // refused by the facilitator
  // Why the upstream failed (its address, say), or that a streamed answer was cut: for the
  // operator, not the client.
  std::string detail;
  std::string channel;       // "0x1234abcd…" or ""
  Uint128 charged = 0;
  std::chrono::microseconds elapsed{0};
};
// logfmt: `method=POST path=/v1/x status=200 outcome=paid channel=0x1234abcd… charged=10000 us=812`,
// and `detail="…"` when the upstream failed or a stream was cut (and why, when known).
[[nodiscard]] std::string to_logfmt(const AccessRecord& r);

class GateHandler final : public http::Handler {
 public:
  // `offers` and every table handed to use_offers(): never null.
  GateHandler(Gate& gate, std::shared_ptr<const OfferTable> offers, Service& service, GateMetrics& metrics,
              unsigned assetDecimals);

  http::Handled handle(http::Exchange& ex) override;
  // A priced route's request without payment that expects 100 Continue gets its 402 at once.
  bool answer_before_body(http::Exchange& ex) override;
  // Called once per paid request, and per free one whose upstream failed (not for 402 offers), on
  // the I/O thread: keep it cheap.
  void set_access_log(std::function<void(const AccessRecord&)> sink) { access_log_ = std::move(sink); }
  // Without an access log, what needs the operator still gets a line (logfmt, as the access log's):
  // an answer 502, 503 or 504 (the upstream, the facilitator or the store failing) and a payment
  // the facilitator refused. At most LogThrottle's default of each kind (50 per 10 s), the rest counted.
  void set_operator_log(std::function<void(const std::string&)> sink) { operator_log_ = std::move(sink); }
  // How clients reach the gate ("http", the default, or "https" behind a TLS terminator): the
  // scheme of the resource URL in its offers. Before serving.
  void set_public_scheme(std::string scheme) { public_scheme_ = std::move(scheme); }
  // /metrics is served on another listener (GateConfig::metricsListen): here its path is the API's
  // like any other (priced if a route covers it). Before serving.
  void serve_metrics_elsewhere() noexcept { metrics_here_ = false; }
  // From now on requests are priced by `offers` (a reloaded configuration's routes): from one thread
  // at a time (a controlling thread), while requests run on any.
  // Requests already matched finish on their offers, whose table each holds until it is answered;
  // an old table goes once those are, and each thread that served this handler has served it again.
  void use_offers(std::shared_ptr<const OfferTable> offers) noexcept;
  // Answers the gate's own endpoints: GET /healthz (liveness), and /metrics when `with_metrics`;
  // whether `ex` asked for one of them.
  [[nodiscard]] bool answer_own_endpoint(http::Exchange& ex, bool with_metrics) const;

 private:
  // The route `req` falls under, in the table in use (held by the pointer); nullptr when it is free.
  [[nodiscard]] std::shared_ptr<const Offer> offer_for(const http::Request& req) const;
  class Recorder;
  // `header` views the request's PAYMENT-SIGNATURE, which lives as long as `ex` (not copied: ~2 KB).
  http::Awaitable<void> paid(http::Exchange& ex, std::shared_ptr<const Offer> matched, std::string_view header);
  // Charges what the served response reports (Settlement-Overrides, else the offer; nothing for a
  // status >= 400) and attaches PAYMENT-RESPONSE. False: the response is now the refusal or the
  // error, to be answered instead.
  http::Awaitable<bool> charge(http::Exchange& ex, const Offer& offer, Authorization auth, Recorder& log);
  http::Awaitable<void> refund(http::Exchange& ex, Authorization auth, Recorder& log);
  http::Awaitable<void> free(http::Exchange& ex);
  // The refusal as the answer, and in the access log. A 503's detail (what failed inside: the
  // facilitator's address, the store's error) goes to the log only.
  void refuse(http::Exchange& ex, const Offer& offer, const Refusal& r, Recorder& log);
  // The 402 with the route's offer, for a request without payment.
  void offer_payment(http::Exchange& ex, const Offer& offer);

  Gate& gate_;
  // The table in use, behind a lock (libstdc++'s atomic<shared_ptr>) that requests do not take:
  // each thread keeps the table it last read, and reads offers_ again only when generation_ moves
  // (offer_for). So a request makes one acquire load, and only a priced one (paid, or answered 402)
  // counts itself in to its table, to hold it while it is answered.
  std::atomic<std::shared_ptr<const OfferTable>> offers_;
  std::atomic<std::uint64_t> generation_;  // offers_'s, unique in the process
  Service& service_;
  GateMetrics& metrics_;
  unsigned decimals_;
  std::function<void(const AccessRecord&)> access_log_;
  std::function<void(const std::string&)> operator_log_;
  // Apart, so that refusals anyone can cause (a deposit of their own the facilitator refuses) do not
  // crowd out the lines of the gate's own failures.
  LogThrottle failure_lines_;
  LogThrottle refusal_lines_;
  std::string public_scheme_ = "http";
  bool metrics_here_ = true;
};

}  // namespace paychan::engine::gate
