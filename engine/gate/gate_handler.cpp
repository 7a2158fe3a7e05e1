#include "engine/gate/gate_handler.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "channel/hex.hpp"
#include "engine/log_text.hpp"
#include "engine/http/proxy.hpp"
#include "protocol/headers.hpp"
#include "protocol/json_string.hpp"
#include "protocol/payment_signature_decoder.hpp"
#include "protocol/settlement_overrides.hpp"

namespace paychan::engine::gate {
namespace {

// The URL the client asked for: an absolute-form target is one already (route_key() reads its
// scheme in any case); an origin-form one is joined to its Host (host[:port] characters only, the
// server checked) under the scheme clients use.
std::string resource_url(const http::Request& req, std::string_view scheme) {
  const std::string_view target = req.target();
  if (http::istarts_with(target, "http://") || http::istarts_with(target, "https://")) return std::string(target);
  std::string_view host = req.header("Host").value_or("");
  if (host.empty()) host = "localhost";
  return std::string(scheme) + "://" + std::string(host) + std::string(target);
}

// Forgets whatever the service put in the response (its head is not sent when the payment fails).
void reset(http::Response& res) {
  std::vector<std::string> names;
  for (const auto& [name, value] : res.headers()) names.emplace_back(name);
  for (const auto& name : names) res.erase_header(name);
  res.body().clear();
}

// A whole answer set aside: the refusal a stream's head got, put back over whatever an embedded
// handler wrote after its begin_stream() failed (a fallback answer of its own would go out free).
struct KeptAnswer {
  int status = 0;
  std::vector<http::Header> headers;
  std::string body;

