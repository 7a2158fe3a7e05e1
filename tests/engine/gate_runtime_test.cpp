// `paychan gate` as its configuration builds it (GateRuntime): the upstream's timeout, what a
// stop leaves unanswered, and what a reload changes.
#include "engine/gate/gate_runtime.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "engine/facilitator/client_auth.hpp"
#include "engine/facilitator/facilitator.hpp"
#include "engine/facilitator/facilitator_service.hpp"
#include "engine/gate/gate_config.hpp"
#include "engine/gate/offers.hpp"
#include "engine/http/server.hpp"
#include "gate_stack.hpp"
#include "persistence/channel_store.hpp"
#include "persistence/tx_journal.hpp"
#include "protocol/headers.hpp"
#include "http_test_support.hpp"
#include "temp_dir.hpp"

namespace paychan::engine::gate {
namespace {

using http::test::Event;
using http::test::get;
using http::test::RawClient;
using http::test::TestServer;

// A gate with one priced route in front of `upstream`, its store in `dir`, no facilitator.
GateConfig gate_config(const std::string& upstream, const paychan::test::TempDir& dir, std::uint64_t upstream_timeout) {
  auto c = parse_gate_config(R"({
    "network": "eip155:84532",
    "asset": {"address": "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "name": "USDC", "version": "2"},
    "payTo": "0x1111111111111111111111111111111111111111",
    "receiverAuthorizer": "0x2222222222222222222222222222222222222222",
    "listen": "127.0.0.1:0",
    "routes": [{"path": "/priced", "price": "500"}]
  })");
  EXPECT_TRUE(c) << c.error().to_string();
  c->upstream = upstream;
  c->store = dir.file();
  c->upstreamTimeoutSeconds = upstream_timeout;
  return *c;
}

// An upstream that answers nothing until `release` is set; `requests` counts what reached it.
auto silent_until(Event& release, std::atomic<int>* requests = nullptr) {
  return [&release, requests](http::Exchange&) -> http::Handled {
    if (requests != nullptr) ++*requests;
    return [](Event& e) -> http::Awaitable<void> { co_await e.wait(); }(release);
  };
}

// upstreamTimeoutSeconds bounds the wait for the upstream's head (its default, 300 s, would
// outlast the client's read here).
TEST(GateRuntime, AnUpstreamSilentForUpstreamTimeoutSecondsIsAnswered504) {
  Event release;
  TestServer upstream{silent_until(release)};
  paychan::test::TempDir dir;
  auto gate = GateRuntime::start(gate_config(upstream.url(""), dir, 1));
  ASSERT_TRUE(gate) << gate.error().to_string();
  RawClient client{(*gate)->port()};
  client.send(get("/free"));
  const auto answer = client.read_response();
  release.set();
  ASSERT_TRUE(answer) << "no answer before the client gave up";
  EXPECT_EQ(answer->result_int(), 504u);
}

// `stop` stops a gate while a request is held upstream: it must cut the request (unanswered) and
// count it.
void cut_in_progress(const std::function<std::size_t(GateRuntime&)>& stop) {
  Event release;
  std::atomic<int> upstream_requests{0};
  TestServer upstream{silent_until(release, &upstream_requests)};
  paychan::test::TempDir dir;
  auto gate = GateRuntime::start(gate_config(upstream.url(""), dir, 60));
  ASSERT_TRUE(gate) << gate.error().to_string();
  RawClient client{(*gate)->port()};
  client.send(get("/free"));
  // The request is upstream (not merely a connection: the gate's start-up probe connects too).
  while (upstream_requests.load() == 0) std::this_thread::yield();
  EXPECT_EQ(stop(**gate), 1u);
  EXPECT_FALSE(client.read_response()) << "a cut request was answered";
  release.set();
}

// A safety margin below 900 s (the default's half of the contract's shortest withdrawDelay) is
// warned of at start: the settle job must claim a withdrawing channel within it.
TEST(GateRuntime, AThinWithdrawalMarginIsWarnedOf) {
  Event release;
  TestServer upstream{silent_until(release)};
  paychan::test::TempDir dir;
  GateConfig config = gate_config(upstream.url(""), dir, 60);
  auto wide = GateRuntime::start(config);
  ASSERT_TRUE(wide) << wide.error().to_string();
  for (const std::string& w : (*wide)->warnings()) EXPECT_EQ(w.find("withdrawalSafetyMarginSeconds"), std::string::npos) << w;
  wide->reset();
  config.withdrawDelay = 900;
  config.withdrawalSafetyMarginSeconds = 450;
  auto thin = GateRuntime::start(config);
  ASSERT_TRUE(thin) << thin.error().to_string();
  const auto& warnings = (*thin)->warnings();
  EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
    return w.starts_with("withdrawalSafetyMarginSeconds is 450 s");
  }));
  release.set();
}

