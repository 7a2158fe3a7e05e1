// The agent's PaymentClient against the real gate (loopback, facilitator double) and against a
// scripted hostile server; the store file is real and reopened to simulate restarts.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "channel/eip712.hpp"
#include "client_support.hpp"

namespace paychan::engine::client::test {
namespace {

constexpr Uint128 kPrice = 10'000;

http::ClientRequest infer(const std::string& url, std::string body = "{}") {
  return http::ClientRequest::post(url, std::move(body));
}

TEST(PaymentClient, PaysTheGateWithTopUpsAndItsTotalsMatchTheGates) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  Uint128 spent = 0;
  for (int i = 0; i < 30; ++i) {
    auto paid = agent.client.fetch(infer(stack.url("/v1/infer"), i % 4 == 0 ? "cheap" : "{}"));
    ASSERT_TRUE(paid) << i << ": " << paid.error().to_string();
    ASSERT_EQ(paid->response.status, 200);
    EXPECT_EQ(paid->response.body, "{\"ok\":true}");
    spent += paid->charged;
  }
  ASSERT_TRUE(agent.client.flush());
  auto channels = *agent.store->list();
  ASSERT_EQ(channels.size(), 1u) << "one channel, topped up";
  const auto& ch = channels[0];
  EXPECT_EQ(ch.charged, spent);
  EXPECT_EQ(ch.deposited, 6 * 5 * kPrice) << "a deposit of 5 prices, topped up as it ran low";
  EXPECT_EQ((*stack.store->get(ch.channelId))->chargedCumulativeAmount, spent);
  EXPECT_EQ(stack.facilitator.onchain(ch.channelId).balance, ch.deposited);
  EXPECT_EQ(ch.pendingDeposit, 0u);
}

// An offer's minDeposit above what the agent's policy would deposit sizes the deposit, up to
// --max-deposit; a smaller one leaves the policy's. A gate that enforces its minimum is paid.
TEST(PaymentClient, DepositsAtLeastTheOffersMinimumWithinItsCap) {
  gate::GateConfig config = test_config();
  config.routes[0].minDeposit = 20 * kPrice;
  config.enforceMinDeposit = true;
  gate::test::GateStack stack(config);
  paychan::test::TempDir dir;
  Agent agent(dir.file("a.sqlite"));  // 5 prices a deposit
  ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer"))));
  EXPECT_EQ((*agent.store->list())[0].deposited, 20 * kPrice);

  auto capped = test_policy();
  capped.maxDeposit = 12 * kPrice;
  Agent frugal(dir.file("b.sqlite"), capped, 2);
  auto refused = frugal.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_FALSE(refused) << "capped below the enforced minimum";
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_batch_settlement_evm_deposit_below_min_deposit)
      << refused.error().to_string();

  auto generous = test_policy();
  generous.depositPrices = 40;
  Agent rich(dir.file("c.sqlite"), generous, 3);
  ASSERT_TRUE(rich.client.fetch(infer(stack.url("/v1/infer"))));
  EXPECT_EQ((*rich.store->list())[0].deposited, 40 * kPrice);
}

TEST(PaymentClient, RefusesWhatItsPolicyForbids) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  auto cheap = test_policy();
  cheap.maxPrice = 9'999;
  Agent frugal(dir.file("a.sqlite"), cheap);
  auto paid = frugal.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::policy_price_exceeded);

  auto elsewhere = test_policy();
  elsewhere.networks = {"eip155:8453"};
  Agent picky(dir.file("b.sqlite"), elsewhere);
  paid = picky.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::policy_no_acceptable_offer);

  auto small = test_policy();
  small.budget = 3 * kPrice;
  Agent thrifty(dir.file("c.sqlite"), small);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(thrifty.client.fetch(infer(stack.url("/v1/infer"))));
  const auto before = stack.metrics.paid_requests.load();
  paid = thrifty.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::policy_budget_exceeded);
  EXPECT_EQ(stack.metrics.paid_requests.load(), before) << "nothing was sent";
  EXPECT_LE(*thrifty.client.signed_total(), small.budget);
}

TEST(PaymentClient, ARestartedAgentResumesItsChannel) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  Bytes32 id{};
  {
    Agent agent(dir.file("agent.sqlite"));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer"))));
    id = (*agent.store->list())[0].channelId;
  }
  Agent again(dir.file("agent.sqlite"));
  auto paid = again.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(paid->channelId, id);
  EXPECT_EQ(paid->deposited, 0u);
  ASSERT_TRUE(again.client.flush());
  EXPECT_EQ((*again.store->list()).size(), 1u);
  EXPECT_EQ((*again.store->get(id))->charged, 4 * kPrice);
}

TEST(PaymentClient, AdoptsTheGatesCorrectiveStateAfterLosingTrack) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  persistence::ClientChannel ch;
  {
    Agent agent(dir.file("agent.sqlite"));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer"))));
    ASSERT_TRUE(agent.client.flush());
    ch = (*agent.store->list())[0];
    ch.charged = kPrice;  // as if the last two responses had been lost
    ASSERT_TRUE(agent.store->put(ch));
  }  // the agent ends: the store stays behind the gate by two prices
  Agent restarted(dir.file("agent.sqlite"));
  auto paid = restarted.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_TRUE(paid) << paid.error().to_string();
  ASSERT_TRUE(restarted.client.flush());
  EXPECT_EQ((*restarted.store->get(ch.channelId))->charged, 4 * kPrice);
}

// The gate's count of 402s for `reason`, read from its /metrics text.
std::uint64_t refusals(gate::test::GateStack& stack, std::string_view reason) {
  const std::string text = stack.metrics.render({}, {});
  const std::string key = "paychan_refusals_total{reason=\"" + std::string(reason) + "\"} ";
  const auto at = text.find(key);
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + key.size()));
}

TEST(PaymentClient, ARouteItPaidBeforeIsPaidInOneExchange) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer"))));
  EXPECT_EQ(stack.metrics.paid_requests.load(), 10u);
  EXPECT_EQ(refusals(stack, "payment_required"), 1u) << "only the first request asked for the offer";
}

TEST(PaymentClient, ARouteWhoseOfferChangedIsAskedAgain) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer"))));
  stack.config.routes[0].price = kPrice / 2;  // the provider lowers its price (between two requests)
  stack.reload_routes();
  auto paid = agent.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(paid->charged, kPrice / 2);
  EXPECT_EQ(paid->deposited, 0u) << "the same channel goes on";
  EXPECT_EQ(refusals(stack, "invalid_payment_requirements"), 1u) << "the old offer was refused once";
  EXPECT_EQ(refusals(stack, "payment_required"), 2u) << "then the route was asked again";
  ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer"))));
  EXPECT_EQ(refusals(stack, "payment_required"), 2u) << "and its new offer is known";
}

// An agent in a child process pays `requests` requests and dies without flushing (no destructor
// runs): what a crash leaves in its store.
void crash_after_paying(gate::test::GateStack& stack, const std::string& path, int requests,
                        const ClientPolicy& policy = test_policy()) {
  const pid_t child = fork();
  if (child == 0) {
    Agent agent(path, policy);
    for (int i = 0; i < requests; ++i)
      if (!agent.client.fetch(infer(stack.url("/v1/infer")))) std::_Exit(1);
    std::_Exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(PaymentClient, ACrashLosesOnlyProgressTheGateGivesBack) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  crash_after_paying(stack, path, 3);

  Agent restarted(path);
  const auto before = (*restarted.store->list()).at(0);
  EXPECT_LT(before.charged, 3 * kPrice) << "the store lags the vouchers the crash did not flush";
  EXPECT_GE(before.reserved, 3 * kPrice) << "but its reservation covers every voucher signed";
  auto paid = restarted.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(paid->charged, kPrice);
  EXPECT_EQ(paid->takenUp, 3 * kPrice - before.charged) << "what the crash did not flush";
  EXPECT_EQ(paid->deposited, 0u) << "the deposit is not made again";
  ASSERT_TRUE(restarted.client.flush());
  const auto after = *(*restarted.store->get(before.channelId));
  EXPECT_EQ(after.charged, 4 * kPrice);
  EXPECT_EQ((*stack.store->get(before.channelId))->chargedCumulativeAmount, 4 * kPrice);
  EXPECT_EQ(after.deposited, before.deposited);
}

// Crashed and clean runs in turn. A crashed run leaves its store behind the gate, and the next
// run adopts the gate's corrective: the store's heldCeiling covers every voucher the crashed run
// sent, also after a clean run lowered it to what the gate had confirmed.
TEST(PaymentClient, AfterCrashedAndCleanRunsInTurnTheGatesCorrectiveIsAdopted) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  auto policy = test_policy();
  policy.depositPrices = 10;  // no top-up, whose durable write would bring the store up to date
  crash_after_paying(stack, path, 3, policy);
  Bytes32 id{};
  {
    Agent clean(path, policy);
    auto paid = clean.client.fetch(infer(stack.url("/v1/infer")));
    ASSERT_TRUE(paid) << paid.error().to_string();
    id = *paid->channelId;
  }
  const auto confirmed = **Agent(path, policy).store->get(id);
  EXPECT_EQ(confirmed.charged, 4 * kPrice);
  EXPECT_EQ(confirmed.heldCeiling, 4 * kPrice) << "the clean run lowered it to what the gate holds";
  EXPECT_GT(confirmed.reserved, 6 * kPrice) << "while the crashed run's reservation stays";

  crash_after_paying(stack, path, 2, policy);  // signs 5 and 6 prices within that reservation, then dies
  Agent last(path, policy);
  ASSERT_EQ((*last.store->get(id))->charged, 4 * kPrice) << "the crash left the store behind";
  auto paid = last.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(paid->charged, kPrice);
  ASSERT_TRUE(last.client.flush());
  EXPECT_EQ((*last.store->get(id))->charged, 7 * kPrice);
}

