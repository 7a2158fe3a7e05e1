// The gate end to end over loopback: a client built from the core library pays a real gate (HTTP
// server, SQLite store on disk, reverse proxy to a toy upstream) through the facilitator double,
// for what needs no chain (offers, refusals, metrics, streaming) and for the faults a chain cannot
// make on demand (a facilitator that stops answering, a withdrawal deadline hours away). Deposits,
// a thousand paid requests, refunds, parallel channels, contention and a restart run on a real
// chain with the real facilitator in gate_chain_e2e_test.cpp.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "engine/gate/claimed_refresh.hpp"
#include "gate_stack.hpp"
#include "persistence/sqlite.hpp"

namespace paychan::engine::gate::test {
namespace {

constexpr Uint128 kPrice = 10'000;  // POST /v1/infer

TEST(GateE2E, UnpaidRequestGets402WithAByteStableOffer) {
  GateStack stack;
  auto first = stack.call("POST", "/v1/infer");
  auto second = stack.call("POST", "/v1/infer");
  EXPECT_EQ(first.status, 402);
  EXPECT_EQ(first.header("PAYMENT-REQUIRED"), second.header("PAYMENT-REQUIRED"));
  auto required = payment_required(first);
  ASSERT_EQ(required.accepts.size(), 1u);
  EXPECT_EQ(required.accepts[0].scheme, "batch-settlement");
  EXPECT_EQ(required.accepts[0].amount, "10000");
  EXPECT_EQ(required.accepts[0].extra.text(), stack.offer().extra.text());
  EXPECT_FALSE(required.error.has_value());
  EXPECT_EQ(required.resource.description, "inference");
  // Unpriced paths pass through free.
  EXPECT_EQ(stack.call("GET", "/free").status, 200);
}

TEST(GateE2E, CorrectiveRefusalCarriesTheStateAndTheClientRecovers) {
  GateStack stack;
  TestAgent agent(test_key(2), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice)).status, 200);

  // The client lost track and signs from a wrong base.
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 5 * kPrice));
  ASSERT_EQ(res.status, 402);
  auto required = payment_required(res);
  EXPECT_EQ(required.error, "invalid_batch_settlement_evm_cumulative_amount_mismatch");
  auto extra = protocol::batch_settlement_extra(required.accepts[0]);
  ASSERT_TRUE(extra && extra->channelState && extra->voucherState);
  EXPECT_EQ(extra->channelState->chargedCumulativeAmount, 2 * kPrice);
  EXPECT_EQ(extra->voucherState->signedMaxClaimable, 2 * kPrice);
  EXPECT_EQ(extra->voucherState->signature, agent.voucher(2 * kPrice).signature);

  // Adopting the server's state, the next voucher is accepted; the plain offer still matches.
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), *extra->channelState->chargedCumulativeAmount + kPrice));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(*payment_response(res).channelState->chargedCumulativeAmount, 3 * kPrice);
}

TEST(GateE2E, BadPaymentsAreRefusedAndCommitNothing) {
  GateStack stack;
  TestAgent agent(test_key(3), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);

  // Malformed headers: 400 with the decoder's reason.
  for (const std::string header : {"not base64!", "e30=" /* "{}" */}) {
    const auto malformed = stack.call("POST", "/v1/infer", header);
    EXPECT_EQ(malformed.status, 400) << header;
    EXPECT_TRUE(malformed.body.starts_with(R"({"error":")")) << malformed.body;
    EXPECT_NE(malformed.body.find(R"(","message":")"), std::string::npos) << malformed.body;
    EXPECT_EQ(malformed.body.find(R"("message":"")"), std::string::npos) << "no reason: " << malformed.body;
  }

  // A voucher signed by someone else.
  TestAgent thief(test_key(4), stack.config, 1);
  std::string forged = thief.voucher_header(stack.offer(), 2 * kPrice);
  {
    auto payload = *protocol::decode_payment_signature(forged);
    auto& v = std::get<protocol::VoucherPayload>(std::get<protocol::BatchSettlementPayload>(payload.payload));
    v.channelConfig = agent.config;
    v.voucher.voucher.channelId = agent.id;
    forged = protocol::encode_payment_signature(payload);
  }
  auto res = stack.call("POST", "/v1/infer", forged);
  EXPECT_EQ(res.status, 402);
  EXPECT_EQ(payment_required(res).error, "invalid_batch_settlement_evm_voucher_signature");

  // A changed offer (the client lowered the price it echoes).
  auto cheaper = stack.offer();
  cheaper.amount = "1";
  res = stack.call("POST", "/v1/infer", agent.voucher_header(cheaper, 2 * kPrice));
  EXPECT_EQ(res.status, 402);
  EXPECT_EQ(payment_required(res).error, "invalid_payment_requirements");

  // Out of step with the running total.
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2'000'000));
  EXPECT_EQ(res.status, 402);
  EXPECT_EQ(payment_required(res).error, "invalid_batch_settlement_evm_cumulative_amount_mismatch");

  // In step, but beyond the channel's balance: a channel funded for one request asks for a second.
  TestAgent scant(test_key(5), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", scant.deposit_header(stack.offer(), kPrice, kPrice)).status, 200);
  res = stack.call("POST", "/v1/infer", scant.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 402);
  EXPECT_EQ(payment_required(res).error, "invalid_batch_settlement_evm_cumulative_exceeds_balance");
  EXPECT_EQ((*stack.store->get(scant.id))->chargedCumulativeAmount, kPrice);

  // The upstream fails: nothing charged, the same voucher base works afterwards.
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice), "fail");
  EXPECT_EQ(res.status, 500);
  EXPECT_FALSE(res.header("PAYMENT-RESPONSE").has_value());
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice), "bogus");
  EXPECT_EQ(res.status, 502);
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice), "greedy");
  EXPECT_EQ(res.status, 502) << "an upstream may not charge above the offer";
  EXPECT_EQ(res.body.find("invalid_"), std::string::npos) << "the upstream's fault named as the payment's: " << res.body;
  // Nor on a deposit: the top-up is not executed when the upstream's report is refused.
  res = stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), 2 * kPrice, 5'000), "greedy");
  EXPECT_EQ(res.status, 502);
  EXPECT_EQ(stack.facilitator.onchain(agent.id).balance, 1'000'000u);

  auto stored = stack.store->get(agent.id);
  EXPECT_EQ((*stored)->chargedCumulativeAmount, kPrice);
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 2 * kPrice);
}

