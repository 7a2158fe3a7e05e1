// The facilitator's HTTP API over real loopback sockets: malformed and oversized requests get a
// typed 400/413 in the endpoint's own shape, wrong methods 405, /supported, /healthz and /readyz answer, a
// facilitator with clients answers 401 to a request without a client's token (which a gate's
// start-up probe tells apart from a token it takes),
// and a node that cannot be reached is an answer over HTTP (rpc_read_failed, as the reference
// does) but "facilitator unavailable" to an in-process gate. No chain is needed: nothing here
// reaches one (the configured node is a closed port).
#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "engine/facilitator/facilitator_service.hpp"
#include "engine/gate/http_facilitator.hpp"
#include "engine/http/client.hpp"
#include "engine/http/run_blocking.hpp"
#include "engine/http/server.hpp"
#include "engine/metrics_listener.hpp"
#include "facilitator_support.hpp"
#include "http_test_support.hpp"

namespace paychan::engine::facilitator::test {
namespace {

constexpr std::string_view kNetwork = "eip155:31337";

class FacilitatorHttpTest : public ::testing::Test {
 protected:
  FacilitatorHttpTest()
      : journal_(*persistence::TxJournal::open(dir_.file("journal.sqlite"))),
        facilitator_({NetworkOptions{std::string(kNetwork), "http://127.0.0.1:1"}}, key_from(1), key_from(2), *journal_),
        service_(facilitator_, nullptr),
        server_(service_, options()) {
    EXPECT_TRUE(server_.start());
  }
  ~FacilitatorHttpTest() override { server_.stop(std::chrono::seconds(1)); }

  static http::ServerOptions options() {
    http::ServerOptions o;
    o.threads = 1;
    o.limits.max_body_bytes = protocol::kMaxFacilitatorRequestBytes;
    return o;
  }

  http::ClientResponse call(std::string method, std::string path, std::string body = {},
                            std::optional<std::uint16_t> port = std::nullopt, std::string_view authorization = {}) {
    http::BlockingHttpClient client;
    http::ClientRequest request(std::move(method),
                                "http://127.0.0.1:" + std::to_string(port.value_or(server_.port())) + path);
    if (!body.empty()) request.header("Content-Type", "application/json").body(std::move(body));
    if (!authorization.empty()) request.header("Authorization", authorization);
    auto r = client.request(std::move(request));
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r : http::ClientResponse{};
  }

  // A well-formed voucher request on `network`.
  static protocol::FacilitatorRequest voucher_request(std::string_view network) {
    client::ChosenOffer offer;
    offer.chainId = 31337;
    offer.asset = key_from(10).address();
    offer.payTo = key_from(11).address();
    // The server's own receiverAuthorizer: a channel delegating to the facilitator's key would be
    // refused to a caller without that receiver in its scope, before any node is asked.
    offer.extra = protocol::BatchSettlementExtra{key_from(13).address(), 900, "USDC", "2"};
    offer.requirements = protocol::PaymentRequirements{
        "batch-settlement", std::string(network), "1000", to_checksum_hex(offer.asset), to_checksum_hex(offer.payTo),
        300, protocol::make_extra(offer.extra)};
    const client::ClientKeys keys{key_from(12), std::nullopt};
    const ChannelConfig config = client::channel_config_for(offer, keys, Bytes32{});
    const Bytes32 id = channel_id(batch_settlement_domain_separator(31337), config);
    protocol::FacilitatorRequest r;
    r.paymentPayload = client::voucher_payload(offer, config, id, 1000, keys);
    r.paymentRequirements = offer.requirements;
    return r;
  }

  // The same facilitator behind a second server whose service wants the token of its one client
  // (its /metrics served elsewhere when `metrics_elsewhere`).
  struct Guarded {
    Guarded(Facilitator& facilitator, std::shared_ptr<const ClientAuth> clients, bool metrics_elsewhere = false)
        : service(facilitator, std::move(clients)), server(service, options()) {
      if (metrics_elsewhere) service.serve_metrics_elsewhere();  // before serving
      EXPECT_TRUE(server.start());
    }
    ~Guarded() { server.stop(std::chrono::seconds(1)); }
    FacilitatorService service;
    http::HttpServer server;
  };
  std::unique_ptr<Guarded> guarded(const std::string& token, bool metrics_elsewhere = false) {
    auto clients = ClientAuth::load({ClientConfig{"gate", dir_.secret_file("gate.token", token), {}}});
    EXPECT_TRUE(clients) << clients.error().to_string();
    return clients ? std::make_unique<Guarded>(
                         facilitator_, std::make_shared<const ClientAuth>(std::move(*clients)), metrics_elsewhere)
                   : nullptr;
  }

