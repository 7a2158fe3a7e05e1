#include "engine/gate/http_facilitator.hpp"

#include <utility>

#include "engine/http/beast.hpp"
#include "engine/http/run_blocking.hpp"
#include "engine/key_source.hpp"
#include "engine/log_text.hpp"
#include "engine/http/url.hpp"
#include "engine/http/sleep.hpp"

namespace paychan::engine::gate {
namespace {

http::ClientOptions client_options(std::chrono::milliseconds timeout) {
  http::ClientOptions c;
  c.connect_timeout = timeout;
  c.response_timeout = timeout;
  c.read_timeout = timeout;
  c.body_timeout = timeout;  // a reply of a few hundred bytes: no trickle holds a brief check longer
  c.max_body_bytes = 256 * 1024;  // a facilitator reply is a few hundred bytes
  return c;
}

Failure unavailable(const std::string& what, const Error& cause) {
  return fail(ErrorCode::facilitator_unavailable, what + ": " + cause.to_string());
}

Failure unauthorized(const std::string& path, bool sent_token) {
  return fail(ErrorCode::facilitator_unauthorized,
              path + " answered HTTP 401: " +
                  (sent_token ? "the facilitator does not accept this server's token (facilitatorTokenFile)"
                              : "the facilitator takes only its clients' requests: set facilitatorTokenFile to a token "
                                "it lists in its \"clients\" (paychan key token makes one)"));
}

}  // namespace

Result<HttpFacilitatorOptions> http_facilitator_options(const GateConfig& config) {
  HttpFacilitatorOptions options{config.facilitator};
  if (config.facilitatorTokenFile) {
    auto token = load_token_file(*config.facilitatorTokenFile);
    if (!token) return fail(ErrorCode::invalid_config, "facilitatorTokenFile: " + token.error().detail);
    options.token = std::move(*token);
  }
  return options;
}

Result<TokenRenewal> renew_token(HttpFacilitator& facilitator, const GateConfig& config) {
  PAYCHAN_ASSIGN(auto options, http_facilitator_options(config));
  TokenRenewal renewal;
  if (options.token == facilitator.token()) return renewal;
  if (Status taken = http::run_blocking(facilitator.check_token(options.token)); !taken) {
    const std::string what = options.token.empty() ? "requests without a token (no facilitatorTokenFile now)"
                                                    : "facilitatorTokenFile's new token";
    if (taken.error().code == ErrorCode::facilitator_unauthorized)
      return fail(ErrorCode::facilitator_unauthorized, "the facilitator refuses " + what + ": " + taken.error().detail);
    renewal.warning = what + " sent unchecked: the facilitator did not answer whether it takes it (" +
                      taken.error().to_string() + ")";
  }
  renewal.token = std::move(options.token);
  return renewal;
}

HttpFacilitator::HttpFacilitator(HttpFacilitatorOptions options)
    : options_(std::move(options)),
      token_(std::exchange(options_.token, {})),
      client_(client_options(options_.timeout)),
      brief_client_(client_options(options_.brief_timeout)) {
  while (!options_.url.empty() && options_.url.back() == '/') options_.url.pop_back();
}

Result<std::unique_ptr<HttpFacilitator>> HttpFacilitator::create(HttpFacilitatorOptions options) {
  if (auto url = http::parse_url(options.url); !url)
    return fail(ErrorCode::invalid_config, "facilitator URL: " + url.error().detail);
  if (options.attempts == 0) options.attempts = 1;
  return std::unique_ptr<HttpFacilitator>(new HttpFacilitator(std::move(options)));
}

http::ClientRequest HttpFacilitator::request_to(const std::string& path, std::optional<std::string> body,
                                                const std::string& token) const {
  auto request = body ? http::ClientRequest::post(options_.url + path, std::move(*body))
                      : http::ClientRequest::get(options_.url + path);
  if (!token.empty()) request.header("Authorization", "Bearer " + token);
  return request;
}

void HttpFacilitator::use_token(std::string token) {
  const std::lock_guard lock(token_mutex_);
  token_ = std::move(token);
}

std::string HttpFacilitator::token() const {
  const std::lock_guard lock(token_mutex_);
  return token_;
}

http::Awaitable<Status> HttpFacilitator::check_token() { return check_token(token()); }

http::Awaitable<Status> HttpFacilitator::check_token(std::string token) {
  auto reply = co_await client_.request(request_to("/verify", "{}", token));
  if (!reply) co_return unavailable("/verify", reply.error());
  if (reply->status == 401) co_return unauthorized("/verify", !token.empty());
  // 400 (the empty message refused past authentication) or 200: the token is taken. A server
  // without a POST /verify at all (404, 405, 501) is not a facilitator: the URL is wrong. Anything
  // else (a 5xx) says nothing about the token, but something is wrong that may pass.
  const int status = reply->status;
  if (status == 404 || status == 405 || status == 501)
    co_return fail(ErrorCode::invalid_config, options_.url + " is not a facilitator's URL: POST /verify answered HTTP " +
                                                  std::to_string(status) + " (" + one_line(reply->body) + ")");
  if (status != 400 && status != 200)
    co_return fail(ErrorCode::facilitator_unavailable,
                   "/verify answered HTTP " + std::to_string(status) + " to an empty message: " + one_line(reply->body));
  co_return Status{};
}

http::Awaitable<Result<protocol::SupportedResponse>> HttpFacilitator::supported() {
  auto reply = co_await client_.request(request_to("/supported", std::nullopt, token()));
  if (!reply) co_return unavailable("/supported", reply.error());
  if (reply->status != 200) co_return fail(ErrorCode::facilitator_unavailable, "/supported answered HTTP " + std::to_string(reply->status));
  auto decoded = protocol::decode_supported_response(reply->body);
  if (!decoded) co_return fail(ErrorCode::facilitator_unavailable, "/supported: " + decoded.error().detail);
  co_return std::move(*decoded);
}

http::Awaitable<Result<std::string>> HttpFacilitator::post(http::HttpClient& client, std::string path,
                                                          std::string body, bool idempotent, unsigned attempts) {
  auto delay = options_.backoff;
  const std::string token = this->token();  // every attempt sends the same
  Error last{ErrorCode::facilitator_unavailable, "no attempt"};
  for (unsigned attempt = 1; attempt <= attempts; ++attempt) {
    auto reply = co_await client.request(request_to(path, body, token));
    if (reply && reply->status == 200) co_return std::move(reply->body);
    if (reply && reply->status == 401) co_return unauthorized(path, !token.empty());
    if (reply) {
      // A 4xx/5xx: the facilitator answered but refused the message itself. Not retried.
      co_return fail(ErrorCode::facilitator_unavailable,
                     path + " answered HTTP " + std::to_string(reply->status) + ": " + one_line(reply->body));
    }
    last = reply.error();
    const bool never_sent = last.code == ErrorCode::http_connect_failed;
    if (!idempotent && !never_sent) break;
    if (attempt < attempts) {
      co_await http::sleep_for(delay);
      delay *= 2;
    }
  }
  co_return unavailable(path, last);
}

Result<protocol::VerifyResponse> HttpFacilitator::verify_reply(Result<std::string> body) {
  if (!body) return body.failure();
  auto decoded = protocol::decode_verify_response(*body);
  if (!decoded) return unavailable("/verify reply", decoded.error());
  return decoded;
}

http::Awaitable<Result<protocol::VerifyResponse>> HttpFacilitator::verify(const protocol::FacilitatorRequest& request) {
  auto body = co_await post(client_, "/verify", protocol::encode_facilitator_request(request), true, options_.attempts);
  co_return verify_reply(std::move(body));
}

http::Awaitable<Result<protocol::VerifyResponse>> HttpFacilitator::verify_briefly(
    const protocol::FacilitatorRequest& request) {
  auto body = co_await post(brief_client_, "/verify", protocol::encode_facilitator_request(request), true, 1);
  co_return verify_reply(std::move(body));
}

http::Awaitable<Result<protocol::SettlementResponse>> HttpFacilitator::settle(
    const protocol::FacilitatorRequest& request) {
  auto body = co_await post(client_, "/settle", protocol::encode_facilitator_request(request), false, options_.attempts);
  if (!body) co_return body.failure();
  auto decoded = protocol::decode_settlement_response(*body);
  if (!decoded) co_return unavailable("/settle reply", decoded.error());
  co_return decoded;
}

}  // namespace paychan::engine::gate
