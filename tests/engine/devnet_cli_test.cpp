// `paychan devnet` end to end: the real binary starts anvil, deploys and mints, writes its JSON,
// serves until SIGINT, then stops the chain and removes the file.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "channel/eip712.hpp"
#include "child_process.hpp"
#include "devnet_fixture.hpp"
#include "engine/chain/abi.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "temp_dir.hpp"

#ifdef PAYCHAN_CLI
namespace paychan::engine::evm {
namespace {

TEST(DevnetCli, ServesTheDeploymentUntilInterrupted) {
  if (!test::Devnet::have_artifacts()) GTEST_SKIP() << "no artifacts in " << default_artifacts_dir() << ": build `contracts`";
  paychan::test::TempDir dir;
  const std::string out = dir.file("devnet.json");
  const std::string funded = "0x1111111111111111111111111111111111111111";
  gate::test::Child devnet({PAYCHAN_CLI, "devnet", "--port", "0", "--fund", funded, "--mint", "$5", "--out", out});
  // The file appears, complete, once the chain is ready (the deadline only turns a hang into a failure).
  for (int i = 0; i < 600 && !std::filesystem::exists(out); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(std::filesystem::exists(out));
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::ifstream in(out);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  ASSERT_TRUE(doc.IsObject()) << text;
  EXPECT_STREQ(doc["network"].GetString(), "eip155:31337");
  EXPECT_STREQ(doc["contracts"]["batchSettlement"].GetString(), "0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003");
  ASSERT_EQ(doc["accounts"].Size(), 1u);
  EXPECT_FALSE(doc["accounts"][0].HasMember("privateKey")) << "a --fund address has no key to show";

  RpcClient rpc(doc["rpcUrl"].GetString());
  const Address token = *parse_address(doc["asset"]["address"].GetString());
  EXPECT_FALSE(http::run_blocking(rpc.code(kBatchSettlementAddress))->empty());
  EXPECT_FALSE(http::run_blocking(rpc.code(kErc3009CollectorAddress))->empty());
  auto balance = http::run_blocking(rpc.call(token, chain::erc20_balance_of_call(*parse_address(funded))));
  ASSERT_TRUE(balance) << balance.error().to_string();
  EXPECT_EQ(*chain::AbiReader(*balance).uint128(0), 5'000'000u) << "$5 of a 6-decimal token";

  EXPECT_EQ(devnet.interrupt(), 0);
  EXPECT_FALSE(std::filesystem::exists(out)) << "no stale file pointing at a stopped chain";
  EXPECT_FALSE(http::run_blocking(rpc.chain_id())) << "the chain stopped with the command";
}

TEST(DevnetCli, MissingArtifactsAreReportedBeforeAnythingStarts) {
  auto run = gate::test::run_command({PAYCHAN_CLI, "devnet", "--port", "0", "--artifacts", "/nonexistent"});
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("contracts"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace paychan::engine::evm
#endif