// Settlement-Overrides is the gate's, from the upstream: sent twice it is ambiguous (502, nothing
// charged), and it never reaches a client, on a free route either. Nor does an upstream's own offer
// go out with a paid answer.
TEST(GateE2E, TheUpstreamsSettlementHeadersNeverReachTheClient) {
  GateStack stack;
  TestAgent agent(test_key(3), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);

  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice), "twice");
  EXPECT_EQ(res.status, 502);
  EXPECT_EQ(res.body, "bad gateway: the upstream's charge report is invalid; nothing was charged\n");
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, kPrice);

  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice), "offers");
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(res.header("PAYMENT-RESPONSE").has_value());
  EXPECT_FALSE(res.header("PAYMENT-REQUIRED").has_value()) << "the upstream's offer went out with a paid answer";

  // A client's own Settlement-Overrides never reaches the upstream, which would send it back here.
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 3 * kPrice), "{}",
                   {{std::string(kSettlementOverridesHeader), R"({"amount":"1"})"}});
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 3 * kPrice) << "the client set its own price";

  res = stack.call("POST", "/free/x", "", "cheap");
  EXPECT_EQ(res.status, 200);
  EXPECT_FALSE(res.header(kSettlementOverridesHeader).has_value()) << "a free route's answer showed the upstream's price";
  res = stack.call("POST", "/free/x", "", "receipt");  // an agent would take it for a charge
  EXPECT_EQ(res.status, 200);
  EXPECT_FALSE(res.header("PAYMENT-RESPONSE").has_value()) << "an upstream's charge report reached the client";
}

// A method named in an override header prices the request, in any case, as a list's token or on a
// line of its own; without one, POST on a GET route is free.
TEST(GateE2E, AMethodOverrideHeaderOrFieldPricesTheRequest) {
  GateStack stack;
  const auto status = [&](std::string_view target, std::string_view headers, std::string_view body = "") {
    http::test::RawClient client{stack.port()};
    client.send("POST " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" + std::string(headers) +
                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body));
    const auto r = client.read_response();
    return r ? r->result_int() : 0u;
  };
  EXPECT_EQ(status("/v1/stream", ""), 200u) << "POST is not the GET route's method";
  EXPECT_EQ(status("/v1/stream", "X-HTTP-Method-Override: get, x\r\n"), 402u);
  EXPECT_EQ(status("/v1/stream", "X-Method-Override: PATCH\r\nX-Method-Override: GET\r\n"), 402u);
  EXPECT_EQ(status("/v1/stream", "X-HTTP-Method: PATCH\r\n"), 200u);
  // Laravel and Symfony read `_method` in the query, Rails and Laravel in a form body.
  EXPECT_EQ(status("/v1/stream?a=1&_method=GET", ""), 402u);
  EXPECT_EQ(status("/v1/stream?_method=PATCH", ""), 200u);
  const std::string form = "Content-Type: application/x-www-form-urlencoded\r\n";
  EXPECT_EQ(status("/v1/stream", form, "q=1&%5Fmethod=get"), 402u);
  EXPECT_EQ(status("/v1/stream", form, "q=1"), 200u);
  EXPECT_EQ(status("/v1/stream", "Content-Type: text/plain\r\n", "_method=GET"), 200u) << "not a form";
  EXPECT_EQ(status("/v1/stream", "", "_method=GET"), 402u) << "Rack reads a POST body without a type as a form";
  EXPECT_EQ(status("/v1/stream?_method=GET#x", ""), 402u) << "Express drops the fragment";
  EXPECT_EQ(status("/v1/stream", "Content-Type: multipart/form-data; boundary=b\r\n",
                   "--b\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nGET\r\n--b--\r\n"),
            402u);
  EXPECT_EQ(status("/v1/stream", "Content-Type: application/json\r\n", R"({"_method":"get"})"), 402u);
  EXPECT_EQ(status("/v1/stream", "Content-Type: application/json\r\n", R"({"method":"get"})"), 200u);
  EXPECT_EQ(status("/v1/stream", "Content-Type: application/json\r\nContent-Encoding: gzip\r\n", "\x1f\x8b"), 402u)
      << "a compressed body may name any method";
}

// A client that waits for 100 Continue before uploading learns the price first; one that pays is
// invited to send its body.
TEST(GateE2E, AnUnpaidRequestExpectingContinueGetsItsOfferBeforeSendingTheBody) {
  GateStack stack;
  const std::string head = "POST /v1/infer HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n";
  http::test::RawClient unpaid{stack.port()};
  unpaid.send(head + "\r\n");
  auto offer = unpaid.read_response();
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->result_int(), 402u);
  EXPECT_FALSE(offer->keep_alive());
  EXPECT_EQ(unpaid.received().find("100 Continue"), std::string::npos);
  EXPECT_TRUE(unpaid.closed_by_peer()) << "the body it did not read cannot frame a next request";
  const auto required = protocol::decode_payment_required_header((*offer)["PAYMENT-REQUIRED"]);
  ASSERT_TRUE(required) << required.error().to_string();
  EXPECT_EQ(required->accepts.at(0).amount, "10000");
  EXPECT_EQ(required->resource.url, "http://t/v1/infer");

  http::test::RawClient paying{stack.port()};  // the header is checked once the body is here
  paying.send(head + "PAYMENT-SIGNATURE: e30=\r\n\r\n");
  EXPECT_NE(paying.read_until("\r\n\r\n").find("100 Continue"), std::string::npos);
  paying.send("hello");
  auto refused = paying.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 400u);

  http::test::RawClient free{stack.port()};  // a free route's body goes to the upstream
  free.send("POST /free/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_NE(free.read_until("\r\n\r\n").find("100 Continue"), std::string::npos);
  free.send("hello");
  auto served = free.read_response();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->result_int(), 200u);
}

// An absolute-form target is served as its path (the server makes it origin-form, its authority the
// Host): its offer names that host, the scheme in any case; forwarded free. A target the upstream
// cannot be asked for is refused as the client's error.
TEST(GateE2E, AnAbsoluteFormTargetIsOfferedAndForwardedAsItsPath) {
  GateStack stack;
  http::test::RawClient priced{stack.port()};
  priced.send("POST http://api.example/v1/infer HTTP/1.1\r\nHost: elsewhere\r\nContent-Length: 0\r\n\r\n");
  auto offer = priced.read_response();
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->result_int(), 402u);
  const auto required = protocol::decode_payment_required_header((*offer)["PAYMENT-REQUIRED"]);
  ASSERT_TRUE(required) << required.error().to_string();
  EXPECT_EQ(required->resource.url, "http://api.example/v1/infer");

  http::test::RawClient upper{stack.port()};
  upper.send("GET HTTP://api.example/data/x HTTP/1.1\r\nHost: api.example\r\n\r\n");
  offer = upper.read_response();
  ASSERT_TRUE(offer);
  EXPECT_EQ(protocol::decode_payment_required_header((*offer)["PAYMENT-REQUIRED"])->resource.url,
            "http://api.example/data/x");
  http::test::RawClient hostless{stack.port()};
  hostless.send("GET /data/x HTTP/1.1\r\nHost:\r\n\r\n");
  offer = hostless.read_response();
  ASSERT_TRUE(offer);
  EXPECT_EQ(protocol::decode_payment_required_header((*offer)["PAYMENT-REQUIRED"])->resource.url,
            "http://localhost/data/x");

  http::test::RawClient free{stack.port()};
  free.send(http::test::get("http://api.example/free/x"));
  auto forwarded = free.read_response();
  ASSERT_TRUE(forwarded);
  EXPECT_EQ(forwarded->result_int(), 200u) << forwarded->body();
  // Refused as the client's error, naming nothing of the upstream (whose address the URL a target
  // makes upstream holds).
  http::test::RawClient fragment{stack.port()};
  fragment.send(http::test::get("/free/x#"));
  auto refused = fragment.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 400u);
  EXPECT_NE(refused->body().find("cannot be forwarded"), std::string::npos) << refused->body();
  EXPECT_EQ(refused->body().find("127.0.0.1"), std::string::npos) << refused->body();
}