TEST(PaymentClient, ACrashedRunsReservationIsHeldToTheNextRunsBudget) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  crash_after_paying(stack, path, 1);  // charged 1 price; a reservation far above 3 prices is left
  ASSERT_GT((*Agent(path).store->list()).at(0).reserved, 3 * kPrice);

  auto tight = test_policy();
  tight.budget = 3 * kPrice;
  Agent restarted(path, tight);
  for (int i = 2; i <= 3; ++i) ASSERT_TRUE(restarted.client.fetch(infer(stack.url("/v1/infer")))) << i;
  auto refused = restarted.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_FALSE(refused) << "a fourth price would pass the new budget";
  EXPECT_EQ(refused.error().code, ErrorCode::policy_budget_exceeded);
  ASSERT_TRUE(restarted.client.flush());
  EXPECT_EQ((*restarted.store->list()).at(0).signedMax, 3 * kPrice);
}

TEST(PaymentClient, ARefundAfterACrashAdoptsTheProvidersTotal) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  crash_after_paying(stack, path, 3);
  Agent restarted(path);
  const auto id = (*restarted.store->list()).at(0).channelId;
  auto refunded = restarted.client.refund(id, std::nullopt);
  ASSERT_TRUE(refunded) << refunded.error().to_string();
  EXPECT_EQ(refunded->amount, to_decimal(5 * kPrice - 3 * kPrice)) << "what the gate charged, not the store's lagging total";
  EXPECT_TRUE((*restarted.store->get(id))->closed);
}

TEST(PaymentClient, ASuspendedChannelStopsPaymentToItsProviderOnEveryChannel) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  auto store = std::move(*persistence::ClientStore::open(dir.file("agent.sqlite")));
  auto pool = std::make_shared<ChannelPool>();
  http::BlockingHttpClient http;
  PaymentClient client(ClientKeys{test_key(1), std::nullopt}, ClientOptions{test_policy(), {}, {}, 4, pool}, *store, http);
  auto first = client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_TRUE(first && first->channelId);
  ASSERT_TRUE(pool->try_lease(*first->channelId));  // as if another request were paying on it
  auto second = client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_TRUE(second && second->channelId);
  ASSERT_NE(*second->channelId, *first->channelId);
  auto broken = *pool->held(*first->channelId);
  broken.suspended = "response_overcharged: as a hostile server makes it";
  pool->release(broken);  // that request ends with the channel suspended
  auto refused = client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_FALSE(refused) << "paid the same provider on its other channel";
  EXPECT_EQ(refused.error().code, ErrorCode::channel_suspended);
}

TEST(PaymentClient, UpstreamFailureChargesNothing) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer"))));
  auto paid = agent.client.fetch(infer(stack.url("/v1/infer"), "fail"));
  ASSERT_TRUE(paid);
  EXPECT_EQ(paid->response.status, 500);
  EXPECT_EQ(paid->charged, 0u);
  ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer"))));
  ASSERT_TRUE(agent.client.flush());
  EXPECT_EQ((*agent.store->list())[0].charged, 2 * kPrice);
}

// A caller's sink takes the final answers' bodies as they arrive (the SSE route's three events),
// paid or free; the 402s before them are read and answered here, and every charge is counted.
TEST(PaymentClient, AnswersGoToTheCallersSinkAndTheirChargesAreCounted) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  std::string streamed;
  const http::BodySink sink = [&](std::string_view piece) {
    streamed += piece;
    return true;
  };
  const std::string events = "data: token0\n\ndata: token1\n\ndata: token2\n\n";
  for (int i = 0; i < 2; ++i) {  // the first pays after a 402, the second at once
    streamed.clear();
    auto paid = agent.client.fetch(http::ClientRequest::get(stack.url("/v1/stream")), sink);
    ASSERT_TRUE(paid) << i << ": " << paid.error().to_string();
    EXPECT_EQ(paid->response.status, 200);
    EXPECT_TRUE(paid->response.body.empty());
    EXPECT_EQ(streamed, events) << i;
    EXPECT_EQ(paid->charged, 5'000u) << i;
  }
  streamed.clear();
  auto free = agent.client.fetch(http::ClientRequest::get(stack.url("/free")), sink);
  ASSERT_TRUE(free);
  EXPECT_FALSE(streamed.empty());
  EXPECT_TRUE(free->response.body.empty());
  ASSERT_TRUE(agent.client.flush());
  EXPECT_EQ((*agent.store->list())[0].charged, 10'000u);
}

// A paid answer's channel serves other requests once the answer's head is taken up: a request made
// while another's body still streams pays on the same channel, instead of opening (and funding) a
// second one, and the streaming answer's charge is recorded before its body ends.
TEST(PaymentClient, AStreamedAnswerFreesItsChannelAtItsHead) {
  gate::test::GateStack stack;
  std::atomic<bool> let_go{false};
  stack.embed([&](http::Exchange& ex) -> http::Awaitable<void> {
    ex.response().set_header("Content-Type", "text/event-stream");
    if (!co_await ex.begin_stream()) co_return;
    (void)co_await ex.write("data: first\n\n");
    // The stream's last event waits for the test (at most 10 s: a client that never frees the
    // channel fails the test, not hangs it).
    for (int i = 0; ex.request().target() == "/v1/stream" && !let_go && i < 1000; ++i) {
      http::asio::steady_timer tick(co_await http::asio::this_coro::executor, std::chrono::milliseconds(10));
      http::error_code stopped;
      co_await tick.async_wait(http::use(stopped));
    }
    (void)co_await ex.write("data: last\n\n");
    (void)co_await ex.end_stream();
  });
  paychan::test::TempDir dir;
  auto store = std::move(*persistence::ClientStore::open(dir.file("agent.sqlite")));
  auto pool = std::make_shared<ChannelPool>();
  const auto make_client = [&](http::BlockingHttpClient& http) {
    return std::make_unique<PaymentClient>(ClientKeys{test_key(1), std::nullopt},
                                           ClientOptions{test_policy(), {}, {}, 4, pool}, *store, http);
  };
  http::BlockingHttpClient streaming_http, other_http;
  auto streaming = make_client(streaming_http);
  auto other = make_client(other_http);
  ASSERT_TRUE(other->fetch(infer(stack.url("/v1/infer"))));  // the channel, with its deposit

  std::promise<void> first_event;
  std::atomic<bool> announced{false};
  Result<PaidResponse> streamed = fail(ErrorCode::invalid_payload);
  std::thread stream_thread([&] {
    bool first = true;
    streamed = streaming->fetch(
        http::ClientRequest::get(stack.url("/v1/stream")),
        [&](std::string_view) {
          if (std::exchange(first, false)) first_event.set_value();
          return true;
        },
        [&] { announced = true; });
  });
  const bool got_first = first_event.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  EXPECT_TRUE(got_first);
  EXPECT_TRUE(announced) << "the head is announced before the body is read";
  auto meanwhile = other->fetch(infer(stack.url("/v1/infer")));
  const bool still_streaming = !let_go;
  let_go = true;
  stream_thread.join();
  EXPECT_TRUE(still_streaming);
  ASSERT_TRUE(meanwhile) << meanwhile.error().to_string();
  ASSERT_TRUE(streamed) << streamed.error().to_string();
  EXPECT_EQ(streamed->charged, 5'000u);
  ASSERT_TRUE(other->flush());
  const auto channels = *store->list();
  ASSERT_EQ(channels.size(), 1u) << "the request made during the stream paid on the stream's channel";
  EXPECT_EQ(channels[0].charged, 2 * kPrice + 5'000u);
  EXPECT_EQ(channels[0].deposited, 5 * kPrice) << "one deposit";
}

// A paid answer is waited for as long as its offer says the provider may take (and charge), not
// the HTTP client's shorter timeouts (for its head, and for a silence within its body);
// ClientOptions::maxWait caps it.
TEST(PaymentClient, APaidAnswerIsWaitedForAsItsOfferSays) {
  gate::test::GateStack stack;
  stack.embed([](http::Exchange& ex) -> http::Awaitable<void> {
    const auto pause = [&]() -> http::Awaitable<void> {
      http::asio::steady_timer slow(co_await http::asio::this_coro::executor, std::chrono::milliseconds(1200));
      http::error_code stopped;
      co_await slow.async_wait(http::use(stopped));
    };
    co_await pause();
    ex.response().set_header("Content-Type", "application/json");
    if (!co_await ex.begin_stream()) co_return;
    co_await pause();
    (void)co_await ex.write("{\"ok\":true}");
    (void)co_await ex.end_stream();
  });
  paychan::test::TempDir dir;
  http::ClientOptions impatient;
  impatient.response_timeout = std::chrono::milliseconds(500);
  impatient.read_timeout = std::chrono::milliseconds(500);
  Agent agent(dir.file("a.sqlite"), ClientOptions{test_policy(), {}, {}, 4}, impatient);
  auto paid = agent.client.fetch(infer(stack.url("/v1/infer")));  // its 402 comes at once
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(paid->charged, kPrice);
  EXPECT_EQ(paid->response.body, "{\"ok\":true}");

  ClientOptions capped{test_policy(), {}, {}, 4};
  capped.maxWait = std::chrono::milliseconds(500);
  Agent hurried(dir.file("b.sqlite"), capped, {}, 2);
  auto cut = hurried.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, ErrorCode::http_timeout);
}

// Two payer keys sharing one store: each budgets, pays on and refunds only its own channels.
TEST(PaymentClient, PayersSharingAStoreKeepTheirOwnBudgets) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  ClientPolicy two_prices = test_policy();
  two_prices.budget = 2 * kPrice;
  Bytes32 first_channel{};
  {
    Agent first(dir.file("shared.sqlite"), two_prices, 1);
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(first.client.fetch(infer(stack.url("/v1/infer"))));
    first_channel = (*first.store->list())[0].channelId;
  }
  Agent second(dir.file("shared.sqlite"), two_prices, 2);
  auto paid = second.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_NE(paid->channelId, first_channel);
  EXPECT_LE(*second.client.signed_total(), 2 * kPrice) << "the first payer's vouchers are not the second's";
  auto refund = second.client.refund(first_channel, std::nullopt);
  ASSERT_FALSE(refund);
  EXPECT_NE(refund.error().detail.find("not this key's"), std::string::npos) << refund.error().detail;
}

TEST(PaymentClient, CooperativeRefundClosesTheChannel) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer"))));
  const auto id = (*agent.store->list())[0].channelId;
  auto refunded = agent.client.refund(id, std::nullopt);
  ASSERT_TRUE(refunded) << refunded.error().to_string();
  EXPECT_EQ(refunded->amount, to_decimal(5 * kPrice - 2 * kPrice));
  EXPECT_TRUE((*agent.store->get(id))->closed);
  EXPECT_FALSE(*stack.store->get(id)) << "the gate keeps no row for it";
  // A closed channel is not reused: the next request opens a new one.
  auto paid = agent.client.fetch(infer(stack.url("/v1/infer")));
  ASSERT_TRUE(paid);
  EXPECT_NE(paid->channelId, id);
}