// A stop waits out its grace for the requests in progress, then cuts them, and says how many.
TEST(GateRuntime, AStopCutsWhatIsStillInProgressWhenItsGraceRunsOutAndCountsIt) {
  cut_in_progress([](GateRuntime& gate) { return gate.stop(std::chrono::milliseconds{100}); });
}

// A second signal during the grace (end_grace) cuts what is still in progress at once.
TEST(GateRuntime, EndingTheGraceCutsWhatIsStillInProgressAtOnce) {
  cut_in_progress([](GateRuntime& gate) {
    std::thread second([&gate] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      gate.end_grace();
    });
    const auto started = std::chrono::steady_clock::now();
    const std::size_t cut = gate.stop(std::chrono::minutes{5});
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::minutes{1}) << "the grace ran its course";
    second.join();
    return cut;
  });
}

// maxRequestBodyBytes bounds the bodies the gate takes, free routes too.
TEST(GateRuntime, ARequestBodyAboveMaxRequestBodyBytesIsRefused413) {
  TestServer upstream{[](http::Exchange& ex) -> http::Handled {
    ex.response().set(200, "text/plain", std::to_string(ex.request().body().size()));
    return std::nullopt;
  }};
  paychan::test::TempDir dir;
  auto config = gate_config(upstream.url(""), dir, 60);
  config.maxRequestBodyBytes = 1000;  // (the test upstream's own limit is 1 MiB)
  auto gate = GateRuntime::start(config);
  ASSERT_TRUE(gate) << gate.error().to_string();
  for (const std::size_t size : {std::size_t{1000}, std::size_t{1001}}) {
    RawClient client{(*gate)->port()};
    client.send("POST /free HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n" +
                std::string(size, 'b'));
    const auto answer = client.read_response();
    ASSERT_TRUE(answer) << size;
    EXPECT_EQ(answer->result_int(), size <= config.maxRequestBodyBytes ? 200u : 413u) << size;
  }
}