// A reload (GateRuntime::reload hands the handler a new table) reprices a channel already open: a
// voucher for the old offer is refused with the new one, which the client then pays.
TEST(GateE2E, ARepricedRouteIsOfferedToAPaymentForTheOldPriceAndThenCharged) {
  GateStack stack;
  TestAgent agent(test_key(2), stack.config, 1);
  const protocol::PaymentRequirements old_offer = stack.offer();
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(old_offer, kPrice, 1'000'000)).status, 200);

  stack.config.routes[0].price = 3 * kPrice;
  stack.reload_routes();
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(old_offer, 2 * kPrice));
  ASSERT_EQ(res.status, 402);
  const auto required = payment_required(res);
  EXPECT_EQ(required.error, "invalid_payment_requirements");
  ASSERT_EQ(required.accepts.size(), 1u);
  EXPECT_EQ(required.accepts[0].amount, "30000");
  EXPECT_EQ(stack.gate->totals().unclaimed, kPrice);  // nothing charged

  res = stack.call("POST", "/v1/infer", agent.voucher_header(required.accepts[0], 4 * kPrice));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(*payment_response(res).channelState->chargedCumulativeAmount, 4 * kPrice);
  EXPECT_EQ(payment_response(res).chargedAmount, 3 * kPrice);
}

// A gate that enforces its offers' minDeposit refuses a smaller deposit before the facilitator
// is asked, with the reference's code; one at the minimum goes through. Without enforcing, the
// minimum is only announced.
TEST(GateE2E, ADepositBelowAnEnforcedMinimumIsRefused) {
  GateConfig config = test_config();
  config.routes[0].minDeposit = 30 * kPrice;
  config.enforceMinDeposit = true;
  GateStack stack(config);
  EXPECT_EQ(protocol::batch_settlement_extra(stack.offer())->minDeposit, 30 * kPrice);
  TestAgent agent(test_key(2), stack.config, 1);
  auto res = stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 30 * kPrice - 1));
  ASSERT_EQ(res.status, 402);
  EXPECT_EQ(payment_required(res).error, "invalid_batch_settlement_evm_deposit_below_min_deposit");
  EXPECT_EQ(stack.metrics.deposits.load(), 0u);
  EXPECT_EQ(stack.gate->totals().open, 0u);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 30 * kPrice)).status, 200);
  EXPECT_EQ(stack.metrics.deposits.load(), 1u);

  GateConfig hint_only = test_config();
  hint_only.routes[0].minDeposit.reset();  // ten prices announced, not enforced
  GateStack hinting(hint_only);
  EXPECT_EQ(protocol::batch_settlement_extra(hinting.offer())->minDeposit, 10 * kPrice);
  TestAgent small(test_key(3), hinting.config, 1);
  EXPECT_EQ(hinting.call("POST", "/v1/infer", small.deposit_header(hinting.offer(), kPrice, 2 * kPrice)).status, 200);

  // An agent's offer stored before the gate announced a minimum (an upgrade) still pays.
  auto stored = hinting.offer();
  auto extra = *protocol::batch_settlement_extra(stored);
  extra.minDeposit.reset();
  stored.extra = protocol::make_extra(extra);
  EXPECT_EQ(hinting.call("POST", "/v1/infer", small.voucher_header(stored, 2 * kPrice)).status, 200);
}

// The claimed totals cannot be read (another process renamed the table under the gate: a real
// SQLite error, not a double): the refresh says so once, and once more when they can be read again.
TEST(GateE2E, TheClaimedRefreshReportsWhenItFailsAndWhenItRecovers) {
  GateStack stack;
  std::mutex mutex;
  std::vector<std::string> reports;
  const auto seen = [&] {
    std::lock_guard lock(mutex);
    return reports;
  };
  const auto wait_for = [&](std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (seen().size() < n && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  auto other = persistence::Database::open(stack.store_path(), false);
  ASSERT_TRUE(other) << other.error().to_string();
  {
    ClaimedRefresh refresh(*stack.gate, std::chrono::milliseconds(5), [&](const Status& s) {
      std::lock_guard lock(mutex);
      reports.push_back(s ? "ok" : s.error().to_string());
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(seen().empty()) << "nothing to report while reads work";
    ASSERT_TRUE(other->exec("ALTER TABLE channels RENAME TO channels_away"));
    wait_for(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // several failed reads
    ASSERT_EQ(seen().size(), 1u);
    EXPECT_NE(seen()[0].find("channels"), std::string::npos) << seen()[0];
    ASSERT_TRUE(other->exec("ALTER TABLE channels_away RENAME TO channels"));
    wait_for(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(seen().size(), 2u);
  EXPECT_EQ(seen()[1], "ok");
}

// The refresh reads the settle job's deletions since its last pass, in pages: 600 channels deleted
// at once are all forgotten. A record whose transaction committed late (dated up to a minute before
// the newest read) is still read; one dated ahead by a clock does not hide those dated after it.
TEST(GateE2E, TheClaimedRefreshForgetsEveryChannelTheSettleJobDeletes) {
  constexpr std::uint32_t kDeleted = 600, kLate = kDeleted, kAhead = kDeleted + 1, kAfter = kDeleted + 2;
  const auto spent = [](std::uint32_t n) {
    ChannelState s;
    std::memcpy(s.channelId.data(), &n, sizeof n);
    s.channelId[31] = 0x5e;
    s.chargedCumulativeAmount = s.signedMaxClaimable = s.onchain.balance = 100;
    return s;
  };
  GateStack stack;
  for (std::uint32_t n = 0; n <= kAfter; ++n) ASSERT_TRUE(stack.store->commit_and_wait(spent(n)));
  stack.restart();
  ASSERT_EQ(stack.gate->channels().size(), kAfter + 1);
  auto settle_job = stack.open_as_settle_job();
  ASSERT_TRUE(settle_job) << settle_job.error().to_string();
  auto db = persistence::Database::open(stack.store_path(), false);
  ASSERT_TRUE(db) << db.error().to_string();
  const auto delete_dated = [&](std::uint32_t n, const std::string& date) {
    ASSERT_TRUE((*settle_job)->record_claimed(spent(n).channelId, 100));
    ASSERT_TRUE(db->exec("UPDATE closed_channels SET closed_at = " + date + " WHERE channel_id = x'" +
                         to_hex(spent(n).channelId).substr(2) + "'"));
  };
  const std::string now = "CAST(strftime('%s', 'now') AS INTEGER)";

  for (std::uint32_t n = 0; n < kDeleted; ++n) ASSERT_TRUE((*settle_job)->record_claimed(spent(n).channelId, 100));
  ASSERT_TRUE(stack.gate->refresh_claimed());
  EXPECT_EQ(stack.gate->channels().size(), 3u);
  EXPECT_EQ(stack.metrics.forgotten_channels.load(), kDeleted);

  ASSERT_NO_FATAL_FAILURE(delete_dated(kLate, now + " - 30"));
  ASSERT_NO_FATAL_FAILURE(delete_dated(kAhead, now + " + 1000"));
  ASSERT_TRUE(stack.gate->refresh_claimed());
  EXPECT_FALSE(stack.gate->channels().find(spent(kLate).channelId)) << "a record committed late was missed";
  EXPECT_FALSE(stack.gate->channels().find(spent(kAhead).channelId));
  ASSERT_NO_FATAL_FAILURE(delete_dated(kAfter, now));
  ASSERT_TRUE(stack.gate->refresh_claimed());
  EXPECT_FALSE(stack.gate->channels().find(spent(kAfter).channelId)) << "hidden by the record dated ahead";
  EXPECT_EQ(stack.gate->channels().size(), 0u);
  EXPECT_EQ(stack.metrics.forgotten_channels.load(), kAfter + 1);
}

// An offer or refusal is never cached; a paid answer is the payer's alone (its PAYMENT-RESPONSE,
// and content a shared cache would otherwise serve to requests that pay nothing): `private` joins
// whatever Cache-Control the upstream sent.
TEST(GateE2E, OffersAreNotCachedAndPaidAnswersArePrivate) {
  GateStack stack;
  EXPECT_EQ(stack.call("POST", "/v1/infer").header("Cache-Control"), "no-store");
  TestAgent agent(test_key(2), stack.config, 1);
  auto paid = stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000));
  ASSERT_EQ(paid.status, 200);
  EXPECT_EQ(paid.header("Cache-Control"), "private");
  paid = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice), "{\"public\":1}");
  ASSERT_EQ(paid.status, 200);
  EXPECT_EQ(paid.header("Cache-Control"), "public, max-age=60, private");
  paid = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 3 * kPrice), "{\"private\":1}");
  ASSERT_EQ(paid.status, 200);
  EXPECT_EQ(paid.header("Cache-Control"), "max-age=5, Private");
  auto refused = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 9 * kPrice));
  ASSERT_EQ(refused.status, 402);
  EXPECT_EQ(refused.header("Cache-Control"), "no-store");
  // A free route's answer is the upstream's own.
  EXPECT_FALSE(stack.call("GET", "/free").header("Cache-Control"));
}