// A refund answer that says it was not executed, or that describes another channel, closes
// nothing: believing it, the agent would stop using a channel whose funds are still on chain.
// Neither does an answer without a PAYMENT-RESPONSE (a gate whose facilitator is down: 503).
TEST(PaymentClient, ARefundAnswerThatFailedOrNamesAnotherChannelLeavesTheChannelOpen) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  persistence::ClientChannel ch;
  {
    Agent agent(path);
    ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer"))));
    ASSERT_TRUE(agent.client.flush());
    ch = (*agent.store->list())[0];
  }
  {
    auto unavailable = [](http::Exchange& ex) -> http::Handled {
      ex.response().set(503, "application/json", "{\"error\":\"facilitator_unavailable\"}");
      return std::nullopt;
    };
    http::test::TestServer<decltype(unavailable)> server{unavailable};
    Agent agent(path);
    persistence::ClientChannel moved = ch;
    moved.url = server.url("/v1/infer");
    ASSERT_TRUE(agent.store->put(moved));
    auto refunded = agent.client.refund(ch.channelId, std::nullopt);
    ASSERT_FALSE(refunded);
    EXPECT_EQ(refunded.error().code, ErrorCode::response_settlement_failed) << refunded.error().to_string();
    EXPECT_FALSE((*agent.store->get(ch.channelId))->closed);
  }
  for (const bool failed : {true, false}) {
    SCOPED_TRACE(failed ? "success: false" : "another channel");
    auto lying = [&](http::Exchange& ex) -> http::Handled {
      protocol::SettlementResponse r;
      r.success = !failed;
      r.network = stack.offer().network;
      Bytes32 id = ch.channelId;
      if (!failed) id[0] ^= 1;
      r.extra = protocol::make_response_extra(protocol::BatchSettlementResponseExtra{
          std::nullopt, protocol::ChannelSnapshot{id, ch.charged, ch.charged, 0, U256{}, ch.charged}, std::nullopt});
      ex.response().set(200, "application/json", "{}");
      ex.response().set_header("PAYMENT-RESPONSE", protocol::encode_payment_response(r));
      return std::nullopt;
    };
    http::test::TestServer<decltype(lying)> server{lying};
    Agent agent(path);
    persistence::ClientChannel moved = ch;
    moved.url = server.url("/v1/infer");  // the refund goes to the route that opened the channel
    ASSERT_TRUE(agent.store->put(moved));
    auto refunded = agent.client.refund(ch.channelId, std::nullopt);
    ASSERT_FALSE(refunded);
    // Not carried out is the provider's failure (exit 1 in `paychan refund`); another channel's
    // snapshot is an answer that makes no sense.
    EXPECT_EQ(refunded.error().code, failed ? ErrorCode::response_settlement_failed : ErrorCode::invalid_payload);
    EXPECT_FALSE((*agent.store->get(ch.channelId))->closed);
  }
}

TEST(PaymentClient, ParallelRequestsUseAPoolOfChannels) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  auto store = std::move(*persistence::ClientStore::open(dir.file("agent.sqlite")));
  auto pool = std::make_shared<ChannelPool>();
  constexpr int kThreads = 4, kRequests = 12;
  std::atomic<int> failures{0};
  std::atomic<std::uint64_t> spent{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      http::BlockingHttpClient http;
      std::string trace;
      PaymentClient client(ClientKeys{test_key(1), std::nullopt},
                           ClientOptions{test_policy(), {}, [&](std::string_view l) { trace.append(l).append("\n"); }, 4, pool},
                           *store, http);
      for (int i = 0; i < kRequests; ++i) {
        auto paid = client.fetch(infer(stack.url("/v1/infer")));
        if (!paid || paid->response.status != 200) {
          ++failures;
          ADD_FAILURE() << (paid ? "HTTP " + std::to_string(paid->response.status) + " " + paid->response.body
                                 : paid.error().to_string()) << "\n" << trace;
        }
        else spent += static_cast<std::uint64_t>(paid->charged);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const auto channels = *store->list();
  EXPECT_GE(channels.size(), 2u) << "parallel requests opened more than one channel";
  EXPECT_LE(channels.size(), static_cast<std::size_t>(kThreads));
  Uint128 charged = 0;
  for (const auto& ch : channels) {
    charged += ch.charged;
    EXPECT_EQ((*stack.store->get(ch.channelId))->chargedCumulativeAmount, ch.charged);
  }
  EXPECT_EQ(charged, Uint128{spent.load()});
  EXPECT_EQ(charged, kPrice * kThreads * kRequests);
}

struct Hostile {
  const char* name;
  ScriptedServer::Tamper tamper;
  ErrorCode expected;
};

TEST(PaymentClient, AHostileServerIsCaughtAndTheChannelSuspended) {
  const Hostile cases[] = {
      {"overcharges", [](Report& r) { r.chargedAmount = kPrice + 1, r.cumulative += 1; }, ErrorCode::response_overcharged},
      {"wrong running total", [](Report& r) { r.cumulative += 7; }, ErrorCode::response_cumulative_mismatch},
      {"another channel", [](Report& r) { r.channelId[0] ^= 1; }, ErrorCode::response_channel_mismatch},
      {"shrinking balance", [](Report& r) { if (r.cumulative > kPrice) r.balance -= 1; }, ErrorCode::response_balance_mismatch},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ScriptedServer server({kPrice}, c.tamper);
    paychan::test::TempDir dir;
    Agent agent(dir.file("agent.sqlite"));
    Result<PaidResponse> paid = fail(ErrorCode::invalid_payload);
    for (int i = 0; i < 3 && (paid = agent.client.fetch(infer(server.url()))); ++i) {
    }
    ASSERT_FALSE(paid);
    EXPECT_EQ(paid.error().code, c.expected) << paid.error().to_string();
    const int sent = server.paid.load();
    auto again = agent.client.fetch(infer(server.url()));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::channel_suspended);
    EXPECT_EQ(server.paid.load(), sent) << "nothing more is signed on a suspended channel";
    EXPECT_FALSE((*agent.store->list())[0].suspended.empty());
  }
}

