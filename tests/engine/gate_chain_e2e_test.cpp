// The gate end to end on a real chain: the whole gate over loopback (HTTP server, SQLite store on
// disk, reverse proxy to the toy upstream) with paychan's facilitator in-process, on anvil with
// the real contracts. Deposits and refunds are executed on chain and checked there. The gate's
// faults that a chain cannot make on demand (a facilitator that stops answering, a withdrawal
// deadline hours away) stay in gate_e2e_test.cpp with the facilitator double.
#include <thread>

#include "gate_chain_support.hpp"
#include "gate_stack.hpp"

namespace paychan::engine::facilitator::test {
namespace {

using gate::test::GateStack;
using gate::test::payment_required;
using gate::test::payment_response;
using gate::test::TestAgent;

constexpr Uint128 kRoutePrice = 10'000;  // POST /v1/infer in gate::test::test_config()

using GateChainE2E = GateChainTest;

TEST_F(GateChainE2E, DepositThenAThousandPaidRequestsWithDynamicPrices) {
  GateStack stack(chain_config(), facilitator_.get());
  TestAgent payer = agent(stack.config, 1, 1);
  const U256 tokens_before = token_balance(key_from(1).address());
  auto res = stack.call("POST", "/v1/infer", payer.deposit_header(stack.offer(), kRoutePrice, 20'000'000), "{}");
  ASSERT_EQ(res.status, 200) << res.body;
  auto deposit = *protocol::decode_payment_response(*res.header("PAYMENT-RESPONSE"));
  EXPECT_EQ(deposit.amount, "20000000");
  EXPECT_EQ(deposit.transaction.size(), 66u) << "a transaction hash";
  EXPECT_EQ(onchain(payer.id).balance, 20'000'000u) << "the deposit is on chain";
  EXPECT_EQ(token_balance(key_from(1).address()), U256{*tokens_before.to_uint128() - 20'000'000});
  Uint128 total = *payment_response(res).chargedAmount;

  for (int i = 0; i < 1000; ++i) {
    const bool cheap = i % 3 == 0;
    res = stack.call("POST", "/v1/infer", payer.voucher_header(stack.offer(), total + kRoutePrice), cheap ? "cheap" : "{}");
    ASSERT_EQ(res.status, 200) << i << " " << res.body;
    EXPECT_FALSE(res.header("Settlement-Overrides").has_value()) << "the gate strips the upstream's report";
    const auto extra = payment_response(res);
    const Uint128 charge = cheap ? kRoutePrice * 6 / 10 : kRoutePrice;
    ASSERT_EQ(*extra.chargedAmount, charge);
    ASSERT_EQ(*extra.channelState->chargedCumulativeAmount, total + charge);
    total += charge;
  }
  EXPECT_EQ((*stack.store->get(payer.id))->chargedCumulativeAmount, total);
  EXPECT_EQ((*stack.store->get(payer.id))->signedMaxClaimable, total - kRoutePrice * 6 / 10 + kRoutePrice)
      << "the last voucher (a cheap request) covers it";
  EXPECT_EQ(stack.metrics.facilitator_verifications.load(), 1u) << "only the deposit went to the facilitator";
  EXPECT_EQ(onchain(payer.id).totalClaimed, 0u) << "vouchers are claimed later, by the settle job";
}

TEST_F(GateChainE2E, RefundClaimsWhatWasEarnedAndReturnsTheRest) {
  GateStack stack(chain_config(), facilitator_.get());
  TestAgent payer = agent(stack.config, 2, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", payer.deposit_header(stack.offer(), kRoutePrice, 1'000'000)).status, 200);
  ASSERT_EQ(stack.call("POST", "/v1/infer", payer.voucher_header(stack.offer(), 2 * kRoutePrice), "cheap").status, 200);
  const Uint128 charged = kRoutePrice + kRoutePrice * 6 / 10;
  const U256 tokens_before = token_balance(key_from(2).address());

  auto res = stack.call("POST", "/v1/infer", payer.refund_header(stack.offer(), charged));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_NE(res.body.find("Refund acknowledged"), std::string::npos);
  auto settlement = *protocol::decode_payment_response(*res.header("PAYMENT-RESPONSE"));
  EXPECT_EQ(settlement.amount, to_decimal(1'000'000 - charged));
  const auto after = onchain(payer.id);
  EXPECT_EQ(after.totalClaimed, charged) << "the refund claims what was earned";
  EXPECT_EQ(after.balance, charged);
  EXPECT_EQ(token_balance(key_from(2).address()), U256{*tokens_before.to_uint128() + (1'000'000 - charged)});
  EXPECT_FALSE(*stack.store->get(payer.id)) << "a channel refunded in full leaves the store";
  EXPECT_FALSE(stack.gate->channels().find(payer.id)) << "and the gate's table";
  stack.restart();
  EXPECT_FALSE(stack.gate->channels().find(payer.id)) << "and is not loaded again";
}

TEST_F(GateChainE2E, PartialRefundKeepsTheChannelOpenAndTooLargeARefundTakesWhatIsLeft) {
  GateStack stack(chain_config(), facilitator_.get());
  TestAgent payer = agent(stack.config, 3, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", payer.deposit_header(stack.offer(), kRoutePrice, 1'000'000)).status, 200);
  auto res = stack.call("POST", "/v1/infer", payer.refund_header(stack.offer(), kRoutePrice, Uint128{500'000}));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(onchain(payer.id).balance, 500'000u);
  EXPECT_EQ((*stack.store->get(payer.id))->onchain.refundNonce, U256{1});
  res = stack.call("POST", "/v1/infer", payer.voucher_header(stack.offer(), 2 * kRoutePrice));
  EXPECT_EQ(res.status, 200) << res.body;
  res = stack.call("POST", "/v1/infer", payer.refund_header(stack.offer(), 2 * kRoutePrice, Uint128{0}));
  EXPECT_EQ(res.status, 402) << "a refund of nothing";
  EXPECT_EQ(payment_required(res).error, "invalid_batch_settlement_evm_refund_amount_invalid");
  // More than is left refunds what is left (480,000), as the reference facilitator has it.
  res = stack.call("POST", "/v1/infer", payer.refund_header(stack.offer(), 2 * kRoutePrice, Uint128{900'000}));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(protocol::decode_payment_response(*res.header("PAYMENT-RESPONSE"))->amount, "480000");
  EXPECT_EQ(onchain(payer.id).balance, 2 * kRoutePrice);
  EXPECT_FALSE(*stack.store->get(payer.id)) << "refunded in full";
}

TEST_F(GateChainE2E, ManyChannelsInParallel) {
  GateStack stack(chain_config(), facilitator_.get());
  constexpr int kSalts = 2, kRequests = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (std::uint8_t n = 1; n <= kPayers; ++n) {
    for (std::uint8_t salt = 10; salt < 10 + kSalts; ++salt) {
      threads.emplace_back([&, n, salt] {
        TestAgent payer = agent(stack.config, n, salt);
        http::BlockingHttpClient client;
        auto send = [&](const std::string& header) {
          auto res = client.request(http::ClientRequest::post(stack.url("/v1/infer"), "{}").header("PAYMENT-SIGNATURE", header));
          return res && res->status == 200;
        };
        if (!send(payer.deposit_header(stack.offer(), kRoutePrice, 1'000'000))) ++failures;
        for (int i = 2; i <= kRequests; ++i)
          if (!send(payer.voucher_header(stack.offer(), kRoutePrice * static_cast<Uint128>(i)))) ++failures;
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (std::uint8_t n = 1; n <= kPayers; ++n) {
    for (std::uint8_t salt = 10; salt < 10 + kSalts; ++salt) {
      const TestAgent payer = agent(stack.config, n, salt);
      EXPECT_EQ((*stack.store->get(payer.id))->chargedCumulativeAmount, kRoutePrice * kRequests);
      EXPECT_EQ(onchain(payer.id).balance, 1'000'000u) << "every deposit landed, each once";
    }
  }
  EXPECT_EQ(stack.gate->totals().open, static_cast<std::uint64_t>(kPayers * kSalts));
}

TEST_F(GateChainE2E, SameChannelContentionNeverDoubleCharges) {
  GateStack stack(chain_config(), facilitator_.get());
  TestAgent payer = agent(stack.config, 4, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", payer.deposit_header(stack.offer(), kRoutePrice, 1'000'000)).status, 200);
  // Eight clients race with the same next voucher: exactly one is charged, the others are told the
  // channel is busy or that their voucher is stale.
  const std::string header = payer.voucher_header(stack.offer(), 2 * kRoutePrice);
  std::atomic<int> ok{0}, busy{0}, stale{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      http::BlockingHttpClient client;
      auto res = client.request(http::ClientRequest::post(stack.url("/v1/infer"), "{}").header("PAYMENT-SIGNATURE", header));
      if (!res) return;
      if (res->status == 200) ++ok;
      const auto error = res->status == 402 ? payment_required(*res).error.value_or("") : "";
      if (error == "invalid_batch_settlement_evm_channel_busy") ++busy;
      if (error == "invalid_batch_settlement_evm_cumulative_amount_mismatch") ++stale;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(ok + busy + stale, 8);
  EXPECT_EQ((*stack.store->get(payer.id))->chargedCumulativeAmount, 2 * kRoutePrice);
}

TEST_F(GateChainE2E, RestartInTheMiddleRestoresEveryChannel) {
  GateStack stack(chain_config(), facilitator_.get());
  TestAgent a = agent(stack.config, 5, 1), b = agent(stack.config, 6, 1);
  for (auto* payer : {&a, &b}) {
    ASSERT_EQ(stack.call("POST", "/v1/infer", payer->deposit_header(stack.offer(), kRoutePrice, 1'000'000)).status, 200);
    ASSERT_EQ(stack.call("POST", "/v1/infer", payer->voucher_header(stack.offer(), 2 * kRoutePrice)).status, 200);
  }
  stack.restart();
  EXPECT_EQ(stack.gate->totals().open, 2u);
  for (auto* payer : {&a, &b}) {
    auto res = stack.call("POST", "/v1/infer", payer->voucher_header(stack.offer(), 3 * kRoutePrice));
    EXPECT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(*payment_response(res).channelState->chargedCumulativeAmount, 3 * kRoutePrice);
  }
  auto res = stack.call("POST", "/v1/infer", a.voucher_header(stack.offer(), 2 * kRoutePrice));
  EXPECT_EQ(payment_required(res).error, "invalid_batch_settlement_evm_cumulative_amount_mismatch");
  EXPECT_EQ(onchain(a.id).balance, 1'000'000u) << "a restart deposits nothing again";
}

}  // namespace
}  // namespace paychan::engine::facilitator::test