TEST(GateE2E, OversizedPaymentHeaderIsRefused) {
  GateStack stack;
  auto res = stack.call("POST", "/v1/infer", std::string(40'000, 'A'));
  EXPECT_TRUE(res.status == 431 || res.status == 400) << res.status;
}

TEST(GateE2E, FacilitatorDownKeepsKnownChannelsServedAndRefusesDeposits) {
  GateStack stack;
  TestAgent agent(test_key(10), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  stack.facilitator.down = true;
  stack.now += stack.config.onchainStateTtlSeconds + 1;  // the mirror is stale: the gate would ask
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(stack.metrics.stale_state_fallbacks.load(), 1u);

  TestAgent newcomer(test_key(11), stack.config, 1);
  res = stack.call("POST", "/v1/infer", newcomer.deposit_header(stack.offer(), kPrice, 1'000'000));
  EXPECT_EQ(res.status, 503);
  EXPECT_NE(res.body.find("facilitator_unavailable"), std::string::npos);
  EXPECT_EQ(res.header("Retry-After"), "1");
  EXPECT_FALSE(*stack.store->get(newcomer.id));

  stack.facilitator.down = false;
  res = stack.call("POST", "/v1/infer", newcomer.deposit_header(stack.offer(), kPrice, 1'000'000));
  EXPECT_EQ(res.status, 200) << res.body;
}

TEST(GateE2E, PendingWithdrawalStopsServiceWithinTheSafetyMargin) {
  GateStack stack;
  TestAgent agent(test_key(12), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  // The payer initiated a withdrawal; the gate learns it when it next refreshes the mirror.
  stack.facilitator.set_withdrawal(agent.id, stack.now.load());
  stack.now += stack.config.onchainStateTtlSeconds + 1;
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 200) << "still far from the deadline";
  EXPECT_EQ(stack.gate->totals().withdrawal_pending, 1u);
  stack.now += stack.config.withdrawDelay - stack.config.withdrawalSafetyMarginSeconds;
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 3 * kPrice));
  EXPECT_EQ(res.status, 402);
  EXPECT_EQ(payment_required(res).error, "channel_withdrawal_pending");
}

// While the facilitator is away, a known channel is served on its mirror only while that mirror
// is young enough that a withdrawal it does not show cannot be near completion: a withdrawal
// started just after the last sync completes at syncedAt + withdrawDelay.
TEST(GateE2E, AMirrorTooOldToRuleOutAWithdrawalIsNotServedOnWithoutTheFacilitator) {
  GateStack stack;
  TestAgent agent(test_key(13), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  const std::uint64_t synced = stack.now.load();
  // Unseen by the gate, the payer starts a withdrawal right after that sync.
  stack.facilitator.set_withdrawal(agent.id, synced + 1);
  stack.facilitator.down = true;
  const std::uint64_t limit = stack.config.withdrawDelay - stack.config.withdrawalSafetyMarginSeconds;
  stack.now = synced + limit - 1;
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 200) << "the withdrawal cannot be within the margin yet: " << res.body;
  stack.now = synced + limit;
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 3 * kPrice));
  EXPECT_EQ(res.status, 503) << res.body;
  EXPECT_NE(res.body.find("facilitator_unavailable"), std::string::npos) << res.body;
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 2 * kPrice);
  stack.facilitator.down = false;
  stack.now += 10;  // now inside the margin of the withdrawal started at synced + 1
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 3 * kPrice));
  EXPECT_EQ(res.status, 402) << "the facilitator shows the withdrawal";
  EXPECT_EQ(payment_required(res).error, "channel_withdrawal_pending");
}

// A withdrawal first seen on a request it gets refused is kept: the channel is flagged for claim
// in the store the settle job reads, its next requests are refused without asking again, and
// when the facilitator then goes away the channel is not served through the withdrawal.
TEST(GateE2E, AWithdrawalSeenOnARefusedRequestIsKept) {
  GateStack stack;
  TestAgent agent(test_key(15), stack.config, 1);
  stack.open_then_withdraw(agent, kPrice);
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  ASSERT_EQ(payment_required(res).error, "channel_withdrawal_pending");
  EXPECT_EQ(stack.gate->totals().withdrawal_pending, 1u);
  const auto stored = *stack.store->get(agent.id);
  ASSERT_TRUE(stored);
  EXPECT_NE(stored->onchain.withdrawRequestedAt, 0u) << "the settle job would not put it first";
  EXPECT_EQ(stored->chargedCumulativeAmount, kPrice) << "nothing charged";
  const int verifies = stack.facilitator.verifies.load();
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(payment_required(res).error, "channel_withdrawal_pending");
  EXPECT_EQ(stack.facilitator.verifies.load(), verifies) << "judged on the kept view";

  stack.facilitator.down = true;
  stack.now += 1000;  // the withdrawal can be finalized now
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 402) << res.body;
  EXPECT_EQ(payment_required(res).error, "channel_withdrawal_pending");
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, kPrice);
}