// An answer whose PAYMENT-RESPONSE breaks the rules suspends its channel at the head; it is not
// announced (`answered`: a process holding the store for the request keeps it, since the channel's
// withdrawal follows the body), and its body still reaches the caller's sink.
TEST(PaymentClient, AnAnswerThatSuspendsItsChannelIsNotAnnounced) {
  ScriptedServer server({kPrice}, [](Report& r) { r.chargedAmount = kPrice + 1, r.cumulative += 1; });
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  int announced = 0;
  std::string body;
  auto paid = agent.client.fetch(
      infer(server.url()),
      [&](std::string_view piece) {
        body += piece;
        return true;
      },
      [&] { ++announced; });
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::response_overcharged);
  EXPECT_EQ(announced, 0);
  EXPECT_FALSE(body.empty()) << "the answer that was paid for is passed on all the same";
  EXPECT_FALSE((*agent.store->list())[0].suspended.empty());

  ScriptedServer honest({kPrice});
  Agent other(dir.file("other.sqlite"));
  auto served = other.client.fetch(infer(honest.url()), [](std::string_view) { return true; }, [&] { ++announced; });
  ASSERT_TRUE(served) << served.error().to_string();
  EXPECT_EQ(announced, 1) << "an answer taken up is announced once";
}

// The answer to a channel's first deposit has no expected balance, but one below the running total
// it reports contradicts itself (the agent would top up a channel with room): suspended at once.
TEST(PaymentClient, AFirstDepositAnsweredWithABalanceBelowItsRunningTotalSuspendsTheChannel) {
  ScriptedServer server({kPrice}, [](Report& r) { r.balance = r.cumulative - 1; });
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  auto paid = agent.client.fetch(infer(server.url()));
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::response_balance_mismatch) << paid.error().to_string();
  EXPECT_FALSE((*agent.store->list())[0].suspended.empty());
}

// A scripted server answering every paid request with a corrective 402 whose states `corrective`
// fills in from the voucher the request carried (an unpaid request gets the plain offer).
template <typename Corrective>
http::Handled answer_with_corrective(http::Exchange& ex, Corrective corrective) {
  const auto paid = voucher_of(ex);
  if (!paid) answer_402(ex);
  else
    answer_402(ex, "invalid_batch_settlement_evm_cumulative_amount_mismatch",
               [&](protocol::BatchSettlementExtra& extra) { corrective(paid->first, extra); });
  return std::nullopt;
}

