// The agent's timed withdrawal on a real anvil with the real contracts: a fresh chain per test
// (each moves the clock), a deposit the agent signed sent through the ERC-3009 collector, claims
// by the provider, then initiateWithdraw / finalizeWithdraw from the agent's library.
#include <gtest/gtest.h>

#include <mutex>

#include "client_chain_support.hpp"
#include "client_support.hpp"
#include "engine/client/withdrawal.hpp"
#include "temp_dir.hpp"

namespace paychan::engine::client::test {
namespace {

constexpr Uint128 kPrice = 10'000;
constexpr Uint128 kDeposit = 50'000;
constexpr std::uint64_t kDelay = 900;  // the contract's minimum withdrawDelay

// A chain with the contracts, and an agent (dev account 1: it pays gas for its withdrawals)
// holding one channel with a real deposit of kDeposit, recorded in its store.
struct FundedChannel {
  FundedChannel() {
    if (!chain.ok() || !Devnet::have_artifacts()) return;
    deployment = chain.deploy({chain.key(1).address()});
    if (deployment == nullptr) return;
    protocol::PaymentRequired required;
    required.accepts.push_back(chain_offer(*deployment, receiver.address(), chain.key(3).address(), kDelay, kPrice));
    offer = *choose_offer(required, ClientPolicy{{}, {}, kPrice, kDeposit, kDeposit, 5});
    config = channel_config_for(offer, keys, channel_salt(0));
    id = channel_id(batch_settlement_domain_separator(offer.chainId), config);
    const auto payload = deposit_payload(offer, config, id, kPrice, kDeposit, keys, now(), Bytes32{0x5a});
    const auto& deposit = std::get<protocol::DepositPayload>(*protocol::batch_payload(payload));
    EXPECT_TRUE(deposit_on_chain(chain, deposit));
    store = std::move(*persistence::ClientStore::open(dir.file("agent.sqlite")));
    persistence::ClientChannel ch;
    ch.channelId = id;
    ch.config = config;
    ch.network = offer.requirements.network;
    ch.method = "POST";
    ch.url = "http://provider.test/v1/infer";
    ch.offer = protocol::encode_payment_requirements(offer.requirements);
    ch.deposited = ch.balance = kDeposit;
    EXPECT_TRUE(store->put(ch));
    auto connected = ChannelChain::connect(chain.anvil().url(), keys.payer);
    EXPECT_TRUE(connected) << connected.error().to_string();
    if (connected) line = std::move(*connected);
  }

  // Dev account i's key; any key when anvil did not start (the test then skips).
  PrivateKey key_or_any(std::size_t i) { return chain.ok() ? chain.key(i) : *PrivateKey::from_bytes(Bytes32{1}); }
  [[nodiscard]] bool ready() const { return line != nullptr; }
  std::uint64_t now() { return chain.run(chain.rpc().latest_block())->timestamp; }
  evm::OnchainChannel onchain() { return *line->read(id); }
  persistence::ClientChannel stored() { return **store->get(id); }
  // The provider claims up to `total` with the agent's voucher for `total`.
  ::testing::AssertionResult claim(Uint128 total) {
    return claim_on_chain(chain, receiver, config, sign_voucher(offer.chainId, id, total, keys), total);
  }