// A channel's config is public on chain, so anyone can send payloads naming it. One the payer did
// not sign is refused before the facilitator is asked: it never holds the channel's lease through
// a round trip, which would turn the payer's own requests away as channel_busy.
TEST(GateE2E, AForgedPayloadOnSomeonesChannelIsRefusedWithoutTheFacilitator) {
  GateStack stack;
  TestAgent payer(test_key(15), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", payer.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  TestAgent forger(test_key(16), stack.config, 1);
  forger.config = payer.config;
  forger.id = payer.id;
  const int verifies = stack.facilitator.verifies.load();
  for (const auto& header : {forger.deposit_header(stack.offer(), 2 * kPrice, 1'000'000),
                             forger.refund_header(stack.offer(), kPrice)}) {
    auto res = stack.call("POST", "/v1/infer", header);
    EXPECT_EQ(res.status, 402) << res.body;
    EXPECT_EQ(payment_required(res).error, "invalid_batch_settlement_evm_voucher_signature");
  }
  EXPECT_EQ(stack.facilitator.verifies.load(), verifies) << "the facilitator was asked about a forgery";
  EXPECT_EQ(stack.call("POST", "/v1/infer", payer.voucher_header(stack.offer(), 2 * kPrice)).status, 200);

  // A forged voucher with a wrong total learns nothing: the corrective state (running total,
  // balance, the payer's last voucher) goes only to a payload the payer signed.
  auto res = stack.call("POST", "/v1/infer", forger.voucher_header(stack.offer(), 7 * kPrice));
  EXPECT_EQ(res.status, 402);
  auto required = payment_required(res);
  EXPECT_EQ(required.error, "invalid_batch_settlement_evm_voucher_signature");
  auto extra = protocol::batch_settlement_extra(required.accepts.at(0));
  ASSERT_TRUE(extra);
  EXPECT_FALSE(extra->channelState) << "the channel's state was sent to a forger";
}

// A channel the gate holds no record of (its store lost here; a channel refunded in full is
// forgotten too) starts from what was claimed on chain, as the spec says for server state loss.
// Guessing "the voucher minus one price" instead would serve a deposit whose voucher adds nothing
// above the claimed total: a request served for free, as often as the payer likes.
TEST(GateE2E, AChannelTheGateHasNoRecordOfStartsFromItsClaimedTotal) {
  GateStack stack;
  TestAgent agent(test_key(17), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice)).status, 200);
  stack.facilitator.set_claimed(agent.id, 2 * kPrice);
  stack.lose_store();

  auto res = stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), 2 * kPrice, 1'000'000));
  EXPECT_EQ(res.status, 402) << "served for nothing above the claimed total";
  EXPECT_EQ(payment_required(res).error, "invalid_batch_settlement_evm_cumulative_amount_mismatch");
  EXPECT_NE(res.body.find("claimed total on chain is 20000"), std::string::npos) << res.body;
  EXPECT_FALSE(*stack.store->get(agent.id)) << "nothing committed";

  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 3 * kPrice));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(*payment_response(res).channelState->chargedCumulativeAmount, 3 * kPrice);
}

// A top-up whose reply is lost may have landed: the channel's mirror must not stay trusted with
// the old balance (in the table, and in the store, so a crash then changes nothing), or a voucher
// above it would be refused locally and the payer pushed to deposit again. The next voucher is
// checked through the facilitator, which brings the new balance.
TEST(GateE2E, ADepositWhoseReplyIsLostLeavesTheMirrorDistrusted) {
  GateStack stack;
  TestAgent agent(test_key(18), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 3 * kPrice)).status, 200);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice)).status, 200);
  stack.facilitator.lose_next_settle_reply = true;
  auto lost = stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), 3 * kPrice, 5 * kPrice));
  EXPECT_EQ(lost.status, 503) << lost.body;
  EXPECT_EQ(stack.facilitator.onchain(agent.id).balance, 8 * kPrice) << "the top-up landed";
  EXPECT_EQ(stack.gate->channels().find(agent.id)->onchainSyncedAt, 0u);
  EXPECT_EQ((*stack.store->get(agent.id))->onchainSyncedAt, 0u);

  const int verifies = stack.facilitator.verifies.load();
  // The first voucher after it is checked through the facilitator, which brings the new balance;
  // the next, above the old balance of 3 prices, is then checked locally against the new one.
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 3 * kPrice));
  ASSERT_EQ(res.status, 200) << res.body;
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 4 * kPrice));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(stack.facilitator.verifies.load(), verifies + 1) << "checked through the facilitator once";
  EXPECT_EQ(payment_response(res).channelState->balance, 8 * kPrice);
}

TEST(GateE2E, StreamingResponsesPassThroughWithThePaymentResponse) {
  GateStack stack;
  TestAgent agent(test_key(13), stack.config, 1);
  const auto& stream_offer = stack.offer(1);
  auto res = stack.call("GET", "/v1/stream", agent.deposit_header(stream_offer, 5'000, 1'000'000));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body, "data: token0\n\ndata: token1\n\ndata: token2\n\n");
  EXPECT_EQ(*payment_response(res).chargedAmount, 5'000u);
}

TEST(GateE2E, MetricsAndHealth) {
  GateStack stack;
  TestAgent agent(test_key(14), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice)).status, 200);
  ASSERT_EQ(stack.call("POST", "/v1/infer").status, 402);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 9 * kPrice)).status, 402);
  EXPECT_EQ(stack.call("GET", "/healthz").body, "ok\n");
  stack.await_fold();
  const std::string text = stack.call("GET", "/metrics").body;
  for (const char* line : {"paychan_paid_requests_total 2\n", "paychan_deposits_total 1\n",
                           "paychan_refusals_total{reason=\"payment_required\"} 1\n",
                           "paychan_refusals_total{reason=\"invalid_batch_settlement_evm_cumulative_amount_mismatch\"} 1\n",
                           "paychan_open_channels 1\n", "paychan_unclaimed_amount 20000\n",
                           "paychan_verification_seconds_count 3\n", "paychan_store_commit_seconds_count 2\n",
                           // only the voucher was checked locally (the mismatch is refused before)
                           "paychan_local_verifications_total 1\n", "paychan_local_verification_seconds_count 1\n",
                           // the two commits are in SQLite now
                           "paychan_store_unfolded_commits 0\n", "paychan_store_fold_failures_total 0\n",
                           "paychan_forgotten_channels_total 0\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
}

// The gate's access log as logfmt lines. A record is written when its request's coroutine ends,
// just after the response went out: wait() gives the first `n` once they are there.
class AccessLines {
 public:
  explicit AccessLines(GateStack& stack) {
    stack.handler().set_access_log([this](const AccessRecord& r) {
      std::lock_guard lock(mutex_);
      lines_.push_back(to_logfmt(r));
    });
  }
  std::vector<std::string> wait(std::size_t n) {
    for (int i = 0; i < 2000; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (lines_.size() >= n) return lines_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

// A client's path and a peer's detail cannot forge or reorder a log line.
TEST(GateE2E, ALogLineKeepsItsShapeWhateverThePathAndDetail) {
  AccessRecord r;
  r.method = "GET";
  r.path = "/x\xE2\x80\xAEy";  // a right-to-left override: Beast takes bytes 0x80-0xFF in a target
  r.status = 502;
  r.outcome = "upstream_failed";
  r.detail = "down\u2028method=POST status=200";
  const std::string line = to_logfmt(r);
  EXPECT_NE(line.find("path=/x?y "), std::string::npos) << line;
  EXPECT_NE(line.find(R"(detail="down?method=POST status=200")"), std::string::npos) << line;
}

TEST(GateE2E, AccessLogNamesOutcomesWithoutSecrets) {
  GateStack stack;
  AccessLines log(stack);
  TestAgent agent(test_key(15), stack.config, 1);
  const std::string deposit = agent.deposit_header(stack.offer(), kPrice, 1'000'000);
  ASSERT_EQ(stack.call("POST", "/v1/infer", deposit).status, 200);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 9 * kPrice)).status, 402);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice), "fail").status, 500);
  const auto lines = log.wait(3);
  ASSERT_EQ(lines.size(), 3u);
  const std::string prefix = to_hex(agent.id).substr(0, 10);
  EXPECT_NE(lines[0].find("method=POST path=/v1/infer status=200 outcome=paid channel=" + prefix), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("charged=10000"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("status=402 outcome=refused reason=invalid_batch_settlement_evm_cumulative_amount_mismatch"),
            std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("status=500 outcome=upstream_failed"), std::string::npos) << lines[2];
  const std::string signature = to_hex(agent.voucher(kPrice).signature.bytes()).substr(2, 40);
  for (const auto& line : lines) EXPECT_EQ(line.find(signature), std::string::npos) << line;
}