  static KeptAnswer of(http::Response& res) {
    KeptAnswer kept{res.status(), {}, res.body()};
    for (const auto& [name, value] : res.headers()) kept.headers.push_back({std::string(name), std::string(value)});
    return kept;
  }
  void restore(http::Response& res) const {
    reset(res);
    res.set_status(status);
    for (const auto& h : headers) res.add_header(h.name, h.value);
    res.body() = body;
  }
};

// The headers only the gate may send, as the upstream's answer came: Settlement-Overrides is the
// upstream's word to the gate; an x402 offer or charge report is the gate's alone (an agent takes
// any PAYMENT-RESPONSE for a charge).
void strip_gate_headers(http::Response& res) {
  res.erase_header(kSettlementOverridesHeader);
  res.erase_header(protocol::kPaymentRequiredHeader);
  res.erase_header(protocol::kPaymentResponseHeader);
}

// A paid answer belongs to its payer: PAYMENT-RESPONSE is its settlement, and a shared cache that
// kept the answer would hand the paid content to requests that pay nothing. `private` joins the
// Cache-Control the upstream sent (as the reference server marks its settlement answers).
void set_payment_response(http::Response& res, const protocol::SettlementResponse& settled) {
  res.set_header(protocol::kPaymentResponseHeader, protocol::encode_payment_response(settled));
  std::string cache_control;
  bool is_private = false;
  if (res.header("Cache-Control")) {  // most upstreams send none: no need to list the fields
    for (const auto& [name, value] : res.headers()) {
      if (!http::iequals(name, "Cache-Control")) continue;
      is_private = is_private || http::any_list_item(value, [](std::string_view item) { return http::iequals(item, "private"); });
      cache_control += (cache_control.empty() ? "" : ", ") + std::string(value);
    }
  }
  if (!is_private) res.set_header("Cache-Control", cache_control.empty() ? "private" : cache_control + ", private");
}

std::string error_body(const Error& e) {
  return "{\"error\":\"" + std::string(to_string(e.code)) + "\",\"message\":" + protocol::json_string(e.detail) + "}";
}

// An upstream that could not be reached or failed, answered with gateway_status(): its detail
// (the upstream's address, the socket error) is for the operator's log, not for the client.
void answer_upstream_failure(http::Response& res, const Error& e) {
  reset(res);
  const int status = http::gateway_status(e);
  // A request the proxy cannot forward (400) is the client's. No detail either way: the URL a target
  // makes upstream names the upstream's address.
  const char* message = status == 400   ? "the request cannot be forwarded: its target must be a plain path such as "
                                          "\"/v1/x\" (no \"..\" segment, no fragment)"
                        : status == 504 ? "the upstream timed out"
                                        : "the upstream failed";
  res.set(status, "application/json", error_body(Error{e.code, message}));
}

// The offer with the channel's server-side state added, for a corrective 402.
protocol::PaymentRequirements corrective_offer(const Offer& offer, const ChannelState& s) {
  protocol::PaymentRequirements r = offer.requirements;
  auto extra = protocol::batch_settlement_extra(r);
  if (!extra) return r;  // our own offer always parses; keep the plain offer if not
  extra->channelState = protocol::ChannelSnapshot{s.channelId,          s.onchain.balance,
                                                  s.onchain.totalClaimed, s.onchain.withdrawRequestedAt,
                                                  s.onchain.refundNonce, s.chargedCumulativeAmount};
  extra->voucherState = protocol::VoucherState{s.signedMaxClaimable, s.signature};
  r.extra = protocol::make_extra(*extra);
  return r;
}

void answer_402(http::Exchange& ex, const Offer& offer, std::string_view scheme, std::optional<std::string> error,
                std::string body, const protocol::PaymentRequirements* accepted = nullptr) {
  const auto required = payment_required(offer, resource_url(ex.request(), scheme), std::move(error), accepted);
  ex.response().set(402, "application/json", std::move(body));
  ex.response().set_header(protocol::kPaymentRequiredHeader, protocol::encode_payment_required_header(required));
  ex.response().set_header("Cache-Control", "no-store");  // an offer, or a refusal, is for this request only
}

}  // namespace

std::string to_logfmt(const AccessRecord& r) {
  // The path is the client's and the detail may be a peer's: one_line keeps either from forging or
  // reordering a line.
  std::string line = "method=" + std::string(r.method) + " path=" + one_line(r.path, 2000) + " status=" +
                     std::to_string(r.status) + " outcome=" + std::string(r.outcome);
  if (!r.reason.empty()) line += " reason=" + std::string(r.reason);
  if (!r.channel.empty()) line += " channel=" + r.channel;
  line += " charged=" + to_decimal(r.charged) + " us=" + std::to_string(r.elapsed.count());
  if (!r.detail.empty()) line += " detail=" + protocol::json_string(one_line(r.detail, 2000));
  return line;
}

// Fills an AccessRecord as a paid request goes, and hands it to the access log when the request is
// done, or, without one, to the operator's log when it needs the operator (set_operator_log).
class GateHandler::Recorder {
 public:
  Recorder(GateHandler& h, http::Exchange& ex) : handler_(h), sink_(h.access_log_), ex_(ex) {}
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  ~Recorder() {
    if (dropped_) return;
    // Cut before an answer was decided (the gate stopped): no status went out.
    record.status = record.outcome == "unanswered" ? 0 : ex_.response().status();
    const bool failed = record.status == 502 || record.status == 503 || record.status == 504;
    const bool for_operator = !sink_ && handler_.operator_log_ && (failed || record.byFacilitator);
    if (!sink_ && !for_operator) return;
    record.method = ex_.request().method();
    record.path = ex_.request().path();
    if (channel_) record.channel = to_hex(std::span(*channel_).first(4)) + "…";
    // The status went out, the body did not all: the charge stands (it was committed before the
    // head). Unexplained: an embedded handler left it unfinished, or the gate stopped mid-stream.
    if (ex_.stream_unfinished() && !broke_off_)
      record.detail += (record.detail.empty() ? "" : "; ") + std::string("the response stream was cut before its end");
    record.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_);
    if (sink_) sink_(record);
    else if (auto line = (failed ? handler_.failure_lines_ : handler_.refusal_lines_).admit(to_logfmt(record)))
      handler_.operator_log_(*line);
  }
  void channel(const Bytes32& id) { channel_ = id; }  // formatted only for a log
  // Nothing is logged (a free route's answer).
  void drop() noexcept { dropped_ = true; }
  // A relayed stream that failed: the upstream's read or the client's write, as `why` says.
  void broke_off(const Error& why) {
    broke_off_ = true;
    if (sink_) record.detail = "the response stream broke off: " + why.to_string();
  }
  AccessRecord record;