TEST(PaymentClient, AForgedCorrectiveStateIsRefused) {
  // A server claims the agent signed far more than it did.
  auto forging = [](http::Exchange& ex) {
    return answer_with_corrective(ex, [](const SignedVoucher& v, protocol::BatchSettlementExtra& extra) {
      extra.channelState = protocol::ChannelSnapshot{v.voucher.channelId, 1'000'000, 0, 0, U256{}, Uint128{900'000}};
      const Voucher claimed{v.voucher.channelId, 900'000};
      extra.voucherState = protocol::VoucherState{
          Uint128{900'000}, test_key(77).sign(voucher_digest(batch_settlement_domain_separator(31337), claimed))};
    });
  };
  http::test::TestServer<decltype(forging)> server{forging};
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  auto paid = agent.client.fetch(infer(server.url("/v1/infer")));
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::corrective_state_unsigned);
  EXPECT_EQ((*agent.store->list())[0].charged, 0u);
}

// A server that never serves answers each voucher with a "corrective" 402 echoing that very
// voucher as held and charged. Each adoption would make the agent sign one more price for
// nothing: the voucher was refused, so the server cannot hold it. Each request fails, and nothing
// above the first voucher is ever signed (the channel is not suspended: see below).
TEST(PaymentClient, AServerPresentingTheVoucherItRefusedAsChargedIsNeverPaidMore) {
  std::mutex mutex;
  Uint128 highest = 0;
  auto echoing = [&](http::Exchange& ex) {
    return answer_with_corrective(ex, [&](const SignedVoucher& v, protocol::BatchSettlementExtra& extra) {
      {
        std::lock_guard lock(mutex);
        highest = std::max(highest, v.voucher.maxClaimableAmount);
      }
      holding(v, v.voucher.maxClaimableAmount, 1'000'000'000)(extra);
    });
  };
  http::test::TestServer<decltype(echoing)> server{echoing};
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  for (int i = 0; i < 5; ++i) {
    auto paid = agent.client.fetch(infer(server.url("/v1/infer")));
    ASSERT_FALSE(paid);
    EXPECT_EQ(paid.error().code, ErrorCode::corrective_state_not_held) << i;
  }
  EXPECT_EQ(highest, kPrice) << "only the first voucher";
}

// Each request its own run on one state file, as with `paychan pay`.
// `run(true)`: the run accepts the provider's state (--accept-provider-state).
auto runs_on(const std::string& path, const std::string& url, ClientPolicy policy = test_policy()) {
  return [path, url, policy](bool accept = false) {
    ClientOptions options{policy, {}, {}, 4};
    options.acceptProviderState = accept;
    return Agent(path, options, {}).client.fetch(infer(url));
  };
}

// Without a chain, a server that says a channel it reported funded is short of funds (refusing the
// voucher as such, or with a corrective 402 whose balance leaves no room for it) gets one deposit on
// its word: its receiver may have refunded unclaimed funds since. When it says so again, the
// request fails and nothing more is deposited, also when every request is its own run. Nothing is
// suspended: its word cannot be proven wrong without the chain. (A corrective's balance used to be
// taken as is, and made the agent deposit on every request; the allowance used to come back with
// each run.)
TEST(PaymentClient, WithoutAChainAServerThatKeepsSayingAFundedChannelIsShortGetsOneDepositOnItsWord) {
  for (const bool by_corrective : {false, true}) {
    SCOPED_TRACE(by_corrective ? "a corrective reporting a balance of 0" : "refused as short of funds");
    std::mutex mutex;
    int deposits = 0;
    Uint128 balance = 0, charged = 0;
    SignedVoucher held;
    auto short_of_funds = paid_route(mutex, [&](http::Exchange& ex, const SignedVoucher& v, Uint128 deposit) {
      if (deposit == 0 && by_corrective)
        return answer_402(ex, "invalid_batch_settlement_evm_cumulative_amount_mismatch", holding(held, charged, 0));
      if (deposit == 0) return answer_402(ex, "invalid_batch_settlement_evm_cumulative_exceeds_balance");
      ++deposits;
      balance += deposit;
      charged = v.voucher.maxClaimableAmount;
      held = v;
      answer_paid(ex, v.voucher.channelId, kPrice, charged, balance);
    });
    http::test::TestServer<decltype(short_of_funds)> server{short_of_funds};
    paychan::test::TempDir dir;
    const auto run = runs_on(dir.file("agent.sqlite"), server.url("/v1/infer"));
    ASSERT_TRUE(run());  // the channel's first deposit
    auto paid = run();
    ASSERT_TRUE(paid) << "a top-up on the server's word: " << paid.error().to_string();
    for (int i = 0; i < 3; ++i) {
      paid = run();
      ASSERT_FALSE(paid);
      EXPECT_EQ(paid.error().code, ErrorCode::response_balance_mismatch) << paid.error().to_string();
    }
    EXPECT_EQ(deposits, 2);
    EXPECT_TRUE((*Agent(dir.file("agent.sqlite")).store->list()).at(0).suspended.empty());
  }
}

// An honest scripted route: it keeps its balance and running total, and refuses a voucher above
// the balance as short of funds. `turn_away(ex)` may answer a deposit itself (nothing executed);
// `cut_off()`, asked once a deposit executed, has a proxy answer 504 instead. Both run under `mutex`.
struct HonestLedger {
  std::mutex mutex;
  Uint128 balance = 0, charged = 0;
  int deposits = 0;  // executed
  std::function<bool(http::Exchange&)> turn_away = [](http::Exchange&) { return false; };
  std::function<bool()> cut_off = [] { return false; };
  // The next `times` deposits after the channel's first are answered 402 `reason` (not executed).
  void refuse_deposits_after_the_first(int times, std::string reason) {
    turn_away = [this, times, reason = std::move(reason), refused = 0](http::Exchange& ex) mutable {
      if (deposits != 1 || refused == times) return false;
      ++refused;
      answer_402(ex, reason);
      return true;
    };
  }
  void refund_unclaimed() {  // the receiver refunds what it has not charged
    std::lock_guard lock(mutex);
    balance = charged;
  }
  auto route() {
    return paid_route(mutex, [this](http::Exchange& ex, const SignedVoucher& v, Uint128 deposit) {
      if (deposit == 0 && v.voucher.maxClaimableAmount > balance)
        return answer_402(ex, "invalid_batch_settlement_evm_cumulative_exceeds_balance");
      if (deposit != 0 && turn_away(ex)) return;
      deposits += deposit != 0;
      balance += deposit;
      charged = v.voucher.maxClaimableAmount;
      if (deposit != 0 && cut_off()) return ex.response().set(504, "text/plain", "timed out");
      answer_paid(ex, v.voucher.channelId, kPrice, charged, balance);
    });
  }
};

// `ledger` served on loopback; `run()` is one agent request to it, from one state file (runs_on).
struct ServedLedger {
  explicit ServedLedger(HonestLedger& ledger) : server{ledger.route()} {}
  http::test::TestServer<decltype(std::declval<HonestLedger&>().route())> server;
  paychan::test::TempDir dir;
  decltype(runs_on({}, {})) run = runs_on(dir.file("agent.sqlite"), server.url("/v1/infer"));
};

// Without a chain, a deposit on the server's word whose outcome is unknown leaves room for a
// second: an honest server whose facilitator was down (503: the deposit never executed) gets it.
TEST(PaymentClient, ADepositOnTheServersWordThatNeverSettledIsMadeAgain) {
  HonestLedger ledger;
  int sent = 0;
  ledger.turn_away = [&](http::Exchange& ex) {
    if (++sent != 2) return false;  // the second: the facilitator is down, nothing executed
    ex.response().set(503, "application/json", R"({"error":"facilitator_unavailable"})");
    return true;
  };
  ServedLedger served(ledger);
  const auto& run = served.run;
  ASSERT_TRUE(run());
  ledger.refund_unclaimed();
  auto paid = run();
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(paid->response.status, 503);
  paid = run();
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(paid->response.status, 200);
  EXPECT_EQ(ledger.deposits, 2);
}

// Without a chain, a server that executes each deposit made on its word but never confirms one (a
// 504 after the charge) gets two of them, not one per request: the second covers an honest server
// whose facilitator was down.
TEST(PaymentClient, WithoutAChainAServerThatNeverConfirmsADepositOnItsWordGetsTwo) {
  std::mutex mutex;
  int deposits = 0;
  Uint128 balance = 0;
  auto unconfirmed = paid_route(mutex, [&](http::Exchange& ex, const SignedVoucher& v, Uint128 deposit) {
    if (deposit == 0) return answer_402(ex, "invalid_batch_settlement_evm_cumulative_exceeds_balance");
    balance += deposit;  // executed either way
    if (++deposits > 1) return ex.response().set(504, "text/plain", "timed out");
    answer_paid(ex, v.voucher.channelId, kPrice, v.voucher.maxClaimableAmount, balance);
  });
  http::test::TestServer<decltype(unconfirmed)> server{unconfirmed};
  paychan::test::TempDir dir;
  const auto run = runs_on(dir.file("agent.sqlite"), server.url("/v1/infer"));
  ASSERT_TRUE(run());  // the channel's first deposit
  for (int i = 0; i < 4; ++i) (void)run();
  auto paid = run();
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::response_balance_mismatch) << paid.error().to_string();
  EXPECT_EQ(deposits, 3);
}

// A deposit on the server's word whose answer was lost is confirmed once the server serves a voucher
// on the channel it had said was short: a refund right after that gets no deposit on its word.
TEST(PaymentClient, ADepositOnTheServersWordThatLandedUnansweredIsConfirmedByTheNextAnswer) {
  HonestLedger ledger;
  ledger.cut_off = [&] { return ledger.deposits == 2; };
  ServedLedger served(ledger);
  const auto& run = served.run;
  ASSERT_TRUE(run());
  ledger.refund_unclaimed();
  auto paid = run();  // deposit 2, on its word: executed, answered 504
  ASSERT_TRUE(paid) << paid.error().to_string();
  ASSERT_EQ(paid->response.status, 504);
  paid = run();  // takes the charge up; the answer shows the deposit landed
  ASSERT_TRUE(paid) << paid.error().to_string();
  ASSERT_EQ(paid->response.status, 200);
  ledger.refund_unclaimed();
  paid = run();
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::response_balance_mismatch) << paid.error().to_string();
  EXPECT_EQ(ledger.deposits, 2);
}

// Without a chain, an honest receiver may refund an idle channel more than once. After a deposit
// on its word is confirmed, the next one is made once the provider has charged that deposit's
// worth (five prices); a refund before that leaves the request failing, with nothing deposited,
// until the agent accepts the provider's word once more.
TEST(PaymentClient, TheServersWordHoldsAgainOnceItChargedTheLastDepositOnItsWord) {
  HonestLedger ledger;
  ServedLedger served(ledger);
  const auto& run = served.run;
  ASSERT_TRUE(run());  // deposit 1: a balance of 5 prices
  ledger.refund_unclaimed();
  ASSERT_TRUE(run());  // deposit 2, on its word: charged 2 prices, a balance of 6; its worth charged at 7
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(run());
  ledger.refund_unclaimed();  // at 5 prices
  auto paid = run();
  ASSERT_FALSE(paid) << "charged 5 prices, not yet 7";
  EXPECT_EQ(paid.error().code, ErrorCode::response_balance_mismatch) << paid.error().to_string();
  EXPECT_EQ(ledger.deposits, 2);
  paid = run(true);
  ASSERT_TRUE(paid) << "deposit 3, on its word accepted once more: " << paid.error().to_string();
  EXPECT_EQ(ledger.deposits, 3);  // charged 6, a balance of 10; its worth charged at 11
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(run());  // deposit 4 (the agent's own top-up) at 11
  EXPECT_EQ(ledger.deposits, 4);
  ledger.refund_unclaimed();
  paid = run();
  ASSERT_TRUE(paid) << "11 prices charged: " << paid.error().to_string();
  EXPECT_EQ(ledger.deposits, 5);
  ledger.refund_unclaimed();
  paid = run();
  ASSERT_FALSE(paid) << "nothing charged since";
  EXPECT_EQ(paid.error().code, ErrorCode::response_balance_mismatch) << paid.error().to_string();
  EXPECT_EQ(ledger.deposits, 5);
}

// A deposit on the server's word that is refused with a 402 still counts: a hostile server could
// execute the authorization and answer 402 all the same. After two, the agent deposits on its word
// again only when told to accept the provider's state.
TEST(PaymentClient, ARefusedDepositOnTheServersWordStillCounts) {
  HonestLedger ledger;
  ledger.refuse_deposits_after_the_first(2, "invalid_payload");
  ServedLedger served(ledger);
  const auto& run = served.run;
  ASSERT_TRUE(run());
  ledger.refund_unclaimed();
  for (int i = 0; i < 2; ++i) {
    auto paid = run();
    ASSERT_FALSE(paid);
    EXPECT_EQ(paid.error().code, ErrorCode::invalid_payload) << paid.error().to_string();
  }
  auto paid = run();
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::response_balance_mismatch) << paid.error().to_string();
  paid = run(true);
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(ledger.deposits, 2);
}

// A deposit on the server's word turned away as busy is sent again as is: one authorization, counted
// once however often it is sent, so a request that gives up leaves room for the next.
TEST(PaymentClient, ADepositOnTheServersWordSentAgainAfterBusyCountsOnce) {
  HonestLedger ledger;
  ledger.refuse_deposits_after_the_first(3, "invalid_batch_settlement_evm_channel_busy");
  ServedLedger served(ledger);
  const auto& run = served.run;
  ASSERT_TRUE(run());
  ledger.refund_unclaimed();
  auto paid = run();  // the voucher refused as short, then its deposit turned away three times
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::invalid_batch_settlement_evm_channel_busy) << paid.error().to_string();
  paid = run();
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(ledger.deposits, 2);
}

// A server that answers a corrective 402 a second time in the same payment, here presenting the
// state the agent already has: it keeps the agent signing without serving. The channel is suspended.
TEST(PaymentClient, ASecondCorrectiveInOnePaymentSuspendsTheChannel) {
  std::mutex mutex;
  SignedVoucher first;
  Uint128 balance = 0;
  auto looping = [&](http::Exchange& ex) -> http::Handled {
    const auto paid = voucher_of(ex);
    if (!paid) return answer_402(ex), std::nullopt;
    std::lock_guard lock(mutex);
    if (paid->second != 0) {  // the deposit is served
      first = paid->first;
      balance = paid->second;
      answer_paid(ex, first.voucher.channelId, kPrice, kPrice, balance);
    } else {
      answer_402(ex, "invalid_batch_settlement_evm_cumulative_amount_mismatch", holding(first, kPrice, balance));
    }
    return std::nullopt;
  };
  http::test::TestServer<decltype(looping)> server{looping};
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  ASSERT_TRUE(agent.client.fetch(infer(server.url("/v1/infer"))));
  auto paid = agent.client.fetch(infer(server.url("/v1/infer")));
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch);
  EXPECT_FALSE((*agent.store->list())[0].suspended.empty());
}

// How a scripted server answers a fresh voucher (one that continues its running total).
enum class Act {
  serve,
  serve_free,       // serves it, charging nothing
  busy,             // 402 channel_busy: nothing done
  fail,             // 500 without PAYMENT-RESPONSE: nothing charged
  echo,             // refuses it, and presents it as held and charged (hostile)
  gateway_timeout,  // charges it, and a proxy in front answers 504
  lose_answer,      // charges it, and answers after 1.5 s (to an agent that gave up)
};