// metricsListen: /metrics on a port of its own (with /healthz); on the API's port its path is the
// upstream's, like any free path. Without it, the API's port answers /metrics itself.
TEST(GateRuntime, MetricsListenServesMetricsApartAndLeavesThePathToTheUpstream) {
  TestServer upstream{[](http::Exchange& ex) -> http::Handled {
    ex.response().set(200, "text/plain", "the upstream's " + std::string(ex.request().path()));
    return std::nullopt;
  }};
  const auto answer = [](std::uint16_t port, std::string_view target) {
    RawClient client{port};
    client.send("GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto res = client.read_response();
    EXPECT_TRUE(res) << target;
    return res ? std::pair{res->result_int(), res->body()} : std::pair{0u, std::string()};
  };
  paychan::test::TempDir dir;
  auto config = gate_config(upstream.url(""), dir, 60);
  {
    auto gate = GateRuntime::start(config);
    ASSERT_TRUE(gate) << gate.error().to_string();
    EXPECT_EQ((*gate)->metrics_port(), 0u);
    EXPECT_NE(answer((*gate)->port(), "/metrics").second.find("paychan_paid_requests"), std::string::npos);
  }
  config.metricsListen = "127.0.0.1:0";
  auto gate = GateRuntime::start(config);
  ASSERT_TRUE(gate) << gate.error().to_string();
  const std::uint16_t metrics = (*gate)->metrics_port();
  ASSERT_NE(metrics, 0u);
  EXPECT_EQ(answer((*gate)->port(), "/metrics"), (std::pair{200u, std::string("the upstream's /metrics")}));
  const auto [status, body] = answer(metrics, "/metrics");
  EXPECT_EQ(status, 200u);
  EXPECT_NE(body.find("paychan_paid_requests"), std::string::npos) << body;
  EXPECT_EQ(answer(metrics, "/healthz"), (std::pair{200u, std::string("ok\n")}));
  EXPECT_EQ(answer((*gate)->port(), "/healthz"), (std::pair{200u, std::string("ok\n")})) << "probes of the API's port";
  EXPECT_EQ(answer(metrics, "/priced").first, 404u) << "the API on the metrics port";

  for (const char* clash : {"nowhere", "127.0.0.1:18556"}) {
    config.listen = "127.0.0.1:18556";
    config.metricsListen = clash;
    auto refused = GateRuntime::start(config);
    ASSERT_FALSE(refused) << clash;
    EXPECT_NE(refused.error().detail.find("metricsListen"), std::string::npos) << refused.error().to_string();
  }
}

// Behind a TLS terminator (publicScheme "https"): the offer's resource URL is https, and so is the
// X-Forwarded-Proto the upstream sees (an upstream enforcing https would otherwise answer every
// request with a redirect, and be paid for it).
TEST(GateRuntime, APublicSchemeOfHttpsIsWhatTheOfferAndTheUpstreamSee) {
  TestServer upstream{[](http::Exchange& ex) -> http::Handled {
    ex.response().set(200, "text/plain", std::string(ex.request().header("X-Forwarded-Proto").value_or("none")));
    return std::nullopt;
  }};
  paychan::test::TempDir dir;
  GateConfig config = gate_config(upstream.url(""), dir, 5);
  config.publicScheme = "https";
  auto gate = GateRuntime::start(config);
  ASSERT_TRUE(gate) << gate.error().to_string();
  RawClient client{(*gate)->port()};
  client.send(get("/priced"));
  const auto offer = client.read_response();
  ASSERT_TRUE(offer);
  ASSERT_EQ(offer->result_int(), 402u);
  const auto required = protocol::decode_payment_required_header((*offer)["PAYMENT-REQUIRED"]);
  ASSERT_TRUE(required);
  EXPECT_EQ(required->resource.url, "https://test/priced");
  client.send(get("/free"));
  const auto free = client.read_response();
  ASSERT_TRUE(free);
  EXPECT_EQ(free->body(), "https");
}

// The price `path`'s 402 offers on `client`'s connection, or its status when it is not a 402.
std::string offered(RawClient& client, std::string_view path) {
  client.send(get(path));
  const auto res = client.read_response();
  if (!res) return "no answer";
  if (res->result_int() != 402) return "status " + std::to_string(res->result_int());
  const auto required = protocol::decode_payment_required_header((*res)["PAYMENT-REQUIRED"]);
  return required ? required->accepts.at(0).amount : "no offer";
}

// A reload applies the new routes to the next request on a connection already open; a file that
// changes what only a restart applies, or that fails the checks, changes nothing.
TEST(GateRuntime, AReloadChangesTheRoutesAndRefusesWhatNeedsARestart) {
  TestServer upstream{[](http::Exchange& ex) -> http::Handled {
    ex.response().set(200, "text/plain", "ok");
    return std::nullopt;
  }};
  paychan::test::TempDir dir;
  const GateConfig config = gate_config(upstream.url(""), dir, 5);
  auto gate = GateRuntime::start(config);
  ASSERT_TRUE(gate) << gate.error().to_string();
  RawClient client{(*gate)->port()};
  EXPECT_EQ(offered(client, "/priced"), "500");
  EXPECT_EQ(offered(client, "/new"), "status 200");

  GateConfig next = config;
  next.routes[0].price = 700;
  RouteConfig added;
  added.path = "/new";
  added.price = 9;
  next.routes.push_back(added);
  const auto applied = (*gate)->reload(next);
  ASSERT_TRUE(applied) << applied.error().to_string();
  EXPECT_TRUE(applied->routes);
  EXPECT_FALSE(applied->token);
  EXPECT_EQ(offered(client, "/priced"), "700");
  EXPECT_EQ(offered(client, "/new"), "9");
  const auto again = (*gate)->reload(next);  // a SIGHUP with the file unchanged
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->routes);

  GateConfig moved = next;
  moved.routes[0].price = 800;
  moved.payTo = Address{};
  moved.payTo.bytes[19] = 3;
  const auto refused = (*gate)->reload(moved);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_config);
  EXPECT_NE(refused.error().detail.find("payTo changed"), std::string::npos) << refused.error().detail;
  EXPECT_EQ(offered(client, "/priced"), "700");

  GateConfig unpriced = next;
  unpriced.routes[0].price = 0;
  const auto unchecked = (*gate)->reload(unpriced);
  ASSERT_FALSE(unchecked);
  EXPECT_NE(unchecked.error().detail.find("routes[0]"), std::string::npos) << unchecked.error().detail;
  EXPECT_EQ(offered(client, "/priced"), "700");

  ASSERT_TRUE((*gate)->reload(config));  // back as it started: /new is free again
  EXPECT_EQ(offered(client, "/priced"), "500");
  EXPECT_EQ(offered(client, "/new"), "status 200");
}