// The gate's embedded handler answers {"ok":true}, a request whose body is "hold" once `release`
// is set.
class HoldingHandler {
 public:
  explicit HoldingHandler(GateStack& stack) {
    stack.embed([this](http::Exchange& ex) -> http::Awaitable<void> {
      if (ex.request().body() == "hold") {
        holding_ = true;
        co_await release.wait();
      }
      ex.response().set(200, "application/json", "{\"ok\":true}");
    });
  }
  // Whether a request is held, waiting up to 10 s for one.
  bool holding() {
    for (int i = 0; i < 10'000 && !holding_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return holding_;
  }
  http::test::Event release;

 private:
  std::atomic<bool> holding_{false};
};

// A paid request the gate's stop cuts before its answer is decided is logged as unanswered, with
// no status (none went out), and is not charged.
TEST(GateE2E, ARequestCutByAStopIsLoggedUnanswered) {
  GateStack stack;
  HoldingHandler handler(stack);
  AccessLines log(stack);
  TestAgent agent(test_key(29), stack.config, 1);
  std::optional<http::ClientResponse> answer;
  const std::string deposit = agent.deposit_header(stack.offer(), kPrice, 1'000'000);
  std::thread client([&] { answer = stack.call_apart("/v1/infer", deposit, "hold"); });
  ASSERT_TRUE(handler.holding());
  stack.stop();  // its grace runs out with the request still held
  client.join();
  handler.release.set();
  EXPECT_FALSE(answer) << "a cut request was answered";
  const auto lines = log.wait(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("status=0 outcome=unanswered"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("charged=0"), std::string::npos) << lines[0];
}

// A reload's old table lives as long as the requests that matched in it, and no longer: a request
// held across the reload is charged its old price, and the table goes once it is answered (and each
// I/O thread has served a request since the reload: each keeps the table it last read).
TEST(GateE2E, AReloadsOldTableGoesWithTheLastRequestThatMatchedInIt) {
  GateStack stack;
  HoldingHandler handler(stack);
  TestAgent agent(test_key(30), stack.config, 1);
  const std::weak_ptr<const OfferTable> old_table = stack.offers;
  std::optional<http::ClientResponse> answer;
  const std::string deposit = agent.deposit_header(stack.offer(), kPrice, 1'000'000);
  std::thread client([&] { answer = stack.call_apart("/v1/infer", deposit, "hold"); });
  const bool held = handler.holding();
  stack.config.routes[0].price = 3 * kPrice;
  stack.reload_routes();
  // New connections, spread over the I/O threads by the kernel (SO_REUSEPORT): 2^-15 that sixteen
  // all land on one. Then only the held request holds the old table.
  for (int i = 0; i < 16; ++i) {
    http::test::RawClient other{stack.port()};
    other.send(http::test::get("/data/x"));
    EXPECT_TRUE(other.read_response());
  }
  const bool kept = !old_table.expired();
  handler.release.set();
  client.join();
  ASSERT_TRUE(held);
  EXPECT_TRUE(kept) << "the table went with the reload, under a request that matched in it";
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  EXPECT_EQ(payment_response(*answer).chargedAmount, kPrice);
  EXPECT_TRUE(old_table.expired()) << "the table outlived its last request";
}

// The upstream is down: the paid request and a free one get 502 with the error code and nothing
// about the upstream (its address is the operator's business), nothing is charged, and the access
// log carries the detail, for the free request too (whose answers are otherwise not logged).
TEST(GateE2E, AnUpstreamThatIsDownIsAnswered502WithoutItsAddress) {
  GateStack stack;
  AccessLines log(stack);
  TestAgent agent(test_key(16), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  stack.stop_upstream();
  for (const bool paid : {true, false}) {
    SCOPED_TRACE(paid ? "paid" : "free");
    const auto res = paid ? stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice))
                          : stack.call("GET", "/free");
    EXPECT_EQ(res.status, 502);
    EXPECT_EQ(res.body, R"({"error":"http_connect_failed","message":"the upstream failed"})");
    EXPECT_FALSE(res.header("PAYMENT-RESPONSE"));
  }
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, kPrice) << "nothing charged";
  const auto lines = log.wait(3);
  ASSERT_EQ(lines.size(), 3u) << "the free request's failure is logged too";
  for (const std::size_t i : {1u, 2u}) {
    EXPECT_NE(lines[i].find("status=502 outcome=upstream_failed reason=http_connect_failed"), std::string::npos) << lines[i];
    EXPECT_NE(lines[i].find("detail=\"connecting to"), std::string::npos) << lines[i];
  }
  EXPECT_NE(lines[2].find("method=GET path=/free "), std::string::npos) << lines[2];
}

// The facilitator is down: a deposit gets 503 with the error code and nothing about the
// facilitator (its address is the operator's business); the access log carries the detail.
TEST(GateE2E, AFacilitatorThatIsDownIsAnswered503WithoutItsDetail) {
  GateStack stack;
  AccessLines log(stack);
  TestAgent agent(test_key(22), stack.config, 1);
  stack.facilitator.down = true;
  const auto res = stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.body, R"({"error":"facilitator_unavailable","message":"the payment cannot be handled now: try again shortly"})");
  EXPECT_EQ(res.header("Retry-After"), "1");
  const auto lines = log.wait(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("status=503 outcome=refused reason=facilitator_unavailable"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("detail=\""), std::string::npos) << lines[0];
}