// A server that keeps a running total honestly and answers each fresh voucher as `pick` says; a
// voucher that does not continue the total gets a corrective 402 with the truth. A refund at its
// total is made: everything above it goes back.
class ScriptedAnswers {
 public:
  using Pick = std::function<Act(Uint128 voucher, Uint128 deposit)>;
  explicit ScriptedAnswers(Pick pick) : pick_(std::move(pick)), server_([this](http::Exchange& ex) { return answer(ex); }) {}
  std::string url() const { return server_.url("/v1/infer"); }

  std::mutex mutex;
  Uint128 highest = 0;         // the highest voucher received
  int served = 0, unseen = 0;  // answered with a charge; charged behind a 504
  std::atomic<bool> late{false};  // a lost answer went out (to nobody)

 private:
  http::Handled answer(http::Exchange& ex) {
    const auto paid = voucher_of(ex);
    if (!paid) return answer_402(ex), std::nullopt;
    const auto& [v, deposit] = *paid;
    std::unique_lock lock(mutex);
    const Uint128 amount = v.voucher.maxClaimableAmount;
    highest = std::max(highest, amount);
    if (is_refund(ex) && amount == charged_) return answer_paid(ex, v.voucher.channelId, 0, charged_, balance_ = charged_), std::nullopt;
    if (amount != charged_ + kPrice || is_refund(ex)) {  // the agent is behind (or ahead)
      answer_402(ex, "invalid_batch_settlement_evm_cumulative_amount_mismatch", holding(held_, charged_, balance_));
      return std::nullopt;
    }
    const Act act = pick_(amount, deposit);
    if (act == Act::busy) return answer_402(ex, "invalid_batch_settlement_evm_channel_busy"), std::nullopt;
    if (act == Act::fail) return ex.response().set(500, "text/plain", "failed"), std::nullopt;
    balance_ += deposit;
    charged_ = amount;
    held_ = v;
    if (act == Act::echo) {
      answer_402(ex, "invalid_batch_settlement_evm_cumulative_amount_mismatch", holding(held_, charged_, balance_));
      return std::nullopt;
    }
    if (act == Act::gateway_timeout) return ++unseen, ex.response().set(504, "text/plain", "timed out"), std::nullopt;
    if (act == Act::serve_free) {
      charged_ -= kPrice;  // the voucher is held, nothing charged on it
      return ++served, answer_paid(ex, v.voucher.channelId, 0, charged_, balance_), std::nullopt;
    }
    if (act == Act::lose_answer) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      late = true;
    } else {
      ++served;
    }
    answer_paid(ex, v.voucher.channelId, kPrice, amount, balance_);
    return std::nullopt;
  }

  Pick pick_;
  Uint128 balance_ = 0, charged_ = 0;
  SignedVoucher held_;
  http::test::TestServer<std::function<http::Handled(http::Exchange&)>> server_;
};

// A server honest but for the vouchers of the second and fourth requests, whose sends it answers
// as `script` says. An answer lost after the charge (the agent times out, or a proxy in front of
// the server answers 504) leaves the server holding the voucher: its corrective is adopted and the
// request after pays one price. A server that refuses the voucher (with a 402, at once or after
// turning it away as busy, or with a 500 that charges nothing) and then presents it as held and
// charged would make that request cost two prices: each request fails instead, and nothing above
// the voucher is signed. An agent told to accept the provider's state does so once per channel.
TEST(PaymentClient, ACorrectiveIsAdoptedOnlyForAVoucherTheServerWasSentAndDidNotRefuse) {
  struct Case {
    const char* name;
    std::vector<Act> script;
    bool acceptProviderState = false;
  };
  const Case cases[] = {
      {"answer lost", {Act::lose_answer}},
      {"a proxy's 504 after the charge", {Act::gateway_timeout}},
      {"refused and presented as held", {Act::echo}},
      {"turned away as busy, then refused and presented as held", {Act::busy, Act::echo}},
      {"answered 500, then presented as held", {Act::fail, Act::echo}},
      {"refused and presented as held, to an agent accepting the provider's state", {Act::echo}, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const bool honest = c.script[0] == Act::lose_answer || c.script[0] == Act::gateway_timeout;
    std::map<Uint128, std::size_t> step;  // per scripted voucher
    ScriptedAnswers server([&](Uint128 voucher, Uint128) {
      const bool scripted = (voucher == 2 * kPrice || voucher == 4 * kPrice) && step[voucher] < c.script.size();
      return scripted ? c.script[step[voucher]++] : Act::serve;
    });
    paychan::test::TempDir dir;
    ClientOptions options{test_policy(), {}, {}, 4};
    options.acceptProviderState = c.acceptProviderState;
    options.maxWait = std::chrono::milliseconds(500);
    Agent agent(dir.file("agent.sqlite"), options, {});
    const auto fetch = [&] { return agent.client.fetch(infer(server.url())); };
    ASSERT_TRUE(fetch());
    auto second = fetch();
    if (honest) {
      if (c.script[0] == Act::lose_answer) {
        ASSERT_FALSE(second);
        EXPECT_EQ(second.error().code, ErrorCode::http_timeout);
        for (int i = 0; i < 500 && !server.late; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      } else {
        ASSERT_TRUE(second && second->response.status == 504);
      }
      auto third = fetch();
      ASSERT_TRUE(third) << third.error().to_string();
      EXPECT_EQ(third->charged, kPrice);
      EXPECT_EQ(third->takenUp, kPrice) << "the lost request's charge, learnt from the corrective";
      EXPECT_EQ(server.highest, 3 * kPrice);
      continue;
    }
    if (c.acceptProviderState) {
      ASSERT_TRUE(second) << "the provider's state accepted: " << second.error().to_string();
      EXPECT_EQ(server.highest, 3 * kPrice);
      second = fetch();  // voucher 4: refused and presented as held again
    }
    if (c.script[0] == Act::fail) {
      ASSERT_TRUE(second && second->response.status == 500);
      second = fetch();
    }
    const Uint128 refused = server.highest;
    for (int i = 0; i < 2; ++i, second = fetch()) {
      ASSERT_FALSE(second) << "served after paying " << to_decimal(server.highest);
      EXPECT_EQ(second.error().code, ErrorCode::corrective_state_not_held);
    }
    EXPECT_EQ(server.highest, refused) << "nothing signed beyond the voucher refused";
    EXPECT_TRUE((*agent.store->list())[0].suspended.empty()) << "refused requests, no withdrawal";
  }
}

// After refusing the second voucher and presenting it as charged, the server meets the agent's
// refund (a voucher at the agent's running total) with the same corrective: the refund fails as
// not held, rather than take up a total the server was never paid.
TEST(PaymentClient, ARefundMeetingACorrectiveForARefusedVoucherFails) {
  ScriptedAnswers server([](Uint128 voucher, Uint128) { return voucher == 2 * kPrice ? Act::echo : Act::serve; });
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  ASSERT_TRUE(agent.client.fetch(infer(server.url())));
  ASSERT_FALSE(agent.client.fetch(infer(server.url())));
  auto refunded = agent.client.refund((*agent.store->list())[0].channelId, std::nullopt);
  ASSERT_FALSE(refunded);
  EXPECT_EQ(refunded.error().code, ErrorCode::corrective_state_not_held) << refunded.error().to_string();
  EXPECT_EQ(server.highest, 2 * kPrice) << "nothing signed above the refused voucher";
}

// The agent's state file is restored from a backup taken three requests ago. The gate's
// corrective holds a voucher above everything the restored file knows was sent: the request
// fails (nothing signed, nothing suspended) until the agent pays once accepting the provider's
// state, which it then keeps.
TEST(PaymentClient, AStoreRestoredFromABackupPaysOnOnceTheProvidersStateIsAccepted) {
  gate::test::GateStack stack;
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  const std::string backup = dir.file("backup.sqlite");
  const auto pay = [&](Agent& agent, int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(agent.client.fetch(infer(stack.url("/v1/infer")))) << i;
  };
  // A copy of the store's files (the database and its write-ahead log), made while no agent runs.
  const auto copy_store = [](const std::string& from, const std::string& to) {
    for (const char* suffix : {"", "-wal"}) {
      std::filesystem::remove(to + suffix);
      if (std::filesystem::exists(from + suffix)) std::filesystem::copy_file(from + suffix, to + suffix);
    }
    std::filesystem::remove(to + "-shm");
  };
  {
    Agent agent(path);
    pay(agent, 2);
  }
  copy_store(path, backup);
  {
    Agent agent(path);
    pay(agent, 3);
  }
  copy_store(backup, path);
  {
    Agent restored(path);
    auto refused = restored.client.fetch(infer(stack.url("/v1/infer")));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::corrective_state_not_held);
    EXPECT_NE(refused.error().detail.find("--accept-provider-state"), std::string::npos) << refused.error().detail;
    EXPECT_TRUE((*restored.store->list())[0].suspended.empty());
  }
  ClientOptions accepting{test_policy(), {}, {}, 4};
  accepting.acceptProviderState = true;
  {
    Agent agent(path, accepting, {});
    auto paid = agent.client.fetch(infer(stack.url("/v1/infer")));
    ASSERT_TRUE(paid) << paid.error().to_string();
    EXPECT_EQ(paid->charged, kPrice);
  }
  Agent after(path);
  pay(after, 1);
  ASSERT_TRUE(after.client.flush());
  EXPECT_EQ((*after.store->list())[0].charged, 7 * kPrice);
}

// An honest server whose answer to one top-up is lost (503, no PAYMENT-RESPONSE) although the
// deposit landed. When the agent tops up again, the balance it is told holds both deposits: that
// is one of the two honest outcomes, not a violation, and the agent counts both as deposited.
TEST(PaymentClient, ADepositWhoseAnswerWasLostIsCountedWhenTheNextOneReportsIt) {
  std::mutex mutex;
  Uint128 balance = 0, charged = 0;
  int deposits = 0;
  auto honest = [&](http::Exchange& ex) -> http::Handled {
    const auto paid = voucher_of(ex);
    if (!paid) return answer_402(ex), std::nullopt;
    const auto& [v, deposit] = *paid;
    std::lock_guard lock(mutex);
    if (deposit != 0) {
      balance += deposit;    // it lands on chain
      if (++deposits == 2) {  // but this answer is lost
        ex.response().set(503, "text/plain", "facilitator timed out");
        return std::nullopt;
      }
    }
    charged += kPrice;
    answer_paid(ex, v.voucher.channelId, kPrice, charged, balance);
    return std::nullopt;
  };
  http::test::TestServer<decltype(honest)> server{honest};
  paychan::test::TempDir dir;
  auto policy = test_policy();
  policy.depositPrices = 2;  // a top-up every other request
  Agent agent(dir.file("agent.sqlite"), policy);
  for (int i = 0; i < 8; ++i) {
    auto paid = agent.client.fetch(infer(server.url("/v1/infer")));
    ASSERT_TRUE(paid) << i << ": " << paid.error().to_string();
  }
  ASSERT_GE(deposits, 3) << "a top-up after the lost one";
  ASSERT_TRUE(agent.client.flush());
  const auto channels = *agent.store->list();
  ASSERT_EQ(channels.size(), 1u);
  EXPECT_TRUE(channels[0].suspended.empty()) << channels[0].suspended;
  EXPECT_EQ(channels[0].deposited, balance) << "every deposit that landed is counted";
}

// A server that turns the first deposit away as busy (a 402 before anything settles) gets the
// same authorization again: a second one, with a new nonce, could also be executed within its hour.
TEST(PaymentClient, ADepositTurnedAwayAsBusyIsSentAgainAsIs) {
  std::mutex mutex;
  std::vector<std::string> deposits;
  auto busy_once = [&](http::Exchange& ex) -> http::Handled {
    const auto paid = voucher_of(ex);
    if (!paid) return answer_402(ex), std::nullopt;
    const auto& [v, deposit] = *paid;
    EXPECT_NE(deposit, 0u);
    std::lock_guard lock(mutex);
    deposits.emplace_back(*ex.request().header("PAYMENT-SIGNATURE"));
    if (deposits.size() > 1) answer_paid(ex, v.voucher.channelId, kPrice, kPrice, deposit);
    else answer_402(ex, "invalid_batch_settlement_evm_channel_busy");
    return std::nullopt;
  };
  http::test::TestServer<decltype(busy_once)> server{busy_once};
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  auto paid = agent.client.fetch(infer(server.url("/v1/infer")));
  ASSERT_TRUE(paid) << paid.error().to_string();
  ASSERT_EQ(deposits.size(), 2u);
  EXPECT_EQ(deposits[0], deposits[1]) << "the same authorization, not a second one";
}

// A reference server whose settlement fails after its handler ran answers 402 with only a failed
// PAYMENT-RESPONSE: the request fails with response_settlement_failed and the server's reason, is
// not taken for an offer that changed (which would pay again), and is not tried again. A deposit
// refused so stays pending: the reference reports channel_busy after its deposit landed.
TEST(PaymentClient, ASettlementFailureWithoutAnOfferIsTheServersReason) {
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  std::mutex mutex;
  std::size_t payments = 0;
  auto server_fn = paid_route(mutex, [&](http::Exchange& ex, const SignedVoucher& v, Uint128 deposit) {
    ++payments;
    if (payments == 1) answer_paid(ex, v.voucher.channelId, kPrice, kPrice, deposit);
    else if (payments == 2) answer_settle_failure(ex, "invalid_payment_requirements");
    else answer_settle_failure(ex, "invalid_batch_settlement_evm_channel_busy");
  });
  http::test::TestServer<decltype(server_fn)> server{server_fn};
  ASSERT_TRUE(agent.client.fetch(infer(server.url("/v1/infer"))));
  auto refused = agent.client.fetch(infer(server.url("/v1/infer")));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::response_settlement_failed) << refused.error().to_string();
  EXPECT_NE(refused.error().detail.find("invalid_payment_requirements"), std::string::npos) << refused.error().detail;
  EXPECT_EQ(payments, 2u) << "not paid again as if the offer had changed";
  ASSERT_TRUE(agent.client.flush());
  EXPECT_EQ((*agent.store->list())[0].charged, kPrice) << "nothing charged at a failed settlement";

  Agent other(dir.file("other.sqlite"), test_policy(), 2);
  auto busy = other.client.fetch(infer(server.url("/v1/infer")));
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code, ErrorCode::response_settlement_failed);
  EXPECT_EQ(payments, 3u) << "a deposit busy at settlement is not sent again";
  ASSERT_TRUE(other.client.flush());
  const auto pending = (*other.store->list())[0];
  EXPECT_EQ(pending.pendingDeposit, 5 * kPrice) << "it may have landed";
  EXPECT_EQ(pending.deposited, 0u);
}