// gate_support.hpp's routes (and so its agents' offers), in front of `upstream`, the store in `dir`.
GateConfig paid_config(const std::string& upstream, const paychan::test::TempDir& dir) {
  GateConfig config = test::test_config();
  config.upstream = upstream;
  config.store = dir.file();
  config.listen = "127.0.0.1:0";
  return config;
}

// A gate of `config` paying its deposits and vouchers through `facilitator`.
Result<std::unique_ptr<GateRuntime>> paid_gate(const GateConfig& config, test::FacilitatorDouble& facilitator) {
  RuntimeOptions options;
  options.facilitator = &facilitator;
  return GateRuntime::start(config, options);
}

// POST /v1/infer to `gate` with `payment` as its PAYMENT-SIGNATURE; the answer, if one came.
std::optional<http::ClientResponse> pay(const GateRuntime& gate, const std::string& payment) {
  http::BlockingHttpClient client;
  auto req = http::ClientRequest::post("http://127.0.0.1:" + std::to_string(gate.port()) + "/v1/infer", "{}");
  req.header("PAYMENT-SIGNATURE", payment);
  auto res = client.request(std::move(req));
  return res ? std::optional<http::ClientResponse>(std::move(*res)) : std::nullopt;
}

// A paid request already matched to its offer when a reload reprices the route is charged that
// offer's price: its table outlives the reload.
TEST(GateRuntime, ARequestInProgressAtAReloadIsChargedTheOfferItMatched) {
  Event arrived;
  Event release;
  TestServer upstream{[&](http::Exchange& ex) -> http::Handled {
    arrived.set();
    return [](Event& release, http::Exchange& ex) -> http::Awaitable<void> {
      co_await release.wait();
      ex.response().set(200, "application/json", "{\"ok\":true}");
    }(release, ex);
  }};
  paychan::test::TempDir dir;
  test::FacilitatorDouble facilitator;
  const GateConfig config = paid_config(upstream.url(""), dir);
  auto gate = paid_gate(config, facilitator);
  ASSERT_TRUE(gate) << gate.error().to_string();
  const OfferTable offers = OfferTable::build(config);  // byte-identical to the gate's
  const test::TestAgent agent(test::test_key(2), config, 1);
  std::optional<http::ClientResponse> answer;
  const std::string payment = agent.deposit_header(offers.offers()[0].requirements, 10'000, 1'000'000);
  std::thread paying([&] { answer = pay(**gate, payment); });
  const bool reached = arrived.wait_here();
  GateConfig repriced = config;
  repriced.routes[0].price = 30'000;
  repriced.routes[0].minDeposit = 30'000;  // at least the price
  const auto applied = (*gate)->reload(repriced);
  release.set();
  paying.join();
  ASSERT_TRUE(reached) << "the paid request never reached the upstream";
  ASSERT_TRUE(applied) << applied.error().to_string();
  ASSERT_TRUE(applied->routes);
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  EXPECT_EQ(test::payment_response(*answer).chargedAmount, 10'000u);
}

// enforceMinDeposit is reloaded with the routes: a deposit below the announced minimum, taken
// before, is refused after.
TEST(GateRuntime, AReloadCanEnforceTheMinimumDeposit) {
  TestServer upstream{[](http::Exchange& ex) -> http::Handled {
    ex.response().set(200, "application/json", "{\"ok\":true}");
    return std::nullopt;
  }};
  paychan::test::TempDir dir;
  test::FacilitatorDouble facilitator;
  GateConfig config = paid_config(upstream.url(""), dir);
  config.routes[0].minDeposit = 50'000;
  auto gate = paid_gate(config, facilitator);
  ASSERT_TRUE(gate) << gate.error().to_string();
  const OfferTable offers = OfferTable::build(config);
  const auto& offer = offers.offers()[0].requirements;
  const auto deposit = [&](std::uint8_t payer) {
    return pay(**gate, test::TestAgent(test::test_key(payer), config, 1).deposit_header(offer, 10'000, 20'000));
  };
  const auto announced = deposit(2);
  ASSERT_TRUE(announced);
  EXPECT_EQ(announced->status, 200) << announced->body;
  GateConfig enforcing = config;
  enforcing.enforceMinDeposit = true;
  const auto applied = (*gate)->reload(enforcing);
  ASSERT_TRUE(applied) << applied.error().to_string();
  EXPECT_TRUE(applied->routes);
  const auto enforced = deposit(3);
  ASSERT_TRUE(enforced);
  ASSERT_EQ(enforced->status, 402);
  EXPECT_EQ(test::payment_required(*enforced).error, "invalid_batch_settlement_evm_deposit_below_min_deposit");
}

// A real paychan facilitator over HTTP that takes only its one client's token (its clients
// replaced by rotate()); it reaches no chain (its node is a closed port), which a gate's token
// check and a deposit's refusal do not need.
class GuardedFacilitator {
 public:
  GuardedFacilitator(const paychan::test::TempDir& dir, const std::string& token_file)
      : journal_(*persistence::TxJournal::open(dir.file("journal.sqlite"))),
        facilitator_({facilitator::NetworkOptions{"eip155:31337", "http://127.0.0.1:1"}}, test::test_key(90),
                     std::nullopt, *journal_),
        service_(facilitator_, client_table(token_file)),
        server_(service_, server_options()) {
    EXPECT_TRUE(server_.start());
  }
  ~GuardedFacilitator() { server_.stop(std::chrono::seconds(1)); }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  // From now on its client is known by the token in `token_file` (as its SIGHUP would do).
  void rotate(const std::string& token_file) {
    EXPECT_TRUE(service_.use_clients(client_table(token_file)));
  }

 private:
  static std::shared_ptr<const facilitator::ClientAuth> client_table(const std::string& token_file) {
    auto clients = facilitator::ClientAuth::load({facilitator::ClientConfig{"gate", token_file, {}}});
    EXPECT_TRUE(clients) << clients.error().to_string();
    return clients ? std::make_shared<const facilitator::ClientAuth>(std::move(*clients)) : nullptr;
  }
  static http::ServerOptions server_options() {
    http::ServerOptions o;
    o.threads = 1;
    return o;
  }

  std::unique_ptr<persistence::TxJournal> journal_;
  facilitator::Facilitator facilitator_;
  facilitator::FacilitatorService service_;
  http::HttpServer server_;
};

// A reload reads facilitatorTokenFile again: a new token is asked about first, refused while the
// facilitator does not take it (the old one still sent), and sent once it does.
TEST(GateRuntime, AReloadRotatesTheFacilitatorTokenOnceTheFacilitatorTakesIt) {
  TestServer upstream{[](http::Exchange& ex) -> http::Handled {
    ex.response().set(200, "application/json", "{\"ok\":true}");
    return std::nullopt;
  }};
  paychan::test::TempDir dir;
  const std::string old_token = "the-gate-token-before-its-rotation-0123456789";
  const std::string new_token = "the-gate-token-after-its-rotation-9876543210";
  GuardedFacilitator guarded(dir, dir.secret_file("facilitator-side.token", old_token));
  GateConfig config = paid_config(upstream.url(""), dir);
  config.facilitator = guarded.url();
  config.facilitatorTokenFile = dir.secret_file("gate.token", old_token);
  auto gate = GateRuntime::start(config);
  ASSERT_TRUE(gate) << gate.error().to_string();
  // A deposit makes the gate ask the facilitator, which refuses it (no chain) unless it refuses
  // the gate's token first: then the gate answers 503 facilitator_unauthorized.
  const OfferTable offers = OfferTable::build(config);
  const auto deposit = [&](std::uint8_t payer) {
    const auto answer =
        pay(**gate, test::TestAgent(test::test_key(payer), config, 1).deposit_header(offers.offers()[0].requirements,
                                                                                      10'000, 20'000));
    if (!answer) return std::string("no answer");
    const auto required = answer->header("PAYMENT-REQUIRED");
    return std::to_string(answer->status) + " " + answer->body + " " + std::string(required.value_or(""));
  };
  const auto unauthorized = [](const std::string& answer) {
    return answer.find("facilitator_unauthorized") != std::string::npos;
  };
  EXPECT_FALSE(unauthorized(deposit(2)));

  const auto unchanged = (*gate)->reload(config);
  ASSERT_TRUE(unchanged) << unchanged.error().to_string();
  EXPECT_FALSE(unchanged->token);

  dir.secret_file("gate.token", new_token);  // rewritten before the facilitator knows it
  GateConfig repriced = config;  // and a price changed in the same reload: refused with it
  repriced.routes[2].price = 2'000;
  repriced.routes[2].minDeposit = 2'000;
  const auto refused = (*gate)->reload(repriced);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::facilitator_unauthorized);
  EXPECT_NE(refused.error().detail.find("the facilitator refuses facilitatorTokenFile's new token"), std::string::npos)
      << refused.error().detail;
  EXPECT_NE(refused.error().detail.find("the gate sends the token it did"), std::string::npos)
      << refused.error().detail;
  RawClient client{(*gate)->port()};
  EXPECT_EQ(offered(client, "/data/x"), "1000");
  EXPECT_FALSE(unauthorized(deposit(3)));  // the old token, still the facilitator's
  GateConfig tokenless = config;
  tokenless.facilitatorTokenFile.reset();
  const auto bare = (*gate)->reload(tokenless);
  ASSERT_FALSE(bare);
  EXPECT_NE(bare.error().detail.find("refuses requests without a token"), std::string::npos) << bare.error().detail;

  guarded.rotate(dir.secret_file("facilitator-side.token", new_token));
  const std::string cut_off = deposit(4);
  EXPECT_TRUE(unauthorized(cut_off)) << cut_off;
  const auto rotated = (*gate)->reload(config);
  ASSERT_TRUE(rotated) << rotated.error().to_string();
  EXPECT_TRUE(rotated->token);
  EXPECT_FALSE(rotated->routes);
  EXPECT_TRUE(rotated->warnings.empty());
  const std::string served = deposit(5);
  EXPECT_FALSE(unauthorized(served)) << served;
}

// A new token the facilitator cannot be asked about (it is down) is sent anyway, with a warning:
// the file is the operator's word, and the old token may be revoked already.
TEST(GateRuntime, ANewTokenTheFacilitatorCannotBeAskedAboutIsSentWithAWarning) {
  TestServer upstream{[](http::Exchange& ex) -> http::Handled {
    ex.response().set(200, "application/json", "{\"ok\":true}");
    return std::nullopt;
  }};
  paychan::test::TempDir dir;
  GateConfig config = paid_config(upstream.url(""), dir);
  config.facilitator = "http://127.0.0.1:1";  // nothing listens there
  config.facilitatorTokenFile = dir.secret_file("gate.token", "the-gate-token-before-its-rotation-0123456789");
  auto gate = GateRuntime::start(config);
  ASSERT_TRUE(gate) << gate.error().to_string();
  dir.secret_file("gate.token", "the-gate-token-after-its-rotation-9876543210");
  const auto rotated = (*gate)->reload(config);
  ASSERT_TRUE(rotated) << rotated.error().to_string();
  EXPECT_TRUE(rotated->token);
  ASSERT_EQ(rotated->warnings.size(), 1u);
  EXPECT_NE(rotated->warnings[0].find("new token sent unchecked"), std::string::npos) << rotated->warnings[0];
  dir.secret_file("gate.token", "short");
  const auto weak = (*gate)->reload(config);
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().code, ErrorCode::invalid_config);
  EXPECT_NE(weak.error().detail.find("facilitatorTokenFile"), std::string::npos) << weak.error().detail;
}