// Without an access log, the operator still hears of what needs them: a payment the facilitator
// refused (with its message) and a 503; not a payer's own mistake, nor a paid request.
TEST(GateE2E, WithoutAnAccessLogTheOperatorHearsOfFacilitatorRefusalsAndFailures) {
  GateStack stack;
  std::mutex mutex;
  std::vector<std::string> lines;
  stack.handler().set_operator_log([&](const std::string& line) {
    std::lock_guard lock(mutex);
    lines.push_back(line);
  });
  TestAgent agent(test_key(24), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 9 * kPrice)).status, 402);
  // A deposit too small for its voucher: the facilitator refuses it.
  TestAgent scant(test_key(26), stack.config, 1);
  const auto refused_deposit = stack.call("POST", "/v1/infer", scant.deposit_header(stack.offer(), kPrice, 1));
  ASSERT_EQ(refused_deposit.status, 402) << refused_deposit.body;
  stack.facilitator.down = true;
  TestAgent newcomer(test_key(25), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", newcomer.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 503);
  std::lock_guard lock(mutex);  // each line is written before its answer goes out
  ASSERT_EQ(lines.size(), 2u);
  const std::string reason = payment_required(refused_deposit).error.value_or("?");
  EXPECT_NE(lines[0].find("status=402 outcome=refused reason=" + reason), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("detail=\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("status=503 outcome=refused reason=facilitator_unavailable"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("double is down"), std::string::npos) << lines[1];
}

// An upstream's unreadable Settlement-Overrides: 502, nothing charged, and the log says why.
TEST(GateE2E, AnUnreadableSettlementOverrideIsLoggedWithItsReason) {
  GateStack stack;
  AccessLines log(stack);
  TestAgent agent(test_key(23), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  EXPECT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice), "bogus").status, 502);
  const auto lines = log.wait(2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("status=502 outcome=upstream_failed reason="), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("detail=\"invalid Settlement-Overrides: "), std::string::npos) << lines[1];
  // Sent twice, the log names that too.
  EXPECT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice), "twice").status, 502);
  const auto more = log.wait(3);
  ASSERT_EQ(more.size(), 3u);
  EXPECT_NE(more[2].find("more than once"), std::string::npos) << more[2];
}

// The toy upstream, embedded in the gate (FunctionService) instead of behind it.
http::Awaitable<void> embedded_toy(http::Exchange& ex) {
  if (auto more = toy_upstream(ex)) co_await std::move(*more);
}

// An embedded handler that throws: nothing charged, 502, and the exception's text in the log line.
TEST(GateE2E, AnEmbeddedHandlersExceptionIsLoggedAndChargesNothing) {
  GateStack stack;
  stack.embed([](http::Exchange& ex) -> http::Awaitable<void> {
    if (ex.request().body().find("throw") != std::string_view::npos) throw std::runtime_error("model weights missing");
    co_await embedded_toy(ex);
  });
  AccessLines log(stack);
  TestAgent agent(test_key(26), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice), "throw");
  EXPECT_EQ(res.status, 502) << res.body;
  EXPECT_FALSE(res.header("PAYMENT-RESPONSE"));
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, kPrice);
  const auto lines = log.wait(2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("status=502 outcome=upstream_failed"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("model weights missing"), std::string::npos) << lines[1];
  EXPECT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice)).status, 200);
}

constexpr std::string_view kStreamed = "data: token0\n\ndata: token1\n\ndata: token2\n\n";

TEST(GateE2E, AnEmbeddedHandlersStreamCarriesThePaymentResponseInItsHead) {
  GateStack stack;
  stack.embed(embedded_toy);
  TestAgent agent(test_key(17), stack.config, 1);
  const auto& stream_offer = stack.offer(1);
  auto res = stack.call("GET", "/v1/stream", agent.deposit_header(stream_offer, 5'000, 1'000'000));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body, kStreamed);
  ASSERT_TRUE(res.header("PAYMENT-RESPONSE")) << "the agent must learn what it was charged";
  EXPECT_EQ(*payment_response(res).chargedAmount, 5'000u);
  // The agent's next voucher builds on the charge it was told of.
  res = stack.call("GET", "/v1/stream", agent.voucher_header(stream_offer, 10'000));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.body, kStreamed);
  EXPECT_EQ(*payment_response(res).channelState->chargedCumulativeAmount, 10'000u);
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 10'000u);
}

// An absolute-form target (as a proxy in front may send) is priced, served and logged as its path;
// userinfo in it is refused before anything reads it.
TEST(GateE2E, AnAbsoluteFormTargetIsPaidForAndServed) {
  GateStack stack;
  AccessLines log(stack);
  TestAgent agent(test_key(30), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  http::test::RawClient client{stack.port()};
  client.send("POST http://api.example/v1/infer HTTP/1.1\r\nHost: api.example\r\nContent-Length: 2\r\n\r\n{}");
  auto res = client.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 402u) << "unpaid";
  client.send("POST http://api.example/v1/infer HTTP/1.1\r\nHost: api.example\r\nContent-Length: 2\r\nPAYMENT-SIGNATURE: " +
              agent.voucher_header(stack.offer(), 2 * kPrice) + "\r\n\r\n{}");
  res = client.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u) << res->body();
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 2 * kPrice);
  const auto lines = log.wait(2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("path=/v1/infer status=200"), std::string::npos) << lines[1];
  http::test::RawClient credentials{stack.port()};
  credentials.send("GET http://user:s3cret@api.example/free HTTP/1.1\r\nHost: api.example\r\n\r\n");
  res = credentials.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400u);
}

// A client that stops sending before its answer (here a half-close; a full close is the same to the
// gate) is charged for the work its voucher paid for, which was done: were it not, anyone could have
// the upstream work for free, and replay the voucher, by hanging up. A half-closed client still
// reads its answer.
TEST(GateE2E, AClientThatLeavesBeforeItsAnswerIsChargedForTheWorkDone) {
  GateStack stack;
  HoldingHandler handler(stack);
  AccessLines log(stack);
  TestAgent agent(test_key(29), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);

  http::test::RawClient leaving{stack.port()};
  leaving.send("POST /v1/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nPAYMENT-SIGNATURE: " +
               agent.voucher_header(stack.offer(), 2 * kPrice) + "\r\n\r\nhold");
  ASSERT_TRUE(handler.holding()) << "the request never reached its handler";
  leaving.shutdown_send();
  handler.release.set();
  const auto answer = leaving.read_response();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->result_int(), 200u);
  const auto lines = log.wait(2);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("status=200 outcome=paid"), std::string::npos) << lines[1];
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 2 * kPrice);
}

