// paychan's contracts deployed on anvil from the `contracts` target's artifacts: code at the
// canonical addresses that answers as the canonical contracts do (their EIP-712 domain uses the
// canonical address), the collector bound to the canonical settlement, TestUSDC minted.
#include "engine/evm/deployment.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "devnet_fixture.hpp"
#include "engine/chain/abi.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/chain/multicall3.hpp"
#include "temp_dir.hpp"

namespace paychan::engine::evm {
namespace {

using test::Devnet;

TEST(Deployment, ContractsAnswerAtTheCanonicalAddresses) {
  if (!Devnet::have_artifacts()) GTEST_SKIP() << "no artifacts in " << default_artifacts_dir() << ": build `contracts`";
  Devnet chain;
  ASSERT_TRUE(chain.ok()) << chain.error();
  const Address payer = chain.key(1).address();
  const Address other = chain.key(2).address();
  const Deployment* d = chain.deploy({payer, other});
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->settlement, kBatchSettlementAddress);
  EXPECT_EQ(d->collector, kErc3009CollectorAddress);
  EXPECT_EQ(d->chainId, 31337u);

  // The settlement contract's voucher digest is ours for chain 31337 at the canonical address:
  // its EIP-712 domain was built from address(this), so the copy answers as the canonical one.
  Bytes32 channel{};
  channel.fill(0xab);
  const Voucher voucher{channel, 1'234'567};
  auto digest = chain.run(chain.rpc().call(
      d->settlement, chain::encode_call("getVoucherDigest(bytes32,uint128)",
                                        {chain::AbiValue::word(channel), chain::AbiValue::uint(U256{voucher.maxClaimableAmount})})));
  ASSERT_TRUE(digest) << digest.error().to_string();
  EXPECT_EQ(*chain::AbiReader(*digest).word(0), voucher_digest(batch_settlement_domain_separator(31337), voucher));
  auto state = chain.run(chain.rpc().call(d->settlement, chain::channels_call(channel)));
  ASSERT_TRUE(state) << state.error().to_string();
  EXPECT_EQ(chain::decode_channels(*state)->balance, 0u);

  auto bound = chain.run(chain.rpc().call(d->collector, chain::encode_call("x402BatchSettlement()", {})));
  ASSERT_TRUE(bound) << bound.error().to_string();
  EXPECT_EQ(*chain::AbiReader(*bound).address(0), kBatchSettlementAddress);

  auto decimals = chain.run(chain.rpc().call(d->token, chain::encode_call("decimals()", {})));
  ASSERT_TRUE(decimals);
  EXPECT_EQ(*chain::AbiReader(*decimals).uint64(0), 6u);
  auto separator = chain.run(chain.rpc().call(d->token, chain::encode_call("DOMAIN_SEPARATOR()", {})));
  ASSERT_TRUE(separator);
  EXPECT_EQ(*chain::AbiReader(*separator).word(0), domain_separator(Eip712Domain{"USDC", "2", 31337, d->token}));
  for (const Address& funded : {payer, other}) {
    auto balance = chain.run(chain.rpc().call(d->token, chain::erc20_balance_of_call(funded)));
    ASSERT_TRUE(balance);
    EXPECT_EQ(*chain::AbiReader(*balance).uint128(0), DeploymentOptions{}.mintAmount);
  }
  auto unfunded = chain.run(chain.rpc().call(d->token, chain::erc20_balance_of_call(chain.key(3).address())));
  EXPECT_EQ(*chain::AbiReader(*unfunded).uint128(0), 0u);

  // Multicall3's stand-in answers aggregate3 at the canonical address: here, one call that fails
  // (allowed to) and one that reads the token's decimals.
  const chain::Call3 calls[] = {{d->token, true, chain::encode_call("nosuch()", {})},
                                {d->token, false, chain::encode_call("decimals()", {})}};
  auto aggregated = chain.run(chain.rpc().call(chain::kMulticall3Address, chain::aggregate3_call(calls)));
  ASSERT_TRUE(aggregated) << aggregated.error().to_string();
  auto outcomes = chain::decode_aggregate3(*aggregated, 2);
  ASSERT_TRUE(outcomes) << outcomes.error().to_string();
  EXPECT_FALSE((*outcomes)[0].success);
  EXPECT_TRUE((*outcomes)[1].success);
  EXPECT_EQ(*chain::AbiReader((*outcomes)[1].returnData).uint64(0), 6u);
}

TEST(Deployment, ArtifactsAreCheckedBeforeUse) {
  paychan::test::TempDir dir;
  auto write = [&](const char* name, const std::string& text) {
    std::ofstream(dir.file(name)) << text;
    return load_artifact(dir.file(name));
  };
  EXPECT_EQ(load_artifact(dir.file("absent.json")).error().code, ErrorCode::invalid_config);
  EXPECT_EQ(write("a.json", "not json").error().code, ErrorCode::invalid_config);
  EXPECT_EQ(write("b.json", R"({"contractName":"X","bytecode":"0x60","deployedBytecode":"zz"})").error().code,
            ErrorCode::invalid_config);
  EXPECT_EQ(write("c.json", R"({"contractName":"X","bytecode":"0x","deployedBytecode":"0x60"})").error().code,
            ErrorCode::invalid_config)
      << "empty creation code";
  auto ok = write("d.json", R"({"contractName":"X","abi":[],"bytecode":"0x6001","deployedBytecode":"0x60"})");
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(ok->contractName, "X");
  EXPECT_EQ(ok->bytecode, (Bytes{0x60, 0x01}));

  Devnet chain;
  ASSERT_TRUE(chain.ok()) << chain.error();
  DeploymentOptions options;
  options.artifacts = dir.path;  // holds no X402BatchSettlement.json
  auto deployed = chain.run(deploy_paychan(chain.rpc(), chain.sender(), options));
  ASSERT_FALSE(deployed);
  EXPECT_EQ(deployed.error().code, ErrorCode::invalid_config);
}

}  // namespace
}  // namespace paychan::engine::evm
