// `paychan pay`, `paychan channels` and `paychan refund` as an agent runs them, against a real gate
// over loopback (facilitator double in this process).
#ifdef PAYCHAN_CLI
#include <gtest/gtest.h>

#include <filesystem>

#include "channel/hex.hpp"
#include "child_process.hpp"
#include "client_chain_support.hpp"
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
  EXPECT_NE(stack.metrics.render({}, {}).find("paychan_refusals_total{reason=\"payment_required\"} 1\n"), std::string::npos)
      << "only the first run asked for the offer; the next ones paid under the offer their channel was opened on";

  auto listed = run_command({PAYCHAN_CLI, "channels", "--state", state}, env);
  EXPECT_EQ(listed.status, 0) << listed.err;
  EXPECT_NE(listed.out.find("\"charged\":\"40000\""), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("\"signedTotal\":\"40000\""), std::string::npos) << listed.out;
  // Each run reserves ahead of its vouchers and returns what it did not sign when it ends.
  EXPECT_NE(listed.out.find("\"remainingBudget\":\"4960000\""), std::string::npos) << listed.out;

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

// pay prints an answer as it arrives: the streamer holds its second event until the first has
// reached pay's stdout, and meanwhile another pay on the same store is served (the store is held
// until an answer's head is in, not through its body). A reader that leaves early (`| head -1`) has pay stop, exit 1, and record
// the request as paid all the same. So does a body that falls silent for --max-time: pay prints
// what came, exits 1, and records the charge its head reported (part of the answer was served).
TEST(PayCli, PrintsAStreamedAnswerAsItArrives) {
  GateStack stack;
  http::test::Event release, resume;
  stack.embed([&release, &resume](http::Exchange& ex) -> http::Awaitable<void> {
    const bool endless = ex.request().target().ends_with("?endless");
    const bool silent = ex.request().target().ends_with("?silent");
    ex.response().set_header("Content-Type", "text/event-stream");
    if (!co_await ex.begin_stream()) co_return;
    (void)co_await ex.write("data: first\n\n");
    if (ex.request().target().ends_with("?quick")) {
      (void)co_await ex.end_stream();
      co_return;
    }
    if (endless) {
      for (int i = 0; i < 100'000 && co_await ex.write(std::string(1024, '.') + "\n"); ++i) {
      }
      co_return;
    }
    if (silent) co_await resume.wait();
    co_await release.wait();
    (void)co_await ex.write("data: second\n\n");
    (void)co_await ex.end_stream();
  });
  paychan::test::TempDir dir;
  const std::string key_file = dir.file("agent.key");
  std::ofstream(key_file) << kKey << "\n";
  std::filesystem::permissions(key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string state = dir.file("agent.sqlite");
  auto pay = [&](std::string_view target) {
    return Child({PAYCHAN_CLI, "pay", stack.url(target), "--key-file", key_file, "--state", state});
  };

  Child streaming = pay("/v1/stream");
  EXPECT_EQ(streaming.read_line(), "data: first\n\n") << "printed while the server holds the rest";
  auto meanwhile =
      run_command({PAYCHAN_CLI, "pay", stack.url("/v1/stream?quick"), "--key-file", key_file, "--state", state});
  EXPECT_EQ(meanwhile.status, 0) << meanwhile.err;
  EXPECT_EQ(meanwhile.out, "data: first\n\n");
  release.set();
  EXPECT_EQ(streaming.read_line(), "data: second\n\n");
  EXPECT_EQ(streaming.wait_exit(), 0);

  Child left = pay("/v1/stream?endless");
  EXPECT_EQ(left.read_line().substr(0, 12), "data: first\n");
  left.close_stdout();
  EXPECT_EQ(left.wait_exit(), 1);
  const auto charged = [&] {
    const auto listed = run_command({PAYCHAN_CLI, "channels", "--state", state, "--key-file", key_file});
    const auto at = listed.out.find("\"charged\":\"");
    return at == std::string::npos ? listed.err : listed.out.substr(at + 11, listed.out.find('"', at + 11) - at - 11);
  };
  EXPECT_EQ(charged(), "15000") << "the run whose reader left recorded its charge";

  auto cut = run_command(
      {PAYCHAN_CLI, "pay", stack.url("/v1/stream?silent"), "--key-file", key_file, "--state", state, "--max-time", "2s"});
  resume.set();
  EXPECT_EQ(cut.status, 1) << cut.err;
  EXPECT_EQ(cut.out, "data: first\n\n");
  EXPECT_NE(cut.err.find("the answer broke off (http_timeout"), std::string::npos) << cut.err;
  EXPECT_EQ(charged(), "20000") << "the run whose answer broke off recorded its charge";
  EXPECT_EQ(pay("/v1/stream").wait_exit(), 0);
  EXPECT_EQ(charged(), "25000");
  EXPECT_NE(stack.metrics.render({}, {}).find("paychan_paid_requests_total 5\n"), std::string::npos);
}

// A state file restored from a backup lags the gate: `pay` fails as not held (exit 1, nothing
// suspended) until it is run once with --accept-provider-state, and then pays on without it.
TEST(PayCli, ARestoredStateFilePaysOnOnceTheProvidersStateIsAccepted) {
  GateStack stack;
  paychan::test::TempDir dir;
  const std::string state = dir.file("agent.sqlite");
  const std::string backup = dir.file("backup.sqlite");
  const std::vector<std::string> env{"PAYCHAN_KEY=" + kKey};
  auto pay = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> args{PAYCHAN_CLI, "pay", stack.url("/v1/infer"), "-d", "{}", "--state", state};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(args, env);
  };
  ASSERT_EQ(pay().status, 0);
  for (const char* suffix : {"", "-wal"})
    if (std::filesystem::exists(state + suffix)) std::filesystem::copy_file(state + suffix, backup + suffix);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(pay().status, 0);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(state + suffix);
    if (std::filesystem::exists(backup + suffix)) std::filesystem::copy_file(backup + suffix, state + suffix);
  }

  auto refused = pay();
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.err.find("corrective_state_not_held"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--accept-provider-state"), std::string::npos) << refused.err;
  auto accepted = pay({"--accept-provider-state"});
  EXPECT_EQ(accepted.status, 0) << accepted.err;
  EXPECT_EQ(pay().status, 0);
  auto listed = run_command({PAYCHAN_CLI, "channels", "--state", state}, env);
  EXPECT_NE(listed.out.find("\"charged\":\"50000\""), std::string::npos) << listed.out;
}