// An embedded handler whose stream is refused at its head (here: it reports a charge above the
// offer) gets nothing out by misbehaving: an answer of its own in the refusal's place is replaced by
// the refusal, and a second begin_stream() fails too. Nothing is charged.
TEST(GateE2E, AnEmbeddedHandlerCannotAnswerPastARefusedStream) {
  GateStack stack;
  stack.embed([](http::Exchange& ex) -> http::Awaitable<void> {
    report_charge(ex.response(), 2 * kPrice);  // above the offer: the head's charge is refused
    if (co_await ex.begin_stream()) co_return;
    if (ex.request().body() == "again") {
      if (co_await ex.begin_stream()) (void)co_await ex.write("streamed free");
      co_return;
    }
    ex.response().set(200, "text/plain", "answered free");
  });
  TestAgent agent(test_key(31), stack.config, 1);
  for (const char* body : {"fallback", "again"}) {
    auto res = stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000), body);
    EXPECT_EQ(res.status, 502) << body << ": " << res.body;
    EXPECT_EQ(res.body.find("free"), std::string::npos) << body << ": " << res.body;
    EXPECT_FALSE(res.header("PAYMENT-RESPONSE")) << body;
  }
  EXPECT_FALSE(*stack.store->get(agent.id)) << "a channel was opened or charged";
}

// Channels do not wait on each other: while a request on one channel is held in its handler, a
// request on another is served, and only the held channel's own second request is told it is busy.
TEST(GateE2E, ARequestHeldOnOneChannelHoldsNoOther) {
  GateStack stack;
  HoldingHandler handler(stack);
  TestAgent held(test_key(27), stack.config, 1);
  TestAgent other(test_key(28), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", held.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);
  ASSERT_EQ(stack.call("POST", "/v1/infer", other.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);

  std::optional<http::ClientResponse> held_answer;
  const std::string held_voucher = held.voucher_header(stack.offer(), 2 * kPrice);
  std::thread holder([&] { held_answer = stack.call_apart("/v1/infer", held_voucher, "hold"); });
  ASSERT_TRUE(handler.holding()) << "the held request never reached its handler";
  auto res = stack.call("POST", "/v1/infer", other.voucher_header(stack.offer(), 2 * kPrice), "go");
  EXPECT_EQ(res.status, 200) << res.body;
  res = stack.call("POST", "/v1/infer", held.voucher_header(stack.offer(), 2 * kPrice), "go");
  EXPECT_EQ(res.status, 402);
  EXPECT_EQ(payment_required(res).error, "invalid_batch_settlement_evm_channel_busy");
  handler.release.set();
  holder.join();
  ASSERT_TRUE(held_answer);
  EXPECT_EQ(held_answer->status, 200) << held_answer->body;
  EXPECT_EQ((*stack.store->get(held.id))->chargedCumulativeAmount, 2 * kPrice);
  EXPECT_EQ((*stack.store->get(other.id))->chargedCumulativeAmount, 2 * kPrice);
}

TEST(GateE2E, AnEmbeddedStreamThatFailsIsChargedNothing) {
  GateStack stack;
  stack.embed([](http::Exchange& ex) -> http::Awaitable<void> {
    ex.response().set(500, "text/event-stream", "");
    if (!co_await ex.begin_stream()) co_return;
    (void)co_await ex.write("data: the model crashed\n\n");
    (void)co_await ex.end_stream();
  });
  TestAgent agent(test_key(18), stack.config, 1);
  auto res = stack.call("GET", "/v1/stream", agent.deposit_header(stack.offer(1), 5'000, 1'000'000));
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body, "data: the model crashed\n\n");
  EXPECT_FALSE(res.header("PAYMENT-RESPONSE"));
  EXPECT_FALSE(*stack.store->get(agent.id)) << "nothing charged, nothing deposited";
  EXPECT_EQ(stack.facilitator.settles.load(), 0);
}

TEST(GateE2E, AnEmbeddedStreamWhosePaymentFailsIsAnsweredWithTheRefusalInstead) {
  GateStack stack;
  int refused_heads = 0;
  stack.embed([&](http::Exchange& ex) -> http::Awaitable<void> {
    stack.facilitator.down = true;  // after its /verify, before its /settle: the deposit cannot go through
    ex.response().set_header("Content-Type", "text/event-stream");
    if (!co_await ex.begin_stream()) {
      ++refused_heads;
      co_return;
    }
    (void)co_await ex.write("data: served without payment\n\n");
    (void)co_await ex.end_stream();
  });
  TestAgent agent(test_key(19), stack.config, 1);
  auto res = stack.call("GET", "/v1/stream", agent.deposit_header(stack.offer(1), 5'000, 1'000'000));
  EXPECT_EQ(res.status, 503);
  EXPECT_NE(res.body.find("facilitator_unavailable"), std::string::npos) << res.body;
  EXPECT_FALSE(res.header("PAYMENT-RESPONSE"));
  EXPECT_EQ(refused_heads, 1);
  EXPECT_FALSE(*stack.store->get(agent.id));
}

// A price an embedded streamer reports after its head went out comes too late: the head's price
// (here the offer's) was charged and told to the agent. The access log says so.
TEST(GateE2E, AChargeReportedAfterAnEmbeddedStreamBeganIsIgnoredAndLogged) {
  GateStack stack;
  stack.embed([](http::Exchange& ex) -> http::Awaitable<void> {
    ex.response().set_header("Content-Type", "text/event-stream");
    if (!co_await ex.begin_stream()) co_return;
    (void)co_await ex.write("data: x\n\n");
    report_charge(ex.response(), 1'000);  // priced by what was streamed: too late
    (void)co_await ex.end_stream();
  });
  AccessLines log(stack);
  TestAgent agent(test_key(20), stack.config, 1);
  auto res = stack.call("GET", "/v1/stream", agent.deposit_header(stack.offer(1), 5'000, 1'000'000));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(*payment_response(res).chargedAmount, 5'000u);
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 5'000u) << "what the agent was told";
  const auto lines = log.wait(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("detail=\"Settlement-Overrides set after the stream began"), std::string::npos) << lines[0];
}

// A stream that breaks after its head (the upstream died, the client left, the shutdown grace ran
// out): the agent was charged, as its PAYMENT-RESPONSE said, and the access log says the body was cut.
TEST(GateE2E, AStreamCutBeforeItsEndIsLoggedAsCut) {
  GateStack stack;
  stack.embed([](http::Exchange& ex) -> http::Awaitable<void> {
    ex.response().set_header("Content-Type", "text/event-stream");
    if (!co_await ex.begin_stream()) co_return;
    (void)co_await ex.write("data: x\n\n");
  });
  AccessLines log(stack);
  TestAgent agent(test_key(21), stack.config, 1);
  http::BlockingHttpClient client;
  auto res = client.request(http::ClientRequest{"GET", stack.url("/v1/stream")}.header(
      "PAYMENT-SIGNATURE", agent.deposit_header(stack.offer(1), 5'000, 1'000'000)));
  EXPECT_FALSE(res) << "the client got a truncated body, not an answer";
  const auto lines = log.wait(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("status=200 outcome=paid"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("detail=\"the response stream was cut before its end\""), std::string::npos) << lines[0];
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 5'000u);
}

}  // namespace
}  // namespace paychan::engine::gate::test