// A metric's value as the gate's /metrics shows it ("no answer", "no metric" otherwise).
std::string metric(std::uint16_t port, std::string_view name) {
  RawClient client{port};
  client.send(get("/metrics"));
  const auto metrics = client.read_response();
  if (!metrics) return "no answer";
  const std::string_view text = metrics->body();
  const std::string line_start = "\n" + std::string(name) + " ";
  const auto at = text.find(line_start);
  if (at == std::string_view::npos) return "no metric";
  const auto value = text.substr(at + line_start.size());
  return std::string(value.substr(0, value.find('\n')));
}

// Polls `name` for up to 10 s until it shows `value`; what it showed last.
std::string await_metric(std::uint16_t port, std::string_view name, std::string_view value) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string shown = metric(port, name);
  while (shown != value && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    shown = metric(port, name);
  }
  return shown;
}

// A gate over `dir`'s store holding `state`, refreshing what the settle job records every 20 ms.
Result<std::unique_ptr<GateRuntime>> gate_holding(const paychan::test::TempDir& dir, const ChannelState& state,
                                                  const std::string& upstream) {
  {
    auto store = persistence::ChannelStore::open(dir.file());
    if (!store) return store.failure();
    PAYCHAN_TRY((*store)->commit_and_wait(state));
  }
  RuntimeOptions options;
  options.claimed_refresh = std::chrono::milliseconds(20);
  return GateRuntime::start(gate_config(upstream, dir, 5), options);
}