 private:
  GateHandler& handler_;
  const std::function<void(const AccessRecord&)>& sink_;
  http::Exchange& ex_;
  std::optional<Bytes32> channel_;
  // Read only for a log: without one, a free request (which has a Recorder for its failures) pays
  // nothing for it.
  std::chrono::steady_clock::time_point started_ = sink_ || handler_.operator_log_
                                                       ? std::chrono::steady_clock::now()
                                                       : std::chrono::steady_clock::time_point{};
  bool broke_off_ = false;
  bool dropped_ = false;
};

bool GateHandler::answer_own_endpoint(http::Exchange& ex, bool with_metrics) const {
  const std::string_view path = ex.request().path();
  if (path == "/healthz") {
    ex.response().set(200, "text/plain", "ok\n");
    return true;
  }
  if (path == "/metrics" && with_metrics) {
    ex.response().set(200, "text/plain; version=0.0.4", metrics_.render(gate_.totals(), gate_.log_backlog()));
    return true;
  }
  return false;
}

namespace {

// Numbers tables handed to handlers, across every handler: a thread's cache never takes one
// handler's table for another's.
std::atomic<std::uint64_t> next_generation{1};

// The table this thread last read from a handler, and its generation.
struct CachedOffers {
  std::uint64_t generation = 0;
  std::shared_ptr<const OfferTable> table;
};
thread_local CachedOffers cached_offers;

}  // namespace

GateHandler::GateHandler(Gate& gate, std::shared_ptr<const OfferTable> offers, Service& service,
                         GateMetrics& metrics, unsigned assetDecimals)
    : gate_(gate),
      offers_(std::move(offers)),
      generation_(next_generation.fetch_add(1)),
      service_(service),
      metrics_(metrics),
      decimals_(assetDecimals) {}

void GateHandler::use_offers(std::shared_ptr<const OfferTable> offers) noexcept {
  offers_.store(std::move(offers), std::memory_order_release);
  generation_.store(next_generation.fetch_add(1), std::memory_order_release);  // after: a reader of it sees the table
}

std::shared_ptr<const Offer> GateHandler::offer_for(const http::Request& req) const {
  CachedOffers& cached = cached_offers;
  if (const std::uint64_t generation = generation_.load(std::memory_order_acquire); cached.generation != generation) {
    cached.table = offers_.load(std::memory_order_acquire);
    cached.generation = generation;
  }
  const Offer* offer = cached.table->find(req.method(), override_methods(req), req.path());
  if (offer == nullptr) return nullptr;
  return {cached.table, offer};  // aliasing: the offer, owning its table (counted only when priced)
}

http::Handled GateHandler::handle(http::Exchange& ex) {
  const http::Request& req = ex.request();
  if (answer_own_endpoint(ex, metrics_here_)) return std::nullopt;
  std::shared_ptr<const Offer> offer = offer_for(req);
  if (offer == nullptr) return free(ex);
  const auto header = req.header(protocol::kPaymentSignatureHeader);
  if (!header) {
    offer_payment(ex, *offer);
    return std::nullopt;
  }
  return paid(ex, std::move(offer), *header);
}

bool GateHandler::answer_before_body(http::Exchange& ex) {
  const http::Request& req = ex.request();
  if (is_gate_endpoint(req.path(), metrics_here_) || req.header(protocol::kPaymentSignatureHeader)) return false;  // the latter checked whole
  const std::shared_ptr<const Offer> offer = offer_for(req);
  if (offer == nullptr) return false;  // free: the upstream gets the body
  offer_payment(ex, *offer);
  return true;
}

void GateHandler::offer_payment(http::Exchange& ex, const Offer& offer) {
  metrics_.count_payment_required();
  answer_402(ex, offer, public_scheme_, std::nullopt, "{}");
}

