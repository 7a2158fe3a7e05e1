// A Facilitator reached over HTTP (POST {base}/verify, {base}/settle), with a timeout on every
// call and bounded retries. A reply other than 200 is facilitator_unavailable, except a 401:
// facilitator_unauthorized (the token is missing or wrong, which waiting will not fix).
//
// Retries: /verify changes nothing, so it is retried on any transport failure. /settle may have
// acted before its answer was lost, so it is retried only when the request provably never left
// (connection refused); a facilitator that journals its actions (paychan's does) answers a
// repeated settle with the first outcome, but the gate does not rely on it.
// Thread-safety: verify/settle may run concurrently on any I/O threads, and use_token() with them.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "engine/gate/facilitator.hpp"
#include "engine/gate/gate_config.hpp"
#include "engine/http/client.hpp"

namespace paychan::engine::gate {

struct HttpFacilitatorOptions {
  std::string url;  // http://host:port[/prefix]
  std::chrono::milliseconds timeout{10'000};  // per attempt, from connect to the whole reply
  unsigned attempts = 3;
  std::chrono::milliseconds backoff{100};  // doubled after each failed attempt
  // verify_briefly(): one attempt, given up after this long (from connect to the whole reply).
  std::chrono::milliseconds brief_timeout{2'000};
  // Sent as `Authorization: Bearer <token>` to a facilitator that authenticates its clients
  // (engine/facilitator/client_auth.hpp); empty: no header. Never logged. use_token() replaces it.
  std::string token;
};

// The options for the facilitator a gate configuration names: its URL, and the token of
// facilitatorTokenFile when there is one. Error: invalid_config (an unreadable or weak token file).
[[nodiscard]] Result<HttpFacilitatorOptions> http_facilitator_options(const GateConfig& config);

class HttpFacilitator;

// What facilitatorTokenFile, read again, means for the token `facilitator` sends.
struct TokenRenewal {
  std::optional<std::string> token;    // to send from now on (use_token), when it changed; "" for none
  std::optional<std::string> warning;  // said of such a token when the facilitator could not be asked
};

// Reads `config`'s facilitatorTokenFile again (none: no token) and, if its token is not the one
// `facilitator` sends, asks the facilitator about it (check_token) without sending it yet: as at
// start-up, a refused token is an error and a facilitator that does not answer a warning. Blocks:
// never on an I/O thread. Errors: invalid_config (an unreadable or weak file),
// facilitator_unauthorized (the new token, or none, refused).
[[nodiscard]] Result<TokenRenewal> renew_token(HttpFacilitator& facilitator, const GateConfig& config);

class HttpFacilitator final : public Facilitator {
 public:
  // Error: invalid_config for a URL that is not http://host[:port][/prefix].
  [[nodiscard]] static Result<std::unique_ptr<HttpFacilitator>> create(HttpFacilitatorOptions options);

  http::Awaitable<Result<protocol::VerifyResponse>> verify(const protocol::FacilitatorRequest& request) override;
  // One attempt within brief_timeout: a facilitator that hangs must not hold a channel the gate
  // can serve without it for attempts × timeout.
  http::Awaitable<Result<protocol::VerifyResponse>> verify_briefly(const protocol::FacilitatorRequest& request) override;
  http::Awaitable<Result<protocol::SettlementResponse>> settle(const protocol::FacilitatorRequest& request) override;

  // Whether the facilitator takes this server's token, asked once at start-up so that a wrong
  // token stops the gate there rather than turning its payers away later. One POST /verify of an
  // empty message: a facilitator answers it 401 before authentication passes and 400 after.
  // Changes nothing on the facilitator. Errors: facilitator_unauthorized (401), invalid_config (a
  // server with no POST /verify: 404, 405, 501), facilitator_unavailable (no answer within the
  // timeout, or another answer than 400 or 200).
  http::Awaitable<Status> check_token();
  // The same for `token` (empty: none), which the requests do not send until use_token(token):
  // asked before a rotated token replaces the one in use.
  http::Awaitable<Status> check_token(std::string token);
  // The token the requests send from now on (those already sent finish with the one they had).
  void use_token(std::string token);
  [[nodiscard]] std::string token() const;
  // GET /supported: the schemes and networks the facilitator serves, asked at start-up so that a
  // gate on a network its facilitator does not serve says so. Errors: facilitator_unavailable.
  http::Awaitable<Result<protocol::SupportedResponse>> supported();

 private:
  explicit HttpFacilitator(HttpFacilitatorOptions options);
  // To base + path with `token` as the bearer token, when there is one: a POST of `body`, or a GET without.
  [[nodiscard]] http::ClientRequest request_to(const std::string& path, std::optional<std::string> body,
                                               const std::string& token) const;
  // POSTs `body` to base + path with `client` and returns the reply body of a 200; retries as
  // described above, at most `attempts` times.
  http::Awaitable<Result<std::string>> post(http::HttpClient& client, std::string path, std::string body,
                                            bool idempotent, unsigned attempts);
  // A verify() reply body as a VerifyResponse.
  static Result<protocol::VerifyResponse> verify_reply(Result<std::string> body);

  HttpFacilitatorOptions options_;  // its token moved to token_
  mutable std::mutex token_mutex_;
  std::string token_;  // guarded by token_mutex_
  http::HttpClient client_;
  http::HttpClient brief_client_;  // verify_briefly's: every timeout brief_timeout
};

}  // namespace paychan::engine::gate
