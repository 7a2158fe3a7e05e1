// Anvil as a child process: start, readiness, the published dev accounts, stop, and the errors
// for a binary that is missing or is not anvil.
#include "engine/evm/anvil.hpp"

#include <gtest/gtest.h>

#include "devnet_fixture.hpp"

namespace paychan::engine::evm {
namespace {

TEST(Anvil, StartsReadyAndStopsWithItsObject) {
  std::string url;
  {
    test::Devnet chain;
    ASSERT_TRUE(chain.ok()) << chain.error();
    url = chain.anvil().url();
    EXPECT_NE(chain.anvil().port(), 0);
    EXPECT_EQ(*chain.run(chain.rpc().chain_id()), 31337u) << "ready means answering";
    ASSERT_EQ(chain.anvil().accounts().size(), 10u);
    // Account 0 of anvil's default mnemonic, the one every Foundry tutorial shows.
    EXPECT_EQ(to_checksum_hex(chain.key(0).address()), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    EXPECT_EQ(chain.anvil().accounts()[0].keyHex, "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  }
  RpcClient rpc(url);
  auto gone = http::run_blocking(rpc.chain_id());
  ASSERT_FALSE(gone) << "the node stopped with its Anvil object";
  EXPECT_EQ(gone.error().code, ErrorCode::invalid_batch_settlement_evm_rpc_read_failed);
}

TEST(Anvil, OptionsReachTheNode) {
  AnvilOptions options;
  options.chainId = 84532;
  options.accounts = 3;
  test::Devnet chain(options);
  ASSERT_TRUE(chain.ok()) << chain.error();
  EXPECT_EQ(*chain.run(chain.rpc().chain_id()), 84532u);
  EXPECT_EQ(chain.anvil().accounts().size(), 3u);
}

TEST(Anvil, TwoNodesRunSideBySide) {
  test::Devnet a, b;
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a.anvil().port(), b.anvil().port());
}

TEST(Anvil, ABinaryThatIsNotThereOrNotAnvilIsAConfigError) {
  AnvilOptions missing;
  missing.binary = "/nonexistent/anvil";
  auto a = Anvil::start(missing);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::invalid_config);

  AnvilOptions not_anvil;
  not_anvil.binary = "/bin/false";  // exits at once without announcing a port
  auto b = Anvil::start(not_anvil);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::invalid_config);
  EXPECT_NE(b.error().detail.find("exited"), std::string::npos) << b.error().detail;
}

TEST(Anvil, BinaryLookupHonoursPaychanAnvil) {
  auto found = find_anvil();
  ASSERT_TRUE(found) << found.error().to_string();
  ::setenv("PAYCHAN_ANVIL", "/nonexistent/anvil", 1);
  auto overridden = find_anvil();
  ::unsetenv("PAYCHAN_ANVIL");
  ASSERT_FALSE(overridden);
  EXPECT_NE(overridden.error().detail.find("PAYCHAN_ANVIL"), std::string::npos);
}

}  // namespace
}  // namespace paychan::engine::evm