// A provider that changes its offer (here: a new minDeposit), served by a server that compares
// `accepted` whole as the reference does: the agent's next payment is refused, it asks for the
// offer again and pays under it, and the channel keeps the new offer for its refund and later runs.
TEST(PaymentClient, AChannelKeepsTheOfferItLastPaidUnder) {
  paychan::test::TempDir dir;
  Agent agent(dir.file("agent.sqlite"));
  std::mutex mutex;
  gate::GateConfig current = test_config();
  const auto offered = [&] { return gate::OfferTable::build(current).offers()[0].requirements; };
  std::size_t stale = 0;
  auto server_fn = [&](http::Exchange& ex) -> http::Handled {
    std::lock_guard lock(mutex);
    const auto header = ex.request().header("PAYMENT-SIGNATURE");
    if (!header) return answer_402(ex, std::nullopt, {}, current), std::nullopt;
    const auto payload = *protocol::decode_payment_signature(*header);
    if (!(payload.accepted == offered())) {
      ++stale;
      return answer_402(ex, "invalid_payment_requirements", {}, current), std::nullopt;
    }
    const SignedVoucher v = voucher_of(ex)->first;
    if (is_refund(ex)) return answer_refunded(ex), std::nullopt;
    const Uint128 cumulative = v.voucher.maxClaimableAmount;
    answer_paid(ex, v.voucher.channelId, kPrice, cumulative, 5 * kPrice);
    return std::nullopt;
  };
  http::test::TestServer<decltype(server_fn)> server{server_fn};
  ASSERT_TRUE(agent.client.fetch(infer(server.url("/v1/infer"))));
  {
    std::lock_guard lock(mutex);
    current.routes[0].minDeposit = 3 * kPrice;
  }
  auto paid = agent.client.fetch(infer(server.url("/v1/infer")));
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(stale, 1u) << "refused once under the old offer";
  ASSERT_TRUE(agent.client.flush());
  const auto ch = (*agent.store->list())[0];
  EXPECT_EQ(ch.offer, protocol::encode_payment_requirements(offered()));
  auto refunded = agent.client.refund(ch.channelId, std::nullopt);
  EXPECT_TRUE(refunded) << refunded.error().to_string();
  EXPECT_EQ(stale, 1u) << "the refund asked under the offer made now";
}

