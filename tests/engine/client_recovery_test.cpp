// Recovery after the agent lost its store, on a real anvil with the real contracts and the real
// gate: the agent's channel is found again on chain from its key and the gate's offer, resumes at
// totalClaimed, adopts the gate's corrective running total, and pays on without a second deposit.
// The gate's facilitator is ChainMirror (client_chain_support.hpp): the double, with deposits
// also sent on chain.
#include <gtest/gtest.h>

#include <filesystem>

#include "client_chain_support.hpp"
#include "client_support.hpp"
#include "engine/client/recovery.hpp"

namespace paychan::engine::client::test {
namespace {

constexpr Uint128 kPrice = 10'000;

void remove_store(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

// A real anvil with the contracts and the real gate on it (its facilitator the double, with
// deposits also sent on chain), paid by agents with test_key(1).
struct GateOnChain {
  GateOnChain() {
    if (!chain.ok() || !Devnet::have_artifacts()) return;
    deployment = chain.deploy({payer.address()});
    if (deployment == nullptr) return;
    stack = std::make_unique<gate::test::GateStack>(test_config_on(*deployment, receiver.address()), &mirror);
    mirror.inner = &stack->facilitator;
  }
  [[nodiscard]] bool ready() const { return stack != nullptr; }
  [[nodiscard]] http::ClientRequest infer() const { return http::ClientRequest::post(stack->url("/v1/infer"), "{}"); }
  // An agent with its store at `path` pays `n` requests and ends (flushing): its channel's id.
  Bytes32 pay(const std::string& path, int n) {
    Agent agent(path);
    for (int i = 0; i < n; ++i) EXPECT_TRUE(agent.client.fetch(infer())) << i;
    return (*agent.store->list()).at(0).channelId;
  }
  // The agent at `path` pays 3 prices; the receiver claims them on chain and the gate loses its
  // store (it comes back on another port). The agent's store then lags as `lagging` edits it.
  template <typename Edit>
  Bytes32 pay_then_gate_loses_store(const std::string& path, Edit lagging) {
    const Bytes32 id = pay(path, 3);
    EXPECT_TRUE(claim_held(id));
    stack->facilitator.set_claimed(id, 3 * kPrice);
    stack->lose_store();
    auto ch = **Agent(path).store->get(id);
    ch.url = stack->url("/v1/infer");  // a refund goes to the route that opened the channel
    lagging(ch);
    EXPECT_TRUE(Agent(path).store->put(ch));
    return id;
  }
  // The receiver claims on chain everything the gate holds on `id`.
  ::testing::AssertionResult claim_held(const Bytes32& id) {
    const auto held = **stack->store->get(id);
    return claim_on_chain(chain, receiver, held.config, SignedVoucher{{id, held.signedMaxClaimable}, held.signature},
                          held.signedMaxClaimable);
  }

  Devnet chain;
  PrivateKey payer = test_key(1);  // the Agent's key
  PrivateKey receiver = chain.ok() ? chain.key(2) : test_key(2);
  const evm::Deployment* deployment = nullptr;
  ChainMirror mirror{chain};
  std::unique_ptr<gate::test::GateStack> stack;
};

// An agent on the store at `path` with a line to `f`'s chain.
struct ChainAgent {
  ChainAgent(GateOnChain& f, const std::string& path)
      : store(std::move(*persistence::ClientStore::open(path))),
        client(ClientKeys{f.payer, std::nullopt}, ClientOptions{test_policy(), {}, {}, 4, nullptr, line(f)}, *store, http) {}
  static std::shared_ptr<ChannelChain> line(GateOnChain& f) {
    auto connected = ChannelChain::connect(f.chain.anvil().url(), f.payer);
    if (!connected) ADD_FAILURE() << connected.error().to_string();
    return connected ? std::shared_ptr<ChannelChain>(std::move(*connected)) : nullptr;
  }
  std::unique_ptr<persistence::ClientStore> store;
  http::BlockingHttpClient http;
  PaymentClient client;
};

TEST(ClientRecovery, ALostStoreIsFoundOnChainAndResumesFromTotalClaimedWithoutASecondDeposit) {
  GateOnChain f;
  SKIP_WITHOUT_CHAIN(f);
  auto& chain = f.chain;
  auto& stack = *f.stack;
  const auto& payer = f.payer;
  const auto infer = [&] { return f.infer(); };

  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  const Bytes32 id = f.pay(path, 3);
  auto connected = ChannelChain::connect(chain.anvil().url(), payer);
  ASSERT_TRUE(connected) << connected.error().to_string();
  ChannelChain* const line = connected->get();
  ASSERT_EQ(line->read(id)->balance, 5 * kPrice) << "the deposit is on chain";

  // The operator claims what the gate holds so far; then the agent pays once more.
  ASSERT_EQ((*stack.store->get(id))->signedMaxClaimable, 3 * kPrice);
  ASSERT_TRUE(f.claim_held(id));
  {
    Agent agent(path);
    ASSERT_TRUE(agent.client.fetch(infer()));
  }
  remove_store(path);
  const Uint128 tokens = token_balance(chain, f.deployment->token, payer.address());
  const int deposits = f.mirror.deposits.load();

  // A fresh store: the library's recovery call finds the channel from the key and the offer.
  auto store = std::move(*persistence::ClientStore::open(path));
  http::BlockingHttpClient http;
  std::vector<std::string> steps;
  ClientOptions options{test_policy(), {}, [&](std::string_view step) { steps.emplace_back(step); }, 4, nullptr,
                        std::shared_ptr<ChannelChain>(std::move(*connected))};
  PaymentClient client(ClientKeys{payer, std::nullopt}, options, *store, http);
  const auto served = stack.metrics.paid_requests.load();
  auto recovered = client.recover(infer());
  ASSERT_TRUE(recovered) << recovered.error().to_string();
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ(recovered->at(0).channelId, id);
  EXPECT_EQ(recovered->at(0).charged, 3 * kPrice) << "resumes at totalClaimed";
  EXPECT_EQ(recovered->at(0).balance, 5 * kPrice);
  EXPECT_EQ(recovered->at(0).heldCeiling, kUint128Max) << "what the lost store signed is unknown";
  EXPECT_EQ(stack.metrics.paid_requests.load(), served) << "recovery pays nothing";

  // The next request meets the gate's running total (4 prices), adopts it and pays the fifth.
  auto paid = client.fetch(infer());
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(paid->response.status, 200);
  EXPECT_EQ(paid->channelId, id);
  EXPECT_EQ(paid->deposited, 0u);
  EXPECT_EQ(paid->charged, kPrice);
  ASSERT_TRUE(client.flush());
  const auto channels = *store->list();
  ASSERT_EQ(channels.size(), 1u);
  EXPECT_EQ(channels[0].charged, 5 * kPrice);
  EXPECT_EQ(channels[0].heldCeiling, 5 * kPrice) << "known once the gate answered";
  EXPECT_EQ((*stack.store->get(id))->chargedCumulativeAmount, 5 * kPrice);
  EXPECT_EQ(f.mirror.deposits.load(), deposits) << "no second deposit";
  EXPECT_EQ(token_balance(chain, f.deployment->token, payer.address()), tokens);
  const auto onchain = *line->read(id);
  EXPECT_EQ(onchain.balance, 5 * kPrice);
  EXPECT_EQ(onchain.totalClaimed, 3 * kPrice);
  const auto said = [&](std::string_view text) {
    return std::any_of(steps.begin(), steps.end(), [&](const std::string& s) { return s.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(said("adopting the server's running total 40000"));
}

// The same, with the agent asking for a refund, after three charges in a row taken up for answers
// that never came: a refund signs nothing above what the server holds, so the claimed total it
// takes up is not counted, and the refund is asked again at that total. (The gate, which lost its
// record of the channel, then refuses it as missing_channel: it does not take a refund for a
// channel it does not know. Open.)
TEST(ClientRecovery, ARefundToAGateThatLostItsStoreTakesUpTheClaimedTotalUncounted) {
  GateOnChain f;
  SKIP_WITHOUT_CHAIN(f);
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  const Bytes32 id = f.pay_then_gate_loses_store(path, [](persistence::ClientChannel& ch) {
    ch.charged = kPrice;
    ch.unservedCharges = 3;
  });
  ChainAgent agent(f, path);
  auto refunded = agent.client.refund(id, std::nullopt);
  ASSERT_FALSE(refunded);
  EXPECT_EQ(refunded.error().code, ErrorCode::invalid_batch_settlement_evm_missing_channel)
      << "asked again at the claimed total, not refused as unserved: " << refunded.error().to_string();
}

// The gate lost its store after the operator claimed 3 prices, and the agent's store lags (one
// price): the gate starts from the claimed total and has no voucher to show, so its refusal
// carries no corrective state. With a chain the agent takes up the claimed total and pays on.
TEST(ClientRecovery, AGateThatLostItsStoreIsPaidOnFromTheClaimedTotal) {
  GateOnChain f;
  SKIP_WITHOUT_CHAIN(f);
  paychan::test::TempDir dir;
  const std::string path = dir.file("agent.sqlite");
  const Bytes32 id = f.pay_then_gate_loses_store(path, [](persistence::ClientChannel& ch) {
    ch.charged = kPrice;  // as if two answers had been lost
  });
  ChainAgent agent(f, path);
  auto& store = agent.store;
  auto& client = agent.client;
  auto& stack = *f.stack;
  auto paid = client.fetch(f.infer());
  ASSERT_TRUE(paid) << paid.error().to_string();
  EXPECT_EQ(paid->charged, kPrice);
  EXPECT_EQ(paid->takenUp, 2 * kPrice);
  ASSERT_TRUE(client.flush());
  EXPECT_EQ((*store->get(id))->charged, 4 * kPrice);
  EXPECT_EQ((*stack.store->get(id))->chargedCumulativeAmount, 4 * kPrice);
}

TEST(ClientRecovery, WithoutAStoreRecordAFundedSaltIsTakenOverNotOpenedAgain) {
  Devnet chain;
  if (!chain.ok()) GTEST_SKIP() << "no anvil: " << chain.error();
  if (!Devnet::have_artifacts()) GTEST_SKIP() << "no contracts artifacts (build the contracts target)";
  const PrivateKey payer = test_key(1);
  const auto* deployment = chain.deploy({payer.address()});
  ASSERT_NE(deployment, nullptr);
  // Salt 0 holds nothing (never funded, or refunded in full before any claim: the chain cannot
  // tell them apart); salt 1 holds a deposit. Recovery scans past the gap.
  protocol::PaymentRequired required;
  required.accepts.push_back(chain_offer(*deployment, chain.key(2).address(), test_key(202).address(), 900, kPrice));
  const auto offer = *choose_offer(required, test_policy());
  const ClientKeys keys{payer, std::nullopt};
  const auto cfg1 = channel_config_for(offer, keys, channel_salt(1));
  const auto id1 = channel_id(batch_settlement_domain_separator(offer.chainId), cfg1);
  const auto payload = deposit_payload(offer, cfg1, id1, kPrice, 7 * kPrice, keys,
                                       chain.run(chain.rpc().latest_block())->timestamp, Bytes32{0x77});
  ASSERT_TRUE(deposit_on_chain(chain, std::get<protocol::DepositPayload>(*protocol::batch_payload(payload))));

  auto line = ChannelChain::connect(chain.anvil().url(), payer);
  ASSERT_TRUE(line);
  auto found = channels_from_chain(**line, offer, keys, "POST", "http://provider.test/v1/infer");
  ASSERT_TRUE(found) << found.error().to_string();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->at(0).channelId, id1);
  EXPECT_EQ(found->at(0).config.salt, channel_salt(1));
  EXPECT_EQ(found->at(0).balance, 7 * kPrice);
  EXPECT_EQ(found->at(0).charged, 0u);

  auto elsewhere = ChannelChain::connect(chain.anvil().url(), payer);
  auto other = offer;
  other.chainId = 8453;
  auto refused = channel_from_chain(**elsewhere, other, keys, 0, "POST", "u");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_network);
}

}  // namespace
}  // namespace paychan::engine::client::test