void GateHandler::refuse(http::Exchange& ex, const Offer& offer, const Refusal& r, Recorder& log) {
  metrics_.count_refusal(r.error.code);
  log.record.outcome = "refused";
  log.record.reason = to_string(r.error.code);
  if (r.byFacilitator) {
    log.record.byFacilitator = true;
    log.record.detail = r.error.detail;  // the facilitator's message: what to fix, when it is the setup
  }
  reset(ex.response());
  if (r.status == 402) {
    const auto accepted = r.corrective ? corrective_offer(offer, *r.corrective) : offer.requirements;
    answer_402(ex, offer, public_scheme_, std::string(to_string(r.error.code)), error_body(r.error), &accepted);
    return;
  }
  Error shown = r.error;
  if (r.status == 503 && !r.detailForClient) {
    log.record.detail = std::move(shown.detail);
    shown.detail = "the payment cannot be handled now: try again shortly";
  }
  ex.response().set(r.status, "application/json", error_body(shown));
  ex.response().set_header("Cache-Control", "no-store");
  if (r.status == 503) ex.response().set_header("Retry-After", "1");
}

http::Awaitable<void> GateHandler::free(http::Exchange& ex) {
  metrics_.free_requests.fetch_add(1, std::memory_order_relaxed);
  Recorder log(*this, ex);
  log.record.outcome = "unanswered";  // until the upstream answers: a stop may cut the request before
  auto served = co_await service_.serve(ex);
  if (!served) {
    answer_upstream_failure(ex.response(), served.error());
    // Logged, unlike a free route's answers: the operator learns of an upstream that is down.
    log.record.outcome = "upstream_failed";
    log.record.reason = to_string(served.error().code);
    log.record.detail = served.error().detail;
    co_return;
  }
  log.drop();
  strip_gate_headers(ex.response());
  if (*served) (void)co_await http::ReverseProxy::relay(**served, ex);
}

http::Awaitable<void> GateHandler::paid(http::Exchange& ex, std::shared_ptr<const Offer> matched,
                                        std::string_view header) {
  const Offer& offer = *matched;  // its table held until the answer is done
  Recorder log(*this, ex);
  log.record.outcome = "unanswered";  // until decided: a stop may cut the request before
  auto decision = co_await gate_.authorize(offer, header, &ex.connection_locals().get<protocol::PaymentSignatureDecoder>());
  if (auto* refused = std::get_if<Refusal>(&decision)) {
    refuse(ex, offer, *refused, log);
    co_return;
  }
  Authorization auth = std::move(std::get<Authorization>(decision));
  log.channel(auth.channelId());
  if (auth.type() == PayloadType::refund) {
    log.record.outcome = "refunded";
    co_await refund(ex, std::move(auth), log);
    co_return;
  }

  // A service that streams its own answer (an embedded handler) is charged as its head goes out,
  // like a relayed stream: PAYMENT-RESPONSE can only travel in that head.
  std::optional<Authorization> pending{std::move(auth)};
  std::optional<KeptAnswer> refusal;  // the stream's head was refused: this is the answer
  // The hook captures one pointer, which std::function keeps without allocating.
  struct AtHead {
    GateHandler& handler;
    http::Exchange& ex;
    const Offer& offer;
    std::optional<Authorization>& pending;
    Recorder& log;
    std::optional<KeptAnswer>& refusal;
  } at_head{*this, ex, offer, pending, log, refusal};
  ex.before_stream([&at_head](http::Response&) -> http::Awaitable<Status> {
    auto& [handler, ex, offer, pending, log, refusal] = at_head;
    if (co_await handler.charge(ex, offer, std::exchange(pending, std::nullopt).value(), log)) co_return Status{};
    refusal = KeptAnswer::of(ex.response());
    co_return fail(ErrorCode::http_bad_response, "the payment was not settled: the refusal is the answer");
  });
  struct Unhook {  // the hook refers to this frame: it goes with it, even when the service throws
    http::Exchange& ex;
    ~Unhook() { ex.before_stream(nullptr); }
  } unhook{ex};
  auto served = co_await service_.serve(ex);
  ex.before_stream(nullptr);  // a relayed stream below is charged before it begins, not by the hook
  if (!pending) {  // charged (or refused) when the stream began
    if (refusal) {
      refusal->restore(ex.response());
      co_return;
    }
    if (!served) log.broke_off(served.error());  // an embedded handler that threw mid-stream, say
    // A price reported after that came too late to be charged: the operator should know. (After a
    // refusal the header would go out with the refusal: it is the gate's, never the client's.)
    if (ex.response().header(kSettlementOverridesHeader)) {
      ex.response().erase_header(kSettlementOverridesHeader);
      if (log.record.outcome == "paid")
        log.record.detail = "Settlement-Overrides set after the stream began: ignored, the head's price was charged";
    }
    co_return;
  }
  if (!served) {  // the upstream failed: nothing charged, the lease is released with `pending`
    metrics_.handler_failures.fetch_add(1, std::memory_order_relaxed);
    answer_upstream_failure(ex.response(), served.error());
    log.record.outcome = "upstream_failed";
    log.record.reason = to_string(served.error().code);
    log.record.detail = served.error().detail;
    co_return;
  }
  if (!co_await charge(ex, offer, std::move(*pending), log)) co_return;
  if (*served) {
    if (Status relayed = co_await http::ReverseProxy::relay(**served, ex); !relayed) log.broke_off(relayed.error());
  }
}