// The settle job (another handle on the same store) records a claim while the gate runs: /metrics
// stops counting it as unclaimed within the refresh interval, with no request on the channel.
// A channel the claim leaves spent and claimed is deleted by the settle job, and the running gate
// stops holding it too.
TEST(GateRuntime, AClaimTheSettleJobRecordsLeavesTheUnclaimedAmount) {
  TestServer upstream{[](http::Exchange& ex) -> http::Handled {
    ex.response().set(200, "text/plain", "ok");
    return std::nullopt;
  }};
  for (const Uint128 balance : {Uint128{1'000}, Uint128{900}}) {
    SCOPED_TRACE(balance == 900 ? "spent" : "with balance left");
    paychan::test::TempDir dir;
    ChannelState charged;
    charged.channelId.fill(7);
    charged.chargedCumulativeAmount = 900;
    charged.signedMaxClaimable = 900;
    charged.onchain.balance = balance;
    auto gate = gate_holding(dir, charged, upstream.url(""));
    ASSERT_TRUE(gate) << gate.error().to_string();
    const std::uint16_t port = (*gate)->port();
    EXPECT_EQ(metric(port, "paychan_unclaimed_amount"), "900");
    EXPECT_EQ(metric(port, "paychan_open_channels"), "1");

    auto settle_job = persistence::ChannelStore::open(dir.file());
    ASSERT_TRUE(settle_job) << settle_job.error().to_string();
    ASSERT_TRUE((*settle_job)->record_claimed(charged.channelId, 900));
    EXPECT_EQ(await_metric(port, "paychan_unclaimed_amount", "0"), "0");
    const bool deleted = balance == 900;
    ASSERT_EQ((*settle_job)->get(charged.channelId)->has_value(), !deleted);
    EXPECT_EQ(await_metric(port, "paychan_forgotten_channels_total", deleted ? "1" : "0"), deleted ? "1" : "0");
    EXPECT_EQ(metric(port, "paychan_open_channels"), deleted ? "0" : "1");
  }
}

}  // namespace
}  // namespace paychan::engine::gate