  paychan::test::TempDir dir_;
  std::unique_ptr<persistence::TxJournal> journal_;
  Facilitator facilitator_;
  FacilitatorService service_;
  http::HttpServer server_;
};

// Each refusal is a line in the operator's log, saying what was asked and why it was refused,
// without the request's signature.
TEST_F(FacilitatorHttpTest, EachRefusalIsLoggedWithoutItsSignature) {
  std::vector<std::string> lines;
  FacilitatorOptions options;
  options.log = [&](const std::string& line) { lines.push_back(line); };
  auto journal = *persistence::TxJournal::open(dir_.file("logged.sqlite"));
  Facilitator logged({NetworkOptions{std::string(kNetwork), "http://127.0.0.1:1"}}, key_from(1), key_from(2), *journal,
                     options);
  const protocol::FacilitatorRequest request = voucher_request(kNetwork);
  const protocol::VerifyResponse verdict = http::run_blocking(logged.verify_request(request, ReceiverScope::nobody()));
  EXPECT_FALSE(verdict.isValid);
  const protocol::SettlementResponse settled = http::run_blocking(logged.settle_request(request, ReceiverScope::nobody()));
  EXPECT_FALSE(settled.success);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "verify of a voucher on eip155:31337 refused: " + verdict.invalidReason.value_or("?") + ": " +
                          verdict.invalidMessage.value_or("?"));
  EXPECT_EQ(lines[1], "settle of a voucher on eip155:31337 refused: invalid_batch_settlement_evm_unknown_settle_action: "
                      "a voucher is settled by a claim, not on its own");
  const auto* voucher = std::get_if<protocol::VoucherPayload>(protocol::batch_payload(request.paymentPayload));
  ASSERT_NE(voucher, nullptr);
  const std::string signature = to_hex(voucher->voucher.signature.bytes()).substr(2);
  for (const auto& line : lines) EXPECT_EQ(line.find(signature.substr(0, 40)), std::string::npos) << line;

  // A caller's field cannot forge a line of its own.
  protocol::FacilitatorRequest forged = request;
  forged.paymentRequirements.network = "eip155:1\nsettle of a claim on eip155:1 sent 0xforged";
  (void)http::run_blocking(logged.verify_request(forged, ReceiverScope::nobody()));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2].find('\n'), std::string::npos) << lines[2];
}

// A channel twice in one claim batch is refused before the chain: the contract would take it, and
// spend gas on a row that claims nothing.
TEST_F(FacilitatorHttpTest, AClaimNamingAChannelTwiceIsRefused) {
  protocol::FacilitatorRequest request = voucher_request(kNetwork);
  const auto& voucher = std::get<protocol::VoucherPayload>(*protocol::batch_payload(request.paymentPayload));
  const protocol::VoucherClaimRow row{voucher.channelConfig, voucher.voucher.voucher.maxClaimableAmount,
                                      voucher.voucher.signature, 500};
  request.paymentPayload.payload = protocol::BatchSettlementPayload{protocol::ClaimPayload{{row, row}, std::nullopt}};
  const protocol::SettlementResponse answer =
      http::run_blocking(facilitator_.settle_request(request, ReceiverScope::nobody()));
  EXPECT_FALSE(answer.success);
  EXPECT_EQ(answer.errorReason, "invalid_batch_settlement_evm_claim_payload");
  EXPECT_NE(answer.errorMessage.value_or("").find("has more than one row"), std::string::npos)
      << answer.errorMessage.value_or("");
}

std::string reason_of_verify(const std::string& body) {
  auto r = protocol::decode_verify_response(body);
  EXPECT_TRUE(r) << body;
  return r ? r->invalidReason.value_or("") : "";
}

