// `paychan pay`, `paychan channels` and `paychan refund` as an agent runs them, against a real gate
// over loopback (facilitator double in this process).
#ifdef PAYCHAN_CLI
#include <gtest/gtest.h>

#include "channel/hex.hpp"
#include "child_process.hpp"
#include "gate_stack.hpp"

namespace paychan::engine::gate::test {
namespace {

const std::string kKey = "0x1100000000000000000000000000000000000000000000000000000000000001";  // test_key(1)

TEST(PayCli, PaysListsAndRefunds) {
  GateStack stack;
  paychan::test::TempDir dir;
  const std::string state = dir.file("agent.sqlite");
  const std::vector<std::string> env{"PAYCHAN_KEY=" + kKey};
  auto pay = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{PAYCHAN_CLI, "pay", stack.url("/v1/infer"), "-d", "{}", "--state", state,
                                  "--deposit-requests", "5"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(args, env);
  };

  auto first = pay({"-v", "-H", "X-Trace: 1"});
  EXPECT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(first.out, "{\"ok\":true}");
  EXPECT_NE(first.err.find("* deposit 50000 + voucher for 10000"), std::string::npos) << first.err;
  EXPECT_EQ(first.err.find(kKey.substr(2)), std::string::npos) << "the key is never printed";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(pay({}).status, 0);

  auto listed = run_command({PAYCHAN_CLI, "channels", "--state", state}, env);
  EXPECT_EQ(listed.status, 0) << listed.err;
  EXPECT_NE(listed.out.find("\"charged\":\"40000\""), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("\"signedTotal\":\"40000\""), std::string::npos) << listed.out;
  // The first voucher reserved 32 prices ahead of itself: 10000 + 320000.
  EXPECT_NE(listed.out.find("\"remainingBudget\":\"4670000\""), std::string::npos) << listed.out;

  auto refused = pay({"--budget", "$0.04"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("policy_budget_exceeded"), std::string::npos) << refused.err;
  auto too_dear = pay({"--max-price", "$0.001"});
  EXPECT_EQ(too_dear.status, 1);
  EXPECT_NE(too_dear.err.find("policy_price_exceeded"), std::string::npos) << too_dear.err;

  const auto id = listed.out.substr(listed.out.find("0x"), 66);
  auto refund = run_command({PAYCHAN_CLI, "refund", id, "--state", state}, env);
  EXPECT_EQ(refund.status, 0) << refund.err;
  EXPECT_NE(refund.out.find("\"amount\":\"10000\""), std::string::npos) << refund.out;
  listed = run_command({PAYCHAN_CLI, "channels", "--state", state}, env);
  EXPECT_NE(listed.out.find("\"status\":\"closed\""), std::string::npos) << listed.out;

  auto unreachable = run_command({PAYCHAN_CLI, "pay", "http://127.0.0.1:1/", "--state", state}, env);
  EXPECT_EQ(unreachable.status, 2);
  auto no_key = run_command({PAYCHAN_CLI, "pay", stack.url("/v1/infer"), "--state", state, "--key-env", "NOPE"});
  EXPECT_EQ(no_key.status, 2);
}

}  // namespace
}  // namespace paychan::engine::gate::test
#endif  // PAYCHAN_CLI
