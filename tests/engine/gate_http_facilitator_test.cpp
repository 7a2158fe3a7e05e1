// The gate's facilitator client against a real HTTP facilitator (the double behind engine/http),
// an unreachable one and a broken one: answers pass through, failures become
// facilitator_unavailable, and only requests that provably never left are retried for /settle.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <thread>

#include "engine/gate/http_facilitator.hpp"
#include "engine/gate/offers.hpp"
#include "gate_stack.hpp"
#include "gate_support.hpp"
#include "http_test_support.hpp"

namespace paychan::engine::gate::test {
namespace {

protocol::FacilitatorRequest deposit_request(const GateConfig& config, const TestAgent& agent) {
  const auto offer = OfferTable::build(config).offers()[0].requirements;
  return protocol::FacilitatorRequest{protocol::kX402Version,
                                      *protocol::decode_payment_signature(agent.deposit_header(offer, 10'000, 50'000)),
                                      offer};
}

TEST(HttpFacilitator, VerifiesAndSettlesOverHttp) {
  FacilitatorDouble facilitator;
  auto handler = [&](http::Exchange& ex) { return serve_facilitator(facilitator, ex); };
  http::test::TestServer<decltype(handler)> server{handler};
  auto client = HttpFacilitator::create({server.url("")});
  ASSERT_TRUE(client);
  const GateConfig config = test_config();
  const TestAgent agent(test_key(1), config, 1);
  const auto request = deposit_request(config, agent);

  auto verified = http::run_blocking((*client)->verify(request));
  ASSERT_TRUE(verified) << verified.error().to_string();
  EXPECT_TRUE(verified->isValid);
  EXPECT_EQ(protocol::verify_snapshot(*verified)->channelId, agent.id);
  auto settled = http::run_blocking((*client)->settle(request));
  ASSERT_TRUE(settled);
  EXPECT_TRUE(settled->success);
  EXPECT_EQ(facilitator.onchain(agent.id).balance, 50'000u);
  // The same authorization again is refused by the facilitator: an answer, not an error.
  settled = http::run_blocking((*client)->settle(request));
  ASSERT_TRUE(settled);
  EXPECT_FALSE(settled->success);
  EXPECT_EQ(settled->errorReason, "invalid_batch_settlement_evm_receive_authorization_signature");
}

TEST(HttpFacilitator, UnreachableOrBrokenIsUnavailable) {
  const GateConfig config = test_config();
  const auto request = deposit_request(config, TestAgent(test_key(2), config, 1));
  HttpFacilitatorOptions options{"http://127.0.0.1:1", std::chrono::milliseconds(500), 3, std::chrono::milliseconds(1)};
  auto down = HttpFacilitator::create(options);
  ASSERT_TRUE(down);
  auto verified = http::run_blocking((*down)->verify(request));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::facilitator_unavailable);

  std::atomic<int> calls{0};
  auto broken = [&](http::Exchange& ex) -> http::Handled {
    ++calls;
    ex.response().set(200, "application/json", "{\"isValid\": \"yes\"}");
    return std::nullopt;
  };
  http::test::TestServer<decltype(broken)> server{broken};
  options.url = server.url("");
  auto client = HttpFacilitator::create(options);
  verified = http::run_blocking((*client)->verify(request));
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::facilitator_unavailable);
  EXPECT_EQ(calls.load(), 1) << "a malformed answer is an answer: not retried";
  EXPECT_FALSE(HttpFacilitator::create({"ftp://x"}));
}

// A server that takes requests and answers none until it is destroyed; `seen` counts them.
struct StallingServer {
  ~StallingServer() { release.set(); }
  std::atomic<int> seen{0};
  http::test::Event release;
  std::function<http::Handled(http::Exchange&)> stall = [this](http::Exchange&) -> http::Handled {
    ++seen;
    return [](http::test::Event& e) -> http::Awaitable<void> { co_await e.wait(); }(release);
  };
  http::test::TestServer<decltype(stall)> server{stall};
};

TEST(HttpFacilitator, SettleIsNotRetriedOnceSent) {
  const GateConfig config = test_config();
  const auto request = deposit_request(config, TestAgent(test_key(3), config, 1));
  // A server that accepts and never answers in time: verify retries, settle does not.
  StallingServer stalling;
  HttpFacilitatorOptions options{stalling.server.url(""), std::chrono::milliseconds(200), 3, std::chrono::milliseconds(1)};
  auto client = HttpFacilitator::create(options);
  auto settled = http::run_blocking((*client)->settle(request));
  EXPECT_FALSE(settled);
  EXPECT_EQ(stalling.seen.load(), 1);
  auto verified = http::run_blocking((*client)->verify(request));
  EXPECT_FALSE(verified);
  EXPECT_EQ(stalling.seen.load(), 4);
}

// verify_briefly gives a facilitator that hangs one attempt of brief_timeout, not attempts × timeout.
TEST(HttpFacilitator, ABriefVerifyIsOneAttempt) {
  const GateConfig config = test_config();
  const auto request = deposit_request(config, TestAgent(test_key(4), config, 1));
  StallingServer stalling;
  // verify()'s timeout is long enough to tell the two apart: a brief verify that used it would
  // take a minute.
  HttpFacilitatorOptions options{stalling.server.url(""), std::chrono::milliseconds(60'000), 3, std::chrono::milliseconds(1)};
  options.brief_timeout = std::chrono::milliseconds(100);
  auto client = HttpFacilitator::create(options);
  const auto started = std::chrono::steady_clock::now();
  auto verified = http::run_blocking((*client)->verify_briefly(request));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30)) << "verify()'s timeout was used";
  ASSERT_FALSE(verified);
  EXPECT_EQ(verified.error().code, ErrorCode::facilitator_unavailable);
  EXPECT_EQ(stalling.seen.load(), 1);
}

// A gate whose facilitator hangs goes on serving its known channels on their mirrors: each asks
// briefly, and for kFacilitatorRestSeconds after one got no answer the others do not ask at all.
TEST(HttpFacilitator, AGateWhoseFacilitatorHangsServesKnownChannelsWithoutWaitingOnIt) {
  constexpr Uint128 kPrice = 10'000;  // test_config()'s
  FacilitatorDouble* facilitator = nullptr;  // the stack's, set once it exists
  std::atomic<bool> hang{false};
  std::atomic<int> hung{0};
  http::test::Event release;
  auto handler = [&](http::Exchange& ex) -> http::Handled {
    if (!hang) return serve_facilitator(*facilitator, ex);
    ++hung;
    return [](http::test::Event& e) -> http::Awaitable<void> { co_await e.wait(); }(release);
  };
  http::test::TestServer<decltype(handler)> server{handler};
  HttpFacilitatorOptions options{server.url(""), std::chrono::milliseconds(30'000), 3, std::chrono::milliseconds(1)};
  options.brief_timeout = std::chrono::milliseconds(1'000);  // the double answers well within it once back
  auto front = HttpFacilitator::create(options);
  ASSERT_TRUE(front);
  GateStack stack(test_config(), front->get());
  facilitator = &stack.facilitator;
  TestAgent agent(test_key(5), stack.config, 1);
  TestAgent other(test_key(6), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  ASSERT_EQ(stack.call("POST", "/v1/infer", other.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);

  hang = true;
  stack.now += stack.config.onchainStateTtlSeconds + 1;  // the mirror is stale: the gate asks
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(hung.load(), 1) << "one brief attempt, not three of 30 s";
  stack.now += Gate::kFacilitatorRestSeconds - 1;
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 3 * kPrice));
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(hung.load(), 1) << "asked again within the rest";
  EXPECT_EQ(stack.metrics.stale_state_fallbacks.load(), 2u);

  // After the rest one request probes; another, meanwhile, is served without asking.
  stack.now += 1;
  std::optional<http::ClientResponse> probe;
  const std::string probe_voucher = agent.voucher_header(stack.offer(), 4 * kPrice);
  std::thread prober([&] { probe = stack.call_apart("/v1/infer", probe_voucher, "{}"); });
  for (int i = 0; i < 10'000 && hung.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(hung.load(), 2) << "the first request after the rest did not ask";
  res = stack.call("POST", "/v1/infer", other.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 200) << res.body;
  prober.join();
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->status, 200) << probe->body;
  EXPECT_EQ(hung.load(), 2) << "a second request asked while the first probed";
  EXPECT_EQ(stack.metrics.stale_state_fallbacks.load(), 4u);

  // Once it answers again, it is asked, and its answer refreshes the mirror.
  stack.now += Gate::kFacilitatorRestSeconds;
  hang = false;
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 5 * kPrice));
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(stack.metrics.stale_state_fallbacks.load(), 4u) << "after the rest the facilitator is asked again";
  EXPECT_EQ((*stack.store->get(agent.id))->onchainSyncedAt, stack.now.load()) << "and its answer refreshes the mirror";
  release.set();
}

}  // namespace
}  // namespace paychan::engine::gate::test