// Random charge sequences from a scripted server, some above the price: the agent's running total
// always equals the sum of the charges it accepted, and it never signs past its budget.
RC_GTEST_PROP(PaymentClientProperties, RunningTotalIsTheSumOfAcceptedChargesAndBudgetHolds, ()) {
  const auto charges = *rc::gen::nonEmpty(rc::gen::container<std::vector<Uint128>>(
      rc::gen::map(rc::gen::inRange<std::uint32_t>(0, 11'000), [](std::uint32_t c) { return Uint128{c}; })));
  const auto budget = Uint128{*rc::gen::inRange<std::uint32_t>(0, 200'000)};
  ScriptedServer server(charges);
  paychan::test::TempDir dir;
  auto policy = test_policy();
  policy.budget = budget;
  Agent agent(dir.file("agent.sqlite"), policy);
  Uint128 accepted = 0;
  for (std::size_t i = 0; i < charges.size() + 2; ++i) {
    auto paid = agent.client.fetch(infer(server.url()));
    if (paid) accepted += paid->charged;
    RC_ASSERT(*agent.client.signed_total() <= budget);
    if (!paid) break;
  }
  RC_ASSERT(agent.client.flush());
  const auto channels = *agent.store->list();
  if (!channels.empty()) RC_ASSERT(channels[0].charged == accepted);
}

// A server that charges each voucher and never answers with the charge (a proxy in front of it
// answers 504): each call fails, and the next one's corrective takes up the charge. The agent takes
// up three in a row, then refuses to pay on for answers it never gets; nothing is suspended (an
// honest provider behind a proxy that times out looks the same). Each request is its own run, as
// `paychan pay` makes them: the count is in the store. Accepting the provider's state starts it anew.
TEST(PaymentClient, AProviderThatChargesWithoutAnsweringIsPaidOnlyThreeTimesInARow) {
  ScriptedAnswers server([](Uint128, Uint128 deposit) { return deposit != 0 ? Act::serve : Act::gateway_timeout; });
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  const auto run = runs_on(path, server.url());
  ASSERT_TRUE(run());  // the deposit: served
  for (int i = 0; i < 4; ++i) {
    auto paid = run();
    ASSERT_TRUE(paid) << i << ": " << paid.error().to_string();
    EXPECT_EQ(paid->response.status, 504);
    EXPECT_EQ(paid->takenUp, i == 0 ? 0 : kPrice) << i;
  }
  for (int i = 0; i < 2; ++i) {
    auto paid = run();
    ASSERT_FALSE(paid);
    EXPECT_EQ(paid.error().code, ErrorCode::corrective_charges_unserved) << paid.error().to_string();
  }
  {
    std::lock_guard lock(server.mutex);
    EXPECT_EQ(server.highest, 5 * kPrice) << "the served price and four charged behind a 504, three of them taken up";
    EXPECT_EQ(server.unseen, 4);
  }
  EXPECT_TRUE((*Agent(path).store->list())[0].suspended.empty());
  auto accepted = run(true);
  ASSERT_TRUE(accepted) << accepted.error().to_string();
  EXPECT_EQ(accepted->takenUp, kPrice);
  // (That run's top-up was served.) The count starts anew: the next charge behind a 504 is taken up.
  auto cut_off = run();
  ASSERT_TRUE(cut_off) << cut_off.error().to_string();
  ASSERT_EQ(cut_off->response.status, 504);
  auto counted_afresh = run();
  ASSERT_TRUE(counted_afresh) << counted_afresh.error().to_string();
  EXPECT_EQ(counted_afresh->takenUp, kPrice);
}

// The count of unserved charges is on disk as soon as it rises: a run killed while it waits for
// the next answer must not forget it. Here the server reads the state file when that answer is due.
TEST(PaymentClient, AnUnservedChargeTakenUpIsOnDiskBeforeTheNextVoucherIsAnswered) {
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  std::optional<unsigned> on_disk;
  ScriptedAnswers server([&](Uint128 voucher, Uint128 deposit) {
    if (deposit != 0) return Act::serve;
    if (voucher == 2 * kPrice) return Act::gateway_timeout;
    on_disk = (*(*persistence::ClientStore::open(path))->list()).at(0).unservedCharges;
    return Act::serve;
  });
  Agent agent(path);  // one process: the voucher after the take-up needs no reservation written
  const auto run = [&] { return agent.client.fetch(infer(server.url())); };
  ASSERT_TRUE(run());  // the deposit
  ASSERT_TRUE(run());  // charged behind a 504
  auto paid = run();   // takes that charge up, then pays its own voucher
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(paid->takenUp, kPrice);
  EXPECT_EQ(on_disk, 1u);
}

// Accepting the provider's state starts the count anew by itself: here the accepting run's own
// answer is cut off too, so no served answer resets it.
TEST(PaymentClient, AcceptingTheProvidersStateStartsTheUnservedCountAnew) {
  ScriptedAnswers server([](Uint128, Uint128 deposit) { return deposit != 0 ? Act::serve : Act::gateway_timeout; });
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  ClientPolicy policy = test_policy();
  policy.depositPrices = 50;  // no top-up (served) in this test
  const auto run = runs_on(path, server.url(), policy);
  ASSERT_TRUE(run());  // the deposit: served
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(run()) << i;
  auto refused = run();
  ASSERT_FALSE(refused);
  ASSERT_EQ(refused.error().code, ErrorCode::corrective_charges_unserved);
  auto accepted = run(true);
  ASSERT_TRUE(accepted) << accepted.error().to_string();
  EXPECT_EQ(accepted->response.status, 504);
  auto counted_afresh = run();
  ASSERT_TRUE(counted_afresh) << counted_afresh.error().to_string();
  EXPECT_EQ(counted_afresh->takenUp, kPrice);
  std::lock_guard lock(server.mutex);
  EXPECT_EQ(server.served, 1);
}

// Only a charged answer ends a run of unserved charges: a server that takes three up behind 504s and
// then serves one answer free does not get three more.
TEST(PaymentClient, AFreeAnswerDoesNotStartTheUnservedCountAnew) {
  int sends = 0;
  ScriptedAnswers server([&](Uint128, Uint128 deposit) {
    if (deposit != 0) return Act::serve;
    return ++sends % 5 == 4 ? Act::serve_free : Act::gateway_timeout;
  });
  paychan::test::TempDir dir;
  const auto run = runs_on(dir.file("agent.sqlite"), server.url());
  ASSERT_TRUE(run());  // the deposit
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(run()) << i;  // 504s: two taken up
  auto free = run();  // takes the third up; its own voucher is served free
  ASSERT_TRUE(free) << free.error().to_string();
  ASSERT_EQ(free->response.status, 200);
  EXPECT_EQ(free->charged, 0u);
  ASSERT_TRUE(run());  // charged behind a 504
  auto refused = run();
  ASSERT_FALSE(refused) << "a fourth unserved charge";
  EXPECT_EQ(refused.error().code, ErrorCode::corrective_charges_unserved);
}

// A refund signs nothing above what the server holds: the charge its corrective takes up is not
// counted as unserved, so a provider that cut off every answer still gets the refund asked for.
TEST(PaymentClient, ARefundTakesUpTheServersTotalWithoutCountingItAsUnserved) {
  ScriptedAnswers server([](Uint128, Uint128 deposit) { return deposit != 0 ? Act::serve : Act::gateway_timeout; });
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  const auto run = runs_on(path, server.url());
  ASSERT_TRUE(run());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(run()) << i;  // three taken up; the fourth charge is not yet
  Agent agent(path);
  const Bytes32 id = (*agent.store->list()).at(0).channelId;
  auto refunded = agent.client.refund(id, std::nullopt);
  ASSERT_TRUE(refunded) << refunded.error().to_string();
  const auto ch = **agent.store->get(id);
  EXPECT_EQ(ch.charged, 5 * kPrice);
  EXPECT_TRUE(ch.closed);
}

// A server answering each fresh voucher after the first as a random script says, honestly (serve;
// turn away as busy; fail with 500, charging nothing; charge and have a proxy answer 504) or not
// (refuse it and present it as held and charged). Whatever it does, the agent never signs more
// than one price beyond what the server served or may have charged unseen (a 504 after the
// charge), so refusing and echoing gains it at most the voucher it holds; and an honest script
// never makes a request fail as not held, nor suspends the channel.
RC_GTEST_PROP(PaymentClientProperties, ARefusedVoucherIsNeverPaidTwice, ()) {
  const auto acts = *rc::gen::container<std::vector<Act>>(
      rc::gen::element(Act::serve, Act::busy, Act::fail, Act::gateway_timeout, Act::echo));
  const bool honest = std::find(acts.begin(), acts.end(), Act::echo) == acts.end();
  // Charges behind a 504 with no served answer between them: past kMaxUnservedCharges the agent
  // stops taking them up, and requests fail (corrective_charges_unserved) even for an honest server.
  std::size_t unserved = 0, most_unserved = 0;
  for (const Act a : acts) {
    if (a == Act::serve) unserved = 0;
    if (a == Act::gateway_timeout) most_unserved = std::max(most_unserved, ++unserved);
  }
  std::size_t next = 0;
  ScriptedAnswers server([&](Uint128, Uint128 deposit) {
    return deposit != 0 || next >= acts.size() ? Act::serve : acts[next++];
  });
  paychan::test::TempDir dir;
  auto policy = test_policy();
  policy.depositPrices = 100;  // one deposit covers the run
  Agent agent(dir.file("agent.sqlite"), policy);
  for (std::size_t i = 0; i < acts.size() + 2; ++i) {
    auto paid = agent.client.fetch(infer(server.url()));
    // (RC_ASSERT decomposes its expression: no short circuit inside it.)
    const bool ok = paid || paid.error().code == ErrorCode::invalid_batch_settlement_evm_channel_busy ||
                    (most_unserved > 3 && paid.error().code == ErrorCode::corrective_charges_unserved);
    if (honest) RC_ASSERT(ok);
  }
  std::lock_guard lock(server.mutex);
  RC_ASSERT(server.highest <= kPrice * static_cast<unsigned>(server.served + server.unseen + 1));
  if (honest) RC_ASSERT((*agent.store->list())[0].suspended.empty());
}

}  // namespace
}  // namespace paychan::engine::client::test