http::Awaitable<bool> GateHandler::charge(http::Exchange& ex, const Offer& offer, Authorization auth, Recorder& log) {
  http::Response& res = ex.response();
  const auto overrides = res.header(kSettlementOverridesHeader);
  Result<Uint128> actual = offer.terms.amount;
  if (overrides) {
    const auto headers = res.headers();
    const auto sent = std::count_if(headers.begin(), headers.end(),
                                    [](const auto& h) { return http::iequals(h.first, kSettlementOverridesHeader); });
    actual = sent > 1 ? fail(ErrorCode::http_bad_response, "Settlement-Overrides came more than once")
                      : protocol::parse_settlement_overrides(*overrides, offer.terms.amount, decimals_);
  }
  // A report above the offer is the upstream's bug; refusing it here (before a deposit is executed)
  // keeps settle from failing after money moved.
  if (actual && *actual > offer.terms.amount)
    actual = fail(ErrorCode::invalid_batch_settlement_evm_charge_exceeds_signed_cumulative,
                  "reported " + to_decimal(*actual) + " above the offered " + to_decimal(offer.terms.amount));
  strip_gate_headers(res);
  if (res.status() >= 400) {  // nothing charged: `auth` frees the channel before the answer goes out
    metrics_.handler_failures.fetch_add(1, std::memory_order_relaxed);
    log.record.outcome = "upstream_failed";
    co_return true;
  }
  if (!actual) {
    // The upstream's report is unreadable: charging a guess would be wrong either way. The fault
    // is the upstream's, not the payment's: the client gets a bad gateway like any other (a payment
    // error code would send it looking at its voucher), the operator's log the reason.
    metrics_.handler_failures.fetch_add(1, std::memory_order_relaxed);
    log.record.outcome = "upstream_failed";
    reset(res);
    res.set(502, "text/plain", "bad gateway: the upstream's charge report is invalid; nothing was charged\n");
    log.record.reason = to_string(actual.error().code);
    log.record.detail = "invalid Settlement-Overrides: " + actual.error().detail;
    co_return false;
  }
  auto settled = co_await gate_.settle(std::move(auth), *actual);
  if (auto* refused = std::get_if<Refusal>(&settled)) {
    refuse(ex, offer, *refused, log);
    co_return false;
  }
  log.record.outcome = "paid";
  log.record.charged = *actual;
  set_payment_response(res, std::get<protocol::SettlementResponse>(settled));
  co_return true;
}

http::Awaitable<void> GateHandler::refund(http::Exchange& ex, Authorization auth, Recorder& log) {
  const Offer& offer = auth.offer();
  const std::string channel = to_hex(auth.channelId());
  auto settled = co_await gate_.refund(std::move(auth));
  if (auto* refused = std::get_if<Refusal>(&settled)) {
    refuse(ex, offer, *refused, log);
    co_return;
  }
  ex.response().set(200, "application/json",
                    "{\"message\":\"Refund acknowledged\",\"channelId\":\"" + channel + "\"}");
  set_payment_response(ex.response(), std::get<protocol::SettlementResponse>(settled));
}

}  // namespace paychan::engine::gate
