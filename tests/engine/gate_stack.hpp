// A whole gate over loopback for end-to-end tests: a toy upstream API, the gate (real SQLite store
// on disk with its voucher log, as `paychan gate` opens it; the facilitator double) as a reverse
// proxy in front of it, and a client. Another connection to the store's file (a settle job's) sees
// the gate's charges once its store has folded them: open_as_settle_job().
//
// The upstream: POST /v1/infer answers {"ok":true}; a body containing "cheap" reports 60% of the
// price in Settlement-Overrides, "fail" answers 500, "bogus" sends an unreadable override,
// "greedy" reports 150% of the price, "public" and "private" send those Cache-Control directives; a
// request's Settlement-Overrides comes back in the answer (an upstream reflecting request fields).
// GET /v1/stream answers an SSE stream of three events; /data/* and /free answer small bodies.
#pragma once

#include <filesystem>
#include <memory>

#include "engine/gate/gate.hpp"
#include "engine/gate/gate_handler.hpp"
#include "engine/gate/service.hpp"
#include "engine/http/client.hpp"
#include "engine/http/server.hpp"
#include "gate_support.hpp"
#include "http_test_support.hpp"
#include "temp_dir.hpp"

namespace paychan::engine::gate::test {

inline http::Handled toy_upstream(http::Exchange& ex) {
  const auto& req = ex.request();
  auto& res = ex.response();
  if (req.path() == "/v1/stream") {
    return [](http::Exchange& ex) -> http::Awaitable<void> {
      ex.response().set_header("Content-Type", "text/event-stream");
      if (!co_await ex.begin_stream()) co_return;
      for (int i = 0; i < 3; ++i)
        if (!co_await ex.write("data: token" + std::to_string(i) + "\n\n")) co_return;
      (void)co_await ex.end_stream();
    }(ex);
  }
  const std::string_view body = req.body();
  if (body.find("fail") != std::string_view::npos) {
    res.set(500, "application/json", "{\"error\":\"model crashed\"}");
  } else {
    res.set(200, "application/json", "{\"ok\":true}");
    if (body.find("cheap") != std::string_view::npos) res.set_header(kSettlementOverridesHeader, "{\"amount\":\"60%\"}");
    if (body.find("bogus") != std::string_view::npos) res.set_header(kSettlementOverridesHeader, "{\"amount\":-1}");
    if (body.find("greedy") != std::string_view::npos) res.set_header(kSettlementOverridesHeader, "{\"amount\":\"150%\"}");
    if (body.find("twice") != std::string_view::npos) {  // which one would the gate take?
      res.add_header(kSettlementOverridesHeader, "{\"amount\":\"1\"}");
      res.add_header(kSettlementOverridesHeader, "{\"amount\":\"400\"}");
    }
    if (body.find("offers") != std::string_view::npos) res.set_header("PAYMENT-REQUIRED", "an upstream's own");
    if (body.find("receipt") != std::string_view::npos) res.set_header("PAYMENT-RESPONSE", "an upstream's own");
    if (body.find("public") != std::string_view::npos) {
      res.add_header("Cache-Control", "public");
      res.add_header("Cache-Control", "max-age=60");
    }
    if (body.find("private") != std::string_view::npos) res.set_header("Cache-Control", "max-age=5, Private");
    // As a careless middleware might: the request's field back in the answer.
    if (auto reflected = req.header(kSettlementOverridesHeader)) res.set_header(kSettlementOverridesHeader, *reflected);
  }
  return std::nullopt;
}

class GateStack {
 public:
  // `front`: a facilitator the gate calls instead of the double (which it may wrap).
  explicit GateStack(GateConfig config = test_config(), Facilitator* front = nullptr)
      : config(std::move(config)),
        front_(front),
        offers(std::make_shared<const OfferTable>(OfferTable::build(this->config))) {
    start();
  }
  ~GateStack() { stop(); }

  void start() {
    persistence::StoreOptions store_options;
    store_options.voucher_log = true;  // as `paychan gate` opens its store
    auto opened = persistence::ChannelStore::open(dir_.file(), store_options);
    ASSERT_TRUE(opened) << opened.error().to_string();
    store = std::move(*opened);
    GateOptions options{config.chainId, config.network, config.onchainStateTtlSeconds,
                        config.withdrawalSafetyMarginSeconds, test_key(202), [this] { return now.load(); }};
    gate = std::make_unique<Gate>(options, *store, front_ ? front_ : &facilitator, metrics);
    ASSERT_TRUE(gate->restore());
    if (embedded_) {
      service_ = std::make_unique<FunctionService>(embedded_);
    } else {
      auto proxy = gate_proxy(client_, upstream_.url(""));
      ASSERT_TRUE(proxy);
      service_ = std::make_unique<ProxyService>(std::move(*proxy));
    }
    handler_ = std::make_unique<GateHandler>(*gate, offers, *service_, metrics, config.assetDecimals);
    http::ServerOptions server_options;
    server_options.threads = 2;
    server_ = std::make_unique<http::HttpServer>(*handler_, server_options);
    ASSERT_TRUE(server_->start());
  }

  void stop() {
    if (server_) server_->stop(std::chrono::seconds(2));
    store.reset();  // flushes queued commits while the server's contexts still exist
    server_.reset();
    handler_.reset();
    service_.reset();
    gate.reset();
    store.reset();
  }

  void restart() {
    stop();
    start();
  }

  // The gate loses its store (a disk replaced, say): stopped, every file of it deleted, started
  // again on an empty one.
  void lose_store() {
    stop();
    for (const auto& file : persistence::store_files(store_path())) std::filesystem::remove(file);
    start();
  }