// On a real anvil: pay, lose the store, pay again with --rpc (recovered, no second deposit), then
// the timed withdrawal in its two steps, the second asked too early first.
TEST(PayCli, RecoversFromChainAndWithdraws) {
  client::test::Devnet chain;
  if (!chain.ok()) GTEST_SKIP() << "no anvil: " << chain.error();
  if (!client::test::Devnet::have_artifacts()) GTEST_SKIP() << "no contracts artifacts (build the contracts target)";
  const auto& agent = chain.anvil().accounts().at(1);  // a dev account: it pays the withdrawals' gas
  const auto* deployment = chain.deploy({agent.key.address()});
  ASSERT_NE(deployment, nullptr);
  const auto terms = client::test::test_config_on(*deployment, chain.key(2).address());
  client::test::ChainMirror mirror(chain);
  GateStack stack(terms, &mirror);
  mirror.inner = &stack.facilitator;
  paychan::test::TempDir dir;
  const std::string state = dir.file("agent.sqlite");
  const std::vector<std::string> env{"PAYCHAN_KEY=" + agent.keyHex};
  const auto pay = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{PAYCHAN_CLI, "pay", stack.url("/v1/infer"), "-d", "{}", "--state", state,
                                  "--deposit-requests", "5", "-v"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(args, env);
  };
  for (int i = 0; i < 2; ++i) ASSERT_EQ(pay({}).status, 0);
  ASSERT_EQ(mirror.deposits.load(), 1);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(state + suffix);

  auto recovered = pay({"--rpc", chain.anvil().url()});
  EXPECT_EQ(recovered.status, 0) << recovered.err;
  EXPECT_NE(recovered.err.find("recovered channel"), std::string::npos) << recovered.err;
  EXPECT_NE(recovered.err.find("adopting the server's running total 20000"), std::string::npos) << recovered.err;
  EXPECT_EQ(recovered.err.find("deposit"), std::string::npos) << recovered.err;
  EXPECT_EQ(mirror.deposits.load(), 1) << "no second deposit";

  const auto withdraw = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{PAYCHAN_CLI, "withdraw", stack.url("/v1/infer"), "--state", state, "--rpc",
                                  chain.anvil().url()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_command(args, env);
  };
  auto started = withdraw({});
  EXPECT_EQ(started.status, 0) << started.err;
  EXPECT_NE(started.out.find("\"amount\":\"50000\""), std::string::npos) << started.out;
  EXPECT_NE(started.out.find("\"finalizableIn\":3600"), std::string::npos) << started.out;

  auto early = withdraw({"--finalize"});
  EXPECT_EQ(early.status, 1);
  EXPECT_NE(early.err.find("withdrawal_not_finalizable: finalizable at"), std::string::npos) << early.err;
  EXPECT_NE(early.err.find("in 3600 s"), std::string::npos) << early.err;

  ASSERT_TRUE(client::test::advance_time(chain, 3600));
  const Uint128 before = client::test::token_balance(chain, deployment->token, agent.key.address());
  auto done = withdraw({"--finalize"});
  EXPECT_EQ(done.status, 0) << done.err;
  EXPECT_NE(done.out.find("\"withdrawn\":\"50000\""), std::string::npos) << done.out;
  EXPECT_EQ(client::test::token_balance(chain, deployment->token, agent.key.address()), before + 50'000);
  auto listed = run_command({PAYCHAN_CLI, "channels", "--state", state}, env);
  EXPECT_NE(listed.out.find("\"status\":\"closed\""), std::string::npos) << listed.out;

  auto no_rpc = run_command({PAYCHAN_CLI, "withdraw", stack.url("/v1/infer"), "--state", state}, env);
  EXPECT_EQ(no_rpc.status, 2);
  EXPECT_NE(no_rpc.err.find("--rpc URL is required"), std::string::npos) << no_rpc.err;
}

}  // namespace
}  // namespace paychan::engine::gate::test
#endif  // PAYCHAN_CLI
