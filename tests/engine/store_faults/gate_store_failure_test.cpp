// The gate when its store cannot make a charge durable (the disk's flush fails: a test double,
// ../../persistence/sync_faults/failing_fdatasync.hpp says why): the paid request is answered 503
// without PAYMENT-RESPONSE, nothing is charged in the gate's table or its store, and once the disk
// recovers the same voucher is served.
#include <gtest/gtest.h>

#include "failing_fdatasync.hpp"
#include "gate_stack.hpp"

namespace paychan::engine::gate::test {
namespace {

constexpr Uint128 kPrice = 10'000;  // test_config()'s

TEST(GateStoreFailure, AChargeThatCannotBeMadeDurableIsAnswered503AndCommitsNothing) {
  GateStack stack;
  TestAgent agent(test_key(1), stack.config, 1);
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000)).status, 200);

  // A read folds the log now, so that no idle fold's flush takes the failure meant for the charge.
  ASSERT_TRUE(stack.store->get(agent.id));
  const int failed_before = persistence::test::log_syncs_failed();
  persistence::test::fail_next_log_syncs(1);
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 503) << res.body;
  EXPECT_NE(res.body.find("store_failed"), std::string::npos) << res.body;
  EXPECT_EQ(res.header("Retry-After"), "1");
  EXPECT_FALSE(res.header("PAYMENT-RESPONSE").has_value());
  EXPECT_EQ(persistence::test::log_syncs_failed() - failed_before, 1);
  EXPECT_EQ(stack.gate->channels().find(agent.id)->chargedCumulativeAmount, kPrice) << "the table took the charge";
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, kPrice) << "the store took the charge";

  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 2 * kPrice);
}

// A withdrawal seen on a request the gate refuses is kept durably (GateE2E.AWithdrawalSeenOnA-
// RefusedRequestIsKept). A store that cannot keep it answers 503 store_failed, which the operator's
// log shows, and the next request asks the chain again.
TEST(GateStoreFailure, AWithdrawalTheStoreCannotKeepIsAnswered503) {
  GateStack stack;
  TestAgent agent(test_key(2), stack.config, 1);
  stack.open_then_withdraw(agent, kPrice);

  ASSERT_TRUE(stack.store->get(agent.id));  // folded now: no idle fold takes the failure
  persistence::test::fail_next_log_syncs(1);
  auto res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(res.status, 503) << res.body;
  EXPECT_NE(res.body.find("store_failed"), std::string::npos) << res.body;
  EXPECT_EQ((*stack.store->get(agent.id))->onchain.withdrawRequestedAt, 0u);

  const int verifies = stack.facilitator.verifies.load();
  res = stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), 2 * kPrice));
  EXPECT_EQ(payment_required(res).error, "channel_withdrawal_pending") << res.body;
  EXPECT_EQ(stack.facilitator.verifies.load(), verifies + 1) << "the lost view was not asked for again";
  EXPECT_NE((*stack.store->get(agent.id))->onchain.withdrawRequestedAt, 0u);
}

}  // namespace
}  // namespace paychan::engine::gate::test