  Devnet chain;
  const evm::Deployment* deployment = nullptr;
  ClientKeys keys{key_or_any(1), std::nullopt};
  PrivateKey receiver = key_or_any(2);
  ChosenOffer offer;
  ChannelConfig config;
  Bytes32 id{};
  paychan::test::TempDir dir;
  std::unique_ptr<persistence::ClientStore> store;
  std::unique_ptr<ChannelChain> line;
};

TEST(ClientWithdrawal, InitiatesThenFinalizesAfterTheDelayAndPaysBackExactlyWhatIsUnclaimed) {
  FundedChannel f;
  SKIP_WITHOUT_CHAIN(f);
  ASSERT_TRUE(f.claim(20'000));
  const Uint128 before = token_balance(f.chain, f.deployment->token, f.keys.payer.address());

  auto started = initiate_withdrawal(*f.store, *f.line, f.id);
  ASSERT_TRUE(started) << started.error().to_string();
  EXPECT_TRUE(started->sent);
  EXPECT_EQ(started->amount, 30'000u) << "everything unclaimed";
  EXPECT_EQ(started->finalizableAt, started->initiatedAt + kDelay);
  EXPECT_EQ(f.onchain().pendingWithdrawal.amount, 30'000u);
  EXPECT_EQ(f.stored().withdrawAmount, 30'000u);
  EXPECT_EQ(f.stored().withdrawInitiatedAt, started->initiatedAt);

  auto again = initiate_withdrawal(*f.store, *f.line, f.id);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_FALSE(again->sent) << "the pending withdrawal is adopted, not sent twice";
  EXPECT_EQ(again->initiatedAt, started->initiatedAt);

  auto early = finalize_withdrawal(*f.store, *f.line, f.id);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ErrorCode::withdrawal_not_finalizable);
  EXPECT_NE(early.error().detail.find("finalizable at " + utc_time(started->finalizableAt)), std::string::npos)
      << early.error().detail;
  EXPECT_NE(early.error().detail.find("in 900 s"), std::string::npos) << early.error().detail;
  EXPECT_EQ(token_balance(f.chain, f.deployment->token, f.keys.payer.address()), before) << "nothing moved";

  ASSERT_TRUE(advance_time(f.chain, kDelay));
  auto done = finalize_withdrawal(*f.store, *f.line, f.id);
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(done->paidOut, 30'000u);
  EXPECT_EQ(done->balance, 20'000u) << "what the provider claimed stays for its sweep";
  EXPECT_EQ(token_balance(f.chain, f.deployment->token, f.keys.payer.address()), before + 30'000);
  const auto after = f.onchain();
  EXPECT_EQ(after.balance, 20'000u);
  EXPECT_EQ(after.totalClaimed, 20'000u);
  EXPECT_EQ(after.pendingWithdrawal.initiatedAt, 0u);
  const auto ch = f.stored();
  EXPECT_TRUE(ch.closed);
  EXPECT_EQ(ch.withdrawAmount, 0u);
  EXPECT_EQ(ch.balance, 20'000u);

  auto twice = finalize_withdrawal(*f.store, *f.line, f.id);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::withdrawal_not_pending);
}

TEST(ClientWithdrawal, TheProviderMayStillClaimDuringTheDelayAndFinalizeTakesOnlyTheRest) {
  FundedChannel f;
  SKIP_WITHOUT_CHAIN(f);
  auto started = initiate_withdrawal(*f.store, *f.line, f.id);
  ASSERT_TRUE(started) << started.error().to_string();
  EXPECT_EQ(started->amount, kDeposit);
  ASSERT_TRUE(f.claim(35'000));  // the provider's watchtower claims what it holds
  const Uint128 before = token_balance(f.chain, f.deployment->token, f.keys.payer.address());
  ASSERT_TRUE(advance_time(f.chain, kDelay));
  auto done = finalize_withdrawal(*f.store, *f.line, f.id);
  ASSERT_TRUE(done) << done.error().to_string();
  EXPECT_EQ(done->paidOut, 15'000u);
  EXPECT_EQ(token_balance(f.chain, f.deployment->token, f.keys.payer.address()), before + 15'000);
  EXPECT_EQ(f.onchain().balance, 35'000u);
}

TEST(ClientWithdrawal, RefusesClearlyWhenNothingIsPendingOrNothingIsLeft) {
  FundedChannel f;
  SKIP_WITHOUT_CHAIN(f);
  auto none = finalize_withdrawal(*f.store, *f.line, f.id);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::withdrawal_not_pending);
  EXPECT_NE(none.error().detail.find("initiate one first"), std::string::npos) << none.error().detail;

  ASSERT_TRUE(f.claim(kDeposit));
  auto empty = initiate_withdrawal(*f.store, *f.line, f.id);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::withdrawal_nothing_left);
  EXPECT_EQ(f.onchain().pendingWithdrawal.initiatedAt, 0u) << "nothing was sent";
  EXPECT_EQ(f.stored().withdrawAmount, 0u) << "the channel is not left half-withdrawn";

  auto unknown = initiate_withdrawal(*f.store, *f.line, Bytes32{0x01});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::invalid_payload);
}

// A chain with the contracts, and an agent (dev account 1) whose client reads and writes it,
// paying providers on `terms` (dev account 2 is paid).
struct AgentOnChain {
  AgentOnChain() {
    if (!chain.ok() || !Devnet::have_artifacts()) return;
    deployment = chain.deploy({payer.address()});
    if (deployment == nullptr) return;
    terms = test_config_on(*deployment, chain.key(2).address());
    auto line = ChannelChain::connect(chain.anvil().url(), payer);
    EXPECT_TRUE(line) << line.error().to_string();
    if (!line) return;
    options.chain = std::shared_ptr<ChannelChain>(std::move(*line));
    client = std::make_unique<PaymentClient>(ClientKeys{payer, std::nullopt}, options, *store, http);
  }
  [[nodiscard]] bool ready() const { return client != nullptr; }
  Result<PaidResponse> fetch(const std::string& url) { return client->fetch(http::ClientRequest::post(url, "{}")); }

  Devnet chain;
  PrivateKey payer = chain.ok() ? chain.key(1) : *PrivateKey::from_bytes(Bytes32{1});
  const evm::Deployment* deployment = nullptr;
  gate::GateConfig terms;
  paychan::test::TempDir dir;
  std::unique_ptr<persistence::ClientStore> store = std::move(*persistence::ClientStore::open(dir.file("agent.sqlite")));
  ClientOptions options{test_policy(), {}, {}, 4};
  http::BlockingHttpClient http;
  std::unique_ptr<PaymentClient> client;
};

TEST(ClientWithdrawal, AServerThatBreaksTheRulesGetsItsChannelWithdrawnOnChain) {
  AgentOnChain a;
  SKIP_WITHOUT_CHAIN(a);
  // Takes the deposit on chain, then reports one unit more than it offered.
  ScriptedServer server(
      {kPrice}, [](Report& r) { r.chargedAmount = kPrice + 1, r.cumulative += 1; }, a.terms,
      [&](const protocol::DepositPayload& d) { EXPECT_TRUE(deposit_on_chain(a.chain, d)); });

  auto paid = a.fetch(server.url());
  ASSERT_FALSE(paid);
  EXPECT_EQ(paid.error().code, ErrorCode::response_overcharged);
  const auto ch = (*a.store->list()).at(0);
  EXPECT_FALSE(ch.suspended.empty());
  EXPECT_EQ(ch.withdrawAmount, 5 * kPrice) << "the whole deposit: nothing was claimed";
  EXPECT_NE(ch.withdrawInitiatedAt, 0u);
  const auto onchain = *a.options.chain->read(ch.channelId);
  EXPECT_EQ(onchain.balance, 5 * kPrice);
  EXPECT_EQ(onchain.pendingWithdrawal.amount, 5 * kPrice);
  EXPECT_EQ(onchain.pendingWithdrawal.initiatedAt, ch.withdrawInitiatedAt);
}

// A server that says a funded channel is short of funds, on every request: each refusal would make
// the agent deposit again (a receiver may refund what is unclaimed, so the word alone proves
// nothing). The chain tells: no deposit is made, the request fails, and nothing is suspended.
TEST(ClientWithdrawal, AServerThatSaysAFundedChannelIsShortOfFundsGetsNoDeposit) {
  AgentOnChain a;
  SKIP_WITHOUT_CHAIN(a);
  std::mutex mutex;
  Uint128 balance = 0;
  int deposits = 0;
  auto lying = [&](http::Exchange& ex) -> http::Handled {
    const auto paid = voucher_of(ex);
    if (!paid) return answer_402(ex, std::nullopt, {}, a.terms), std::nullopt;
    const auto& [v, deposit] = *paid;
    std::lock_guard lock(mutex);
    if (deposit == 0 || deposits > 0) {
      answer_402(ex, "invalid_batch_settlement_evm_cumulative_exceeds_balance", {}, a.terms);
      return std::nullopt;
    }
    const auto payload = *protocol::decode_payment_signature(*ex.request().header("PAYMENT-SIGNATURE"));
    EXPECT_TRUE(deposit_on_chain(a.chain, std::get<protocol::DepositPayload>(*protocol::batch_payload(payload))));
    ++deposits;
    balance += deposit;
    answer_paid(ex, v.voucher.channelId, kPrice, v.voucher.maxClaimableAmount, balance);
    return std::nullopt;
  };
  http::test::TestServer<decltype(lying)> server{lying};

  ASSERT_TRUE(a.fetch(server.url()));
  for (int i = 0; i < 3; ++i) {
    auto paid = a.fetch(server.url());
    ASSERT_FALSE(paid);
    EXPECT_EQ(paid.error().code, ErrorCode::response_balance_mismatch) << paid.error().to_string();
  }
  const auto ch = (*a.store->list()).at(0);
  EXPECT_EQ(a.options.chain->read(ch.channelId)->balance, 5 * kPrice) << "the first deposit only";
  EXPECT_EQ(deposits, 1);
  EXPECT_TRUE(ch.suspended.empty());
}

}  // namespace
}  // namespace paychan::engine::client::test
