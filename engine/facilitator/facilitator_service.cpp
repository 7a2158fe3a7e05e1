#include "engine/facilitator/facilitator_service.hpp"

#include "engine/log_text.hpp"

namespace paychan::engine::facilitator {
namespace {

constexpr std::string_view kJson = "application/json";

std::string verify_refusal(const Error& e) {
  protocol::VerifyResponse r;
  r.invalidReason = std::string(to_string(e.code));
  r.invalidMessage = e.detail;
  return protocol::encode_verify_response(r);
}

std::string settle_refusal(const Error& e) {
  protocol::SettlementResponse r;
  r.errorReason = std::string(to_string(e.code));
  r.errorMessage = e.detail;
  return protocol::encode_settlement_response(r);
}

using Clock = std::chrono::steady_clock;

http::Awaitable<void> serve_verify(Facilitator& facilitator, FacilitatorMetrics& metrics, http::Exchange& ex,
                                   ReceiverScope scope) {
  const auto start = Clock::now();
  auto request = protocol::decode_facilitator_request(ex.request().body());
  if (!request) {
    metrics.count_answer(true, false, to_string(request.error().code), Clock::now() - start);
    ex.response().set(400, kJson, verify_refusal(request.error()));
    co_return;
  }
  const protocol::VerifyResponse answer = co_await facilitator.verify_request(*request, scope);
  metrics.count_answer(true, answer.isValid, answer.invalidReason.value_or(""), Clock::now() - start);
  ex.response().set(200, kJson, protocol::encode_verify_response(answer));
}

http::Awaitable<void> serve_settle(Facilitator& facilitator, FacilitatorMetrics& metrics, http::Exchange& ex,
                                   ReceiverScope scope) {
  const auto start = Clock::now();
  auto request = protocol::decode_facilitator_request(ex.request().body());
  if (!request) {
    metrics.count_answer(false, false, to_string(request.error().code), Clock::now() - start);
    ex.response().set(400, kJson, settle_refusal(request.error()));
    co_return;
  }
  const protocol::SettlementResponse answer = co_await facilitator.settle_request(*request, scope);
  metrics.count_answer(false, answer.success, answer.errorReason.value_or(""), Clock::now() - start);
  ex.response().set(200, kJson, protocol::encode_settlement_response(answer));
}

// 200 "ready" while every network's node answers; 503 with the reasons (one line each) when one
// does not: a load balancer sends its payers elsewhere meanwhile.
http::Awaitable<void> serve_readyz(Facilitator& facilitator, http::Exchange& ex) {
  const std::vector<std::string> unready = co_await facilitator.unready();
  std::string text = unready.empty() ? "ready\n" : "";
  for (const std::string& why : unready) text += "not ready: " + one_line(why) + "\n";
  ex.response().set(unready.empty() ? 200 : 503, "text/plain", std::move(text));
}

constexpr std::string_view kNoToken =
    "send Authorization: Bearer <token> with the token of a client in the facilitator's configuration";

// The 401 for a request without a client's token, `body` in the endpoint's own shape.
void unauthorized(http::Exchange& ex, std::string_view content_type, std::string body) {
  ex.response().set(401, content_type, std::move(body));
  ex.response().set_header("WWW-Authenticate", "Bearer");
}

void healthy(http::Exchange& ex) { ex.response().set(200, "text/plain", "ok\n"); }

void method_not_allowed(http::Exchange& ex, std::string_view allow) {
  ex.response().set(405, kJson, R"({"error":"method_not_allowed"})");
  ex.response().set_header("Allow", allow);
}

}  // namespace

FacilitatorService::FacilitatorService(Facilitator& facilitator, std::shared_ptr<const ClientAuth> clients)
    : facilitator_(facilitator),
      clients_(std::move(clients)),
      supported_(protocol::encode_supported_response(facilitator.supported())) {}

bool FacilitatorService::use_clients(std::shared_ptr<const ClientAuth> clients) noexcept {
  if (clients_.load() == nullptr) return false;
  clients_.store(std::move(clients), std::memory_order_release);
  return true;
}

http::Handled FacilitatorService::handle(http::Exchange& ex) {
  const auto& req = ex.request();
  const std::shared_ptr<const ClientAuth> clients = clients_.load(std::memory_order_acquire);
  const std::string_view path = req.path();
  const bool post = req.method() == "POST";
  const bool get = req.method() == "GET" || req.method() == "HEAD";
  if (path == "/verify" || path == "/settle") {
    if (!post) {
      method_not_allowed(ex, "POST");
      return std::nullopt;
    }
    ReceiverScope scope = ReceiverScope::nobody();
    if (clients != nullptr) {
      const AuthenticatedClient* client = client_of(*clients, req);
      if (client == nullptr) {
        facilitator_.log_caused_by_caller(unauthorized_,
                                          "refused POST " + std::string(path) + ": no client's token (401)");
        metrics_.count_unauthorized();
        const Error e{ErrorCode::facilitator_unauthorized, std::string(kNoToken)};
        unauthorized(ex, kJson, path == "/verify" ? verify_refusal(e) : settle_refusal(e));
        return std::nullopt;
      }
      scope = ReceiverScope::only({clients, &client->receivers});  // holding the table
    }
    return path == "/verify" ? serve_verify(facilitator_, metrics_, ex, scope)
                             : serve_settle(facilitator_, metrics_, ex, scope);
  }
  if (path == "/readyz") {
    if (get) return serve_readyz(facilitator_, ex);
    method_not_allowed(ex, "GET");
    return std::nullopt;
  }
  if (path == "/metrics" && metrics_here_) {
    if (!get) {
      method_not_allowed(ex, "GET");
    } else if (clients != nullptr && client_of(*clients, req) == nullptr) {
      unauthorized(ex, "text/plain", std::string(kNoToken) + "\n");
    } else {
      serve_metrics(ex);
    }
    return std::nullopt;
  }
  if (path == "/supported" || path == "/healthz") {
    if (!get) method_not_allowed(ex, "GET");
    else if (path == "/supported") ex.response().set(200, kJson, supported_);
    else healthy(ex);
    return std::nullopt;
  }
  ex.response().set(404, kJson, R"({"error":"not_found"})");
  return std::nullopt;
}

bool FacilitatorService::answer_metrics_port(http::Exchange& ex) {
  const std::string_view method = ex.request().method();
  if (method != "GET" && method != "HEAD") return false;
  const std::string_view path = ex.request().path();
  if (path == "/metrics") serve_metrics(ex);
  else if (path == "/healthz") healthy(ex);
  else return false;
  return true;
}

bool FacilitatorService::answer_too_large(http::Exchange& ex) {
  const std::string_view path = ex.request().path();
  if (ex.request().method() != "POST" || (path != "/verify" && path != "/settle")) return false;
  // A caller without a client's token gets the server's plain 413, counted nowhere: this answer
  // and its count are for the API's callers, as a 400 is.
  if (const auto clients = clients_.load(std::memory_order_acquire); clients && !client_of(*clients, ex.request()))
    return false;
  const bool verify = path == "/verify";
  const Error e{ErrorCode::input_too_large, "the request body is above the facilitator's limit"};
  metrics_.count_answer(verify, false, to_string(e.code), Clock::duration::zero());  // as a 400 is
  ex.response().set(413, kJson, verify ? verify_refusal(e) : settle_refusal(e));
  return true;
}

const AuthenticatedClient* FacilitatorService::client_of(const ClientAuth& clients, const http::Request& req) {
  return clients.authenticate(req.header("Authorization").value_or(""));
}

void FacilitatorService::serve_metrics(http::Exchange& ex) {
  std::optional<std::size_t> pending;
  {
    // Read at most once a second: the read waits on the journal's lock, which a settle holds
    // through its fsync, and scrapes must not hold settles up however often they come.
    std::lock_guard lock(pending_mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (!pending_read_at_ || now - *pending_read_at_ >= std::chrono::seconds(1)) {
      const Result<std::size_t> read = facilitator_.pending_transactions();
      pending_ = read ? std::optional<std::size_t>(*read) : std::nullopt;  // none rendered if unread
      pending_read_at_ = now;
    }
    pending = pending_;
  }
  ex.response().set(200, "text/plain; version=0.0.4", metrics_.render(pending));
}

}  // namespace paychan::engine::facilitator