TEST_F(FacilitatorHttpTest, MalformedBodiesAreTyped400s) {
  auto broken = call("POST", "/verify", "{");
  EXPECT_EQ(broken.status, 400);
  EXPECT_EQ(reason_of_verify(broken.body), "invalid_payload");  // the request decoder's code for any bad JSON

  auto bad_version = call("POST", "/verify", R"({"x402Version":1,"paymentPayload":{},"paymentRequirements":{}})");
  EXPECT_EQ(bad_version.status, 400);
  EXPECT_EQ(reason_of_verify(bad_version.body), "invalid_x402_version");

  // A voucher whose signature is not hex of whole bytes: the scheme's own payload code, with the path.
  std::string text = protocol::encode_facilitator_request(voucher_request(kNetwork));
  const auto sig = text.find("\"signature\":\"0x") + 15;
  text.erase(sig, 3);
  auto short_sig = call("POST", "/settle", text);
  EXPECT_EQ(short_sig.status, 400);
  auto settle = protocol::decode_settlement_response(short_sig.body);
  ASSERT_TRUE(settle) << short_sig.body;
  EXPECT_FALSE(settle->success);
  EXPECT_EQ(settle->errorReason, std::optional<std::string>{"invalid_batch_settlement_evm_voucher_payload"});
  EXPECT_NE(settle->errorMessage.value_or("").find("signature"), std::string::npos) << short_sig.body;
}

// Refused from the header (its Content-Length) and answered in the endpoint's shape; the client's
// body is not read.
TEST_F(FacilitatorHttpTest, OversizedBodiesAreRefusedBeforeParsing) {
  const std::string huge(protocol::kMaxFacilitatorRequestBytes + 1, ' ');
  const auto settle = call("POST", "/settle", huge);
  EXPECT_EQ(settle.status, 413);
  EXPECT_EQ(settle.header("Content-Type"), std::optional<std::string_view>("application/json"));
  const auto settled = protocol::decode_settlement_response(settle.body);
  ASSERT_TRUE(settled) << settle.body;
  EXPECT_FALSE(settled->success);
  EXPECT_EQ(settled->errorReason, "input_too_large");
  const auto verify = call("POST", "/verify", huge);
  EXPECT_EQ(verify.status, 413);
  EXPECT_EQ(reason_of_verify(verify.body), "input_too_large") << verify.body;
  // Elsewhere, or with another method, the server's own answer.
  for (const auto& [method, path] : {std::pair{"POST", "/nope"}, std::pair{"PUT", "/verify"}}) {
    const auto other = call(method, path, huge);
    EXPECT_EQ(other.status, 413) << method << " " << path;
    EXPECT_EQ(other.header("Content-Type"), std::optional<std::string_view>("text/plain")) << method << " " << path;
  }
  const std::string text = call("GET", "/metrics").body;
  EXPECT_NE(text.find(R"(paychan_facilitator_settle_total{result="input_too_large"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(paychan_facilitator_verify_total{result="input_too_large"} 1)"), std::string::npos) << text;
  // With clients, a caller without a client's token gets the server's plain 413, counted nowhere.
  const std::string token(40, 'b');
  const auto with_clients = guarded(token);
  ASSERT_TRUE(with_clients);
  const std::uint16_t port = with_clients->server.port();
  const auto anonymous = call("POST", "/verify", huge, port);
  EXPECT_EQ(anonymous.status, 413);
  EXPECT_EQ(anonymous.header("Content-Type"), std::optional<std::string_view>("text/plain"));
  EXPECT_EQ(call("POST", "/verify", huge, port, "Bearer " + token).header("Content-Type"),
            std::optional<std::string_view>("application/json"));
  const std::string counted = call("GET", "/metrics", {}, port, "Bearer " + token).body;
  EXPECT_NE(counted.find(R"(paychan_facilitator_verify_total{result="input_too_large"} 1)"), std::string::npos)
      << counted;
}