  // From now on the gate serves `service` itself, embedded, instead of proxying the toy upstream.
  void embed(FunctionService::Function service) {
    stop();
    embedded_ = std::move(service);
    start();
  }

  [[nodiscard]] std::uint16_t port() const { return server_->port(); }
  [[nodiscard]] std::string url(std::string_view target) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(target);
  }

  // One request through the gate; `payment` is a PAYMENT-SIGNATURE value ("" for none).
  http::ClientResponse call(std::string_view method, std::string_view target, const std::string& payment = "",
                            std::string body = "", const std::vector<std::pair<std::string, std::string>>& fields = {}) {
    http::ClientRequest req{std::string(method), url(target)};
    for (const auto& [name, value] : fields) req.header(name, value);
    if (!payment.empty()) req.header("PAYMENT-SIGNATURE", payment);
    if (!body.empty()) req.header("Content-Type", "application/json").body(std::move(body));
    auto res = blocking_.request(std::move(req));
    EXPECT_TRUE(res) << res.error().to_string();
    return res ? std::move(*res) : http::ClientResponse{};
  }

  // The same on a client of its own, for a thread beside the test's: its answer, if one came.
  std::optional<http::ClientResponse> call_apart(std::string_view target, const std::string& payment, std::string body) {
    http::BlockingHttpClient client;
    auto req = http::ClientRequest::post(url(target), std::move(body));
    req.header("PAYMENT-SIGNATURE", payment);
    auto res = client.request(std::move(req));
    return res ? std::optional<http::ClientResponse>(std::move(*res)) : std::nullopt;
  }

  // The gate's store folds its voucher log into SQLite now, as it does within 20 ms of its last
  // commit (StoreOptions::idle_fold) and at a read on it: from then on another connection to the
  // file (the settle job's, as `paychan settle` opens it) sees every charge the gate has answered.
  void await_fold() {
    ASSERT_TRUE(store->load_all());  // a read on the gate's store folds first
    ASSERT_EQ(store->log_backlog().unfolded_commits, 0u);
  }

  // The gate's file opened as another process opens it (the settle job, `paychan channels`), once
  // the gate's store has folded what it charged.
  [[nodiscard]] Result<std::unique_ptr<persistence::ChannelStore>> open_as_settle_job() {
    await_fold();
    return persistence::ChannelStore::open(store_path());
  }

  // `agent` opens its channel with a deposit; later (now + 3500 s) its payer's timed withdrawal is
  // found pending on chain, completing in 300 s: inside the gate's safety margin.
  void open_then_withdraw(const TestAgent& agent, Uint128 price) {
    ASSERT_EQ(call("POST", "/v1/infer", agent.deposit_header(offer(), price, 1'000'000)).status, 200);
    now += 3500;
    facilitator.set_withdrawal(agent.id, now.load() - 3300);
  }

  [[nodiscard]] GateHandler& handler() { return *handler_; }
  // The toy upstream goes away: the gate's next forward cannot connect.
  void stop_upstream() { upstream_.server().stop(std::chrono::seconds(1)); }
  [[nodiscard]] std::string store_path() const { return dir_.file(); }

  [[nodiscard]] const protocol::PaymentRequirements& offer(std::size_t i = 0) const {
    return offers->offers()[i].requirements;
  }
  // From now on the gate prices by config's routes, as a reload would make it.
  void reload_routes() {
    offers = std::make_shared<const OfferTable>(OfferTable::build(config));
    handler_->use_offers(offers);
  }

  GateConfig config;
  FacilitatorDouble facilitator;
  GateMetrics metrics;
  std::atomic<std::uint64_t> now{1'800'000'000};
  std::unique_ptr<persistence::ChannelStore> store;
  std::unique_ptr<Gate> gate;

 private:
  paychan::test::TempDir dir_;
  Facilitator* front_ = nullptr;

 public:
  std::shared_ptr<const OfferTable> offers;  // the handler's, unless it reloaded since

 private:
  http::test::TestServer<decltype(&toy_upstream)> upstream_{&toy_upstream};
  http::HttpClient client_;
  FunctionService::Function embedded_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<GateHandler> handler_;
  std::unique_ptr<http::HttpServer> server_;
  http::BlockingHttpClient blocking_;
};

// The batch-settlement part of a PAYMENT-RESPONSE header.
inline protocol::BatchSettlementResponseExtra payment_response(const http::ClientResponse& res) {
  auto header = res.header("PAYMENT-RESPONSE");
  EXPECT_TRUE(header.has_value()) << "status " << res.status << " body " << res.body;
  if (!header) return {};
  auto decoded = protocol::decode_payment_response(*header);
  EXPECT_TRUE(decoded);
  auto extra = protocol::batch_response_extra(*decoded);
  EXPECT_TRUE(extra);
  return extra ? *extra : protocol::BatchSettlementResponseExtra{};
}

// The `error` of a PAYMENT-REQUIRED header, and its offer's batch-settlement extra.
inline protocol::PaymentRequired payment_required(const http::ClientResponse& res) {
  auto header = res.header("PAYMENT-REQUIRED");
  EXPECT_TRUE(header.has_value()) << "status " << res.status;
  if (!header) return {};
  auto decoded = protocol::decode_payment_required_header(*header);
  EXPECT_TRUE(decoded);
  return decoded ? *decoded : protocol::PaymentRequired{};
}

}  // namespace paychan::engine::gate::test
