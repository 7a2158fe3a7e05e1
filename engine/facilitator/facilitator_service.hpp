// The facilitator's HTTP API (specs/x402-specification-v2.md, "Facilitator"):
//   POST /verify    {x402Version, paymentPayload, paymentRequirements} → VerifyResponse (200 even
//                   when invalid: a refusal is an answer)
//   POST /settle    the same body → SettlementResponse (200, success true or false)
//   GET  /supported kinds (with extra.receiverAuthorizer), extensions, signers
//   GET  /healthz   "ok": the process serves (liveness)
//   GET  /readyz    "ready", or 503 naming each network whose node does not answer (readiness)
//   GET  /metrics   Prometheus text (facilitator_metrics.hpp): answers by outcome, their latency,
//                   401s, transactions pending (read at most once a second); on a port of its own
//                   instead with serve_metrics_elsewhere() and answer_metrics_port()
// A body that is not a well-formed request is answered 400 in the endpoint's own shape, with the
// typed reason (e.g. {"isValid":false,"invalidReason":"invalid_batch_settlement_evm_voucher_payload",
// "invalidMessage":"paymentPayload.payload.voucher.signature: …"}); one above the server's limit
// (ServerLimits, protocol::kMaxFacilitatorRequestBytes for paychan's) 413, in the same shape.
//
// With clients (client_auth.hpp), /verify and /settle answer 401 in the endpoint's own shape
// (reason facilitator_unauthorized, header WWW-Authenticate: Bearer) unless the request carries a
// client's token, and the receiverAuthorizer key signs only for that client's receivers. Each 401
// is logged, at most LogThrottle's default lines per window (the rest counted). /metrics then wants
// a client's token too (a scraper gets a client entry of its own): its totals span every client.
// Without clients the API is open to whoever can connect, and the key signs for no one.
// Thread-safety: a Handler, called concurrently from every I/O thread.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "engine/facilitator/client_auth.hpp"
#include "engine/facilitator/facilitator.hpp"
#include "engine/facilitator/facilitator_metrics.hpp"
#include "engine/http/handler.hpp"
#include "engine/log_throttle.hpp"

namespace paychan::engine::facilitator {

class FacilitatorService final : public http::Handler {
 public:
  // `clients` null: none, the API open to any caller.
  FacilitatorService(Facilitator& facilitator, std::shared_ptr<const ClientAuth> clients);
  [[nodiscard]] http::Handled handle(http::Exchange& ex) override;
  // A body above the server's limit: POST /verify and /settle answer 413 in their own shape (reason
  // input_too_large) and count it in /metrics, as they do a malformed body's 400 (to a caller with
  // a client's token, when there are clients; others get the server's plain 413).
  [[nodiscard]] bool answer_too_large(http::Exchange& ex) override;
  // From now on callers are known by `clients` (a reloaded configuration's), from any thread.
  // Requests already authenticated finish as their client, whose table each holds until it is
  // answered. False, and nothing changes, for a service started without clients: its API stays open
  // (closing it is a restart's to do).
  [[nodiscard]] bool use_clients(std::shared_ptr<const ClientAuth> clients) noexcept;
  // /metrics is served on another listener (FacilitatorConfig::metricsListen): here it is 404. Before
  // serving.
  void serve_metrics_elsewhere() noexcept { metrics_here_ = false; }
  // The metrics listener's answers: GET /metrics (to any caller: the listener's address is the
  // guard) and GET /healthz; whether `ex` asked for one of them (and a GET).
  [[nodiscard]] bool answer_metrics_port(http::Exchange& ex);

 private:
  // The client of `clients` whose token `req` carries; nullptr for none.
  [[nodiscard]] static const AuthenticatedClient* client_of(const ClientAuth& clients, const http::Request& req);
  void serve_metrics(http::Exchange& ex);

  Facilitator& facilitator_;
  std::atomic<std::shared_ptr<const ClientAuth>> clients_;
  std::string supported_;  // /supported never changes while running: encoded once
  LogThrottle unauthorized_;  // the 401s' lines
  FacilitatorMetrics metrics_;
  bool metrics_here_ = true;
  std::mutex pending_mutex_;  // guards the two below
  std::optional<std::chrono::steady_clock::time_point> pending_read_at_;
  std::optional<std::size_t> pending_;  // the journal's pending transactions as last read
};

}  // namespace paychan::engine::facilitator