TEST_F(FacilitatorHttpTest, RoutesAndMethods) {
  EXPECT_EQ(call("GET", "/verify").status, 405);
  EXPECT_EQ(call("POST", "/supported", "{}").status, 405);
  EXPECT_EQ(call("GET", "/nope").status, 404);
  auto health = call("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  // The process serves (/healthz), but its network's node is a closed port: not ready.
  auto ready = call("GET", "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("not ready: eip155:31337: the node at http://127.0.0.1:1 did not answer eth_chainId"),
            std::string::npos)
      << ready.body;
  EXPECT_EQ(call("POST", "/readyz", "{}").status, 405);
  auto supported = call("GET", "/supported");
  ASSERT_EQ(supported.status, 200);
  auto s = protocol::decode_supported_response(supported.body);
  ASSERT_TRUE(s) << supported.body;
  ASSERT_EQ(s->kinds.size(), 1u);
  EXPECT_EQ(s->kinds[0].network, kNetwork);
  EXPECT_NE(s->kinds[0].extra.text().find(to_checksum_hex(key_from(2).address())), std::string::npos);
  EXPECT_EQ(s->signers.at("eip155:*"), std::vector<std::string>{to_checksum_hex(key_from(1).address())});
}

TEST_F(FacilitatorHttpTest, UnservedNetworkAndUnreachableNodeAreAnswers) {
  auto other = call("POST", "/verify", protocol::encode_facilitator_request(voucher_request("eip155:8453")));
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(reason_of_verify(other.body), "invalid_network");

  const auto request = voucher_request(kNetwork);
  auto down = call("POST", "/verify", protocol::encode_facilitator_request(request));
  EXPECT_EQ(down.status, 200);
  EXPECT_EQ(reason_of_verify(down.body), "invalid_batch_settlement_evm_rpc_read_failed");
  // In process, the gate learns that no trustworthy answer exists.
  auto in_process = http::run_blocking(facilitator_.verify(request));
  ASSERT_FALSE(in_process);
  EXPECT_EQ(in_process.error().code, ErrorCode::facilitator_unavailable);
}

// GET /metrics: each answer counted by endpoint and outcome (a 400's reason too), timed; the 401s;
// the journal's pending transactions.
TEST_F(FacilitatorHttpTest, MetricsCountTheAnswersByOutcome) {
  const auto has = [](const std::string& text, std::string_view row) {
    return text.find("\n" + std::string(row) + "\n") != std::string::npos;
  };
  auto first = call("GET", "/metrics");
  EXPECT_EQ(first.status, 200);
  EXPECT_TRUE(has(first.body, R"(paychan_facilitator_verify_total{result="valid"} 0)")) << first.body;
  EXPECT_TRUE(has(first.body, "paychan_facilitator_pending_transactions 0")) << first.body;

  (void)call("POST", "/verify", protocol::encode_facilitator_request(voucher_request("eip155:8453")));
  (void)call("POST", "/verify", protocol::encode_facilitator_request(voucher_request(kNetwork)));  // the node is down
  EXPECT_EQ(call("POST", "/verify", "{").status, 400);
  EXPECT_EQ(call("POST", "/settle", "{").status, 400);
  const std::string malformed(to_string(protocol::decode_facilitator_request("{").error().code));
  const std::string text = call("GET", "/metrics").body;
  for (const std::string& row :
       {std::string(R"(paychan_facilitator_verify_total{result="valid"} 0)"),
        std::string(R"(paychan_facilitator_verify_total{result="invalid_network"} 1)"),
        std::string(R"(paychan_facilitator_verify_total{result="invalid_batch_settlement_evm_rpc_read_failed"} 1)"),
        R"(paychan_facilitator_verify_total{result=")" + malformed + R"("} 1)",
        std::string("paychan_facilitator_verify_seconds_count 3"),
        std::string(R"(paychan_facilitator_settle_total{result="success"} 0)"),
        R"(paychan_facilitator_settle_total{result=")" + malformed + R"("} 1)",
        std::string("paychan_facilitator_settle_seconds_count 1"),
        std::string("paychan_facilitator_unauthorized_total 0")})
    EXPECT_TRUE(has(text, row)) << row << "\n" << text;
  EXPECT_EQ(call("POST", "/metrics", "{}").status, 405);

  // With clients, the totals (which span them all) want a client's token too.
  const std::string token(40, 'k');
  const auto with_clients = guarded(token);
  ASSERT_TRUE(with_clients);
  const std::uint16_t port = with_clients->server.port();
  EXPECT_EQ(call("POST", "/settle", "{}", port).status, 401);
  EXPECT_EQ(call("GET", "/metrics", {}, port).status, 401);
  auto scraped = call("GET", "/metrics", {}, port, "Bearer " + token);
  EXPECT_EQ(scraped.status, 200);
  const std::string& guarded_text = scraped.body;
  EXPECT_TRUE(has(guarded_text, "paychan_facilitator_unauthorized_total 1")) << guarded_text;
  EXPECT_TRUE(has(guarded_text, "paychan_facilitator_settle_seconds_count 0")) << "a 401 is no answer of /settle's";
}

// With metricsListen, /metrics moves to a listener of its own, which wants no token (its address
// is the guard); the API's port has none, even for a client.
TEST_F(FacilitatorHttpTest, MetricsOnAPortOfTheirOwnWantNoTokenAndLeaveTheApi) {
  const std::string token(40, 'm');
  const auto with_clients = guarded(token, true);
  ASSERT_TRUE(with_clients);
  auto listener = MetricsListener::start({"127.0.0.1", 0}, [&service = with_clients->service](http::Exchange& ex) {
    return service.answer_metrics_port(ex);
  });
  ASSERT_TRUE(listener) << listener.error().to_string();
  const std::uint16_t api = with_clients->server.port();
  EXPECT_EQ(call("POST", "/verify", "{}", api).status, 401);
  const auto scraped = call("GET", "/metrics", {}, (*listener)->port());
  EXPECT_EQ(scraped.status, 200);
  EXPECT_NE(scraped.body.find("paychan_facilitator_unauthorized_total 1"), std::string::npos) << scraped.body;
  EXPECT_EQ(call("GET", "/healthz", {}, (*listener)->port()).status, 200);
  EXPECT_EQ(call("POST", "/verify", "{}", (*listener)->port()).status, 404);
  EXPECT_EQ(call("GET", "/metrics", {}, api, "Bearer " + token).status, 404);
  (*listener)->stop();
}

TEST_F(FacilitatorHttpTest, TheGatesStartUpProbeTellsARefusedTokenFromATakenOne) {
  const std::string token = "pct_" + std::string(64, 'a');
  auto clients = ClientAuth::load({ClientConfig{"gate", dir_.secret_file("gate.token", token), {}}});
  ASSERT_TRUE(clients) << clients.error().to_string();
  FacilitatorService guarded(facilitator_, std::make_shared<const ClientAuth>(std::move(*clients)));
  http::HttpServer server(guarded, options());
  ASSERT_TRUE(server.start());
  auto probe = [](std::uint16_t port, std::string token, const std::string& prefix = "") {
    gate::HttpFacilitatorOptions o{"http://127.0.0.1:" + std::to_string(port) + prefix, std::chrono::milliseconds(2'000)};
    o.token = std::move(token);
    auto client = gate::HttpFacilitator::create(o);
    EXPECT_TRUE(client);
    return http::run_blocking((*client)->check_token());
  };
  EXPECT_TRUE(probe(server.port(), token));
  for (const std::string& refused : {std::string{}, "pct_" + std::string(64, 'b')}) {
    const Status s = probe(server.port(), refused);
    ASSERT_FALSE(s) << refused;
    EXPECT_EQ(s.error().code, ErrorCode::facilitator_unauthorized);
  }
  // A facilitator without clients takes any caller; a closed port is no answer at all (it may come
  // up), and a wrong path (404) no facilitator's URL (to fix).
  EXPECT_TRUE(probe(server_.port(), {}));
  const Status closed = probe(1, token);
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code, ErrorCode::facilitator_unavailable);
  const Status wrong_path = probe(server.port(), token, "/not-the-facilitator");
  ASSERT_FALSE(wrong_path);
  EXPECT_EQ(wrong_path.error().code, ErrorCode::invalid_config);
  EXPECT_NE(wrong_path.error().detail.find("/not-the-facilitator is not a facilitator's URL: POST /verify answered HTTP 404"),
            std::string::npos)
      << wrong_path.error().detail;
  server.stop(std::chrono::seconds(1));
}

TEST_F(FacilitatorHttpTest, WithClientsVerifyAndSettleNeedAClientsToken) {
  const std::string token(40, 'k');
  const auto with_clients = guarded(token);
  ASSERT_TRUE(with_clients);
  http::HttpServer& server = with_clients->server;
  const std::string body = protocol::encode_facilitator_request(voucher_request(kNetwork));

  const std::vector<std::string> wrong{"", "Bearer wrong-token-of-forty-characters-xxxxxx", "Basic a2s6a2s=", "Bearer",
                                      "Bearer " + std::string(39, 'k')};
  for (const std::string& authorization : wrong) {
    auto verify = call("POST", "/verify", body, server.port(), authorization);
    EXPECT_EQ(verify.status, 401) << authorization;
    EXPECT_EQ(reason_of_verify(verify.body), "facilitator_unauthorized");
    EXPECT_EQ(http::find_header(verify.headers, "WWW-Authenticate"), std::optional<std::string_view>{"Bearer"});
    auto settle = call("POST", "/settle", body, server.port(), authorization);
    EXPECT_EQ(settle.status, 401) << authorization;
    auto refused = protocol::decode_settlement_response(settle.body);
    ASSERT_TRUE(refused) << settle.body;
    EXPECT_EQ(refused->errorReason, std::optional<std::string>{"facilitator_unauthorized"});
  }
  // With the token (the scheme's case does not matter) the request is served: here, the node is
  // down, which is an answer.
  for (const std::string& authorization : std::vector<std::string>{"Bearer " + token, "bearer " + token}) {
    auto verify = call("POST", "/verify", body, server.port(), authorization);
    EXPECT_EQ(verify.status, 200) << verify.body;
    EXPECT_EQ(reason_of_verify(verify.body), "invalid_batch_settlement_evm_rpc_read_failed");
  }
  // What the facilitator offers stays public.
  EXPECT_EQ(call("GET", "/supported", {}, server.port()).status, 200);
  EXPECT_EQ(call("GET", "/healthz", {}, server.port()).status, 200);
}

// A reloaded client table (FacilitatorRuntime::reload) takes effect on the next request: the new
// token is served, the old one refused. A facilitator started open stays open.
TEST_F(FacilitatorHttpTest, AReloadedClientTableServesItsTokensAndNoOthers) {
  const std::string old_token(40, 'o');
  const std::string new_token(40, 'n');
  auto loaded = ClientAuth::load({ClientConfig{"gate", dir_.secret_file("rotated.token", new_token), {}}});
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const auto rotated = std::make_shared<const ClientAuth>(std::move(*loaded));
  const auto with_clients = guarded(old_token);
  ASSERT_TRUE(with_clients);
  const std::uint16_t port = with_clients->server.port();
  EXPECT_EQ(call("GET", "/metrics", {}, port, "Bearer " + old_token).status, 200);
  ASSERT_TRUE(with_clients->service.use_clients(rotated));
  EXPECT_EQ(call("GET", "/metrics", {}, port, "Bearer " + old_token).status, 401);
  EXPECT_EQ(call("GET", "/metrics", {}, port, "Bearer " + new_token).status, 200);
  const std::string body = protocol::encode_facilitator_request(voucher_request(kNetwork));
  EXPECT_EQ(call("POST", "/verify", body, port, "Bearer " + old_token).status, 401);
  EXPECT_EQ(call("POST", "/verify", body, port, "Bearer " + new_token).status, 200);

  EXPECT_FALSE(service_.use_clients(rotated));  // started without clients
  EXPECT_EQ(call("GET", "/metrics").status, 200);
}

// A request authenticated before a reload revokes its client's token finishes as that client: here
// a /verify waiting on a node that answers only when released is answered (the node's failure),
// not refused; the token is refused from the next request on. The old table goes with that request.
TEST_F(FacilitatorHttpTest, ARequestInProgressWhenItsTokenIsRevokedFinishesAsItsClient) {
  http::test::Event reached;
  http::test::Event release;
  http::test::TestServer node{[&](http::Exchange& ex) -> http::Handled {
    reached.set();
    return [](http::test::Event& release, http::Exchange& ex) -> http::Awaitable<void> {
      co_await release.wait();
      ex.response().set(500, "text/plain", "node down");
    }(release, ex);
  }};
  Facilitator slow({NetworkOptions{std::string(kNetwork), node.url("")}}, key_from(1), key_from(2), *journal_);
  const std::string token(40, 'r');
  const std::string other_token(40, 'x');
  auto revoked = ClientAuth::load({ClientConfig{"other", dir_.secret_file("other.token", other_token), {}}});
  ASSERT_TRUE(revoked) << revoked.error().to_string();
  auto loaded = ClientAuth::load({ClientConfig{"gate", dir_.secret_file("gate.token", token), {}}});
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  auto clients = std::make_shared<const ClientAuth>(std::move(*loaded));
  const std::weak_ptr<const ClientAuth> old_table = clients;
  Guarded guarded(slow, std::move(clients));
  const std::string body = protocol::encode_facilitator_request(voucher_request(kNetwork));
  std::optional<http::ClientResponse> answer;
  std::thread in_progress(
      [&] { answer = call("POST", "/verify", body, guarded.server.port(), "Bearer " + token); });
  const bool asked_the_node = reached.wait_here();
  ASSERT_TRUE(guarded.service.use_clients(std::make_shared<const ClientAuth>(std::move(*revoked))));
  const bool kept = !old_table.expired();
  release.set();
  in_progress.join();
  EXPECT_TRUE(kept) << "the table went with the reload, under a request it authenticated";
  ASSERT_TRUE(asked_the_node) << "the /verify never reached the node";
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200) << answer->body;
  EXPECT_EQ(reason_of_verify(answer->body), "invalid_batch_settlement_evm_rpc_read_failed");
  EXPECT_EQ(call("POST", "/verify", body, guarded.server.port(), "Bearer " + token).status, 401);
  EXPECT_TRUE(old_table.expired()) << "the table outlived its last request";
}

}  // namespace
}  // namespace paychan::engine::facilitator::test
