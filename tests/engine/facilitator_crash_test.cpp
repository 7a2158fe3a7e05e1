// The real `paychan facilitator` binary dying between sending a claim and learning its receipt, at
// the instants that matter: right after the journal recorded the signed transaction (never
// broadcast), right after the node accepted it, and right after it journaled a replacement.
// Restarted, it resolves the journal, and the server's retried /settle gets the one claim
// transaction — never a second. The same for a deposit that deploys the payer's wallet with it
// (one Multicall3 transaction).
//
// The crash is injected with PAYCHAN_FACILITATOR_FAULT (the binary _exits at that instant, as kill -9
// would, with status 86): a test cannot otherwise stop a process between two of its own statements.
#ifdef PAYCHAN_CLI
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>

#include "child_process.hpp"
#include "engine/chain/abi.hpp"
#include "engine/http/client.hpp"
#include "facilitator_support.hpp"
#include "smart_wallet_support.hpp"

namespace paychan::engine::facilitator::test {
namespace {

using gate::test::Child;

constexpr const char* kServerToken = "crash-test-server-token-0123456789abcdef";

class FacilitatorCrashTest : public FacilitatorChainTest {
 protected:
  void SetUp() override {
    FacilitatorChainTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    config_ = dir_.file("facilitator.json");
    receiver_ = fresh_receiver();
    (void)dir_.secret_file("signer.key", devnet_->anvil().accounts().at(1).keyHex);
    (void)dir_.secret_file("authorizer.key", to_hex(secret_from(kAuthorizerSeed)));
    (void)dir_.secret_file("server.token", kServerToken);
    write_config(R"("receiptTimeoutSeconds": 20)");
  }

  // The binary's config: one network (with `network`'s members too), one client acting for
  // receiver_, and `timing` (JSON members).
  void write_config(const std::string& timing, const std::string& network = "") {
    std::ofstream(config_) << R"({"networks": {"eip155:)" << devnet_->chain_id() << R"(": {)" << network
                           << R"("rpc": ")" << devnet_->anvil().url() << R"(", "batchSettlement": ")"
                           << to_checksum_hex(deployment_->settlement) << R"(", "erc3009Collector": ")"
                           << to_checksum_hex(deployment_->collector) << R"("}},
      "signerKeyFile": ")" << dir_.file("signer.key") << R"(",
      "receiverAuthorizerKeyFile": ")" << dir_.file("authorizer.key") << R"(",
      "clients": [{"name": "server", "tokenFile": ")" << dir_.file("server.token") << R"(",
                   "receivers": [")" << to_checksum_hex(receiver_) << R"("]}],
      "journal": ")" << dir_.file("binary-journal.sqlite") << R"(",
      "listen": "127.0.0.1:0", )" << timing << "}";
  }

  // Starts the binary (with `fault` in its environment, if any); returns its port or 0.
  std::unique_ptr<Child> start(const char* fault, std::uint16_t& port) {
    if (fault != nullptr) setenv("PAYCHAN_FACILITATOR_FAULT", fault, 1);
    auto child = std::make_unique<Child>(std::vector<std::string>{PAYCHAN_CLI, "facilitator", "--config", config_});
    unsetenv("PAYCHAN_FACILITATOR_FAULT");
    const std::string line = child->read_line();
    const auto at = line.find("\"port\":");
    port = at == std::string::npos ? 0 : static_cast<std::uint16_t>(std::stoi(line.substr(at + 7)));
    return child;
  }

  Result<http::ClientResponse> post_settle(std::uint16_t port, const protocol::FacilitatorRequest& r) {
    http::BlockingHttpClient client;
    return client.request(http::ClientRequest::post("http://127.0.0.1:" + std::to_string(port) + "/settle",
                                                    protocol::encode_facilitator_request(r))
                              .header("Authorization", std::string("Bearer ") + kServerToken));
  }

  // POSTs `r` to /settle and expects 200 with a successful answer: that answer, or nullopt (and a
  // test failure). `body` gets the answer's bytes.
  std::optional<protocol::SettlementResponse> settled(std::uint16_t port, const protocol::FacilitatorRequest& r,
                                                      std::string* body = nullptr) {
    auto reply = post_settle(port, r);
    if (!reply) {
      ADD_FAILURE() << reply.error().to_string();
      return std::nullopt;
    }
    EXPECT_EQ(reply->status, 200) << reply->body;
    auto answer = protocol::decode_settlement_response(reply->body);
    if (!answer || !answer->success || reply->status != 200) {
      ADD_FAILURE() << "not a successful settlement: " << reply->body;
      return std::nullopt;
    }
    if (body != nullptr) *body = reply->body;
    return std::move(*answer);
  }

  // Two funded channels (deposited in-process, before the binary uses the same signer) and the
  // claim a server would send for them.
  protocol::FacilitatorRequest funded_claim(std::uint8_t salt) {
    const Address receiver = receiver_;
    protocol::ClaimPayload claim;
    for (std::uint8_t i = 0; i < 2; ++i) {
      channels_.push_back(channel(i, receiver, salt + i));
      const auto d = settle(channels_.back().deposit(kPrice, 50 * kPrice));
      EXPECT_TRUE(d.success) << d.errorReason.value_or("");
      claim.claims.push_back(channels_.back().claim_row(5 * kPrice, 5 * kPrice));
    }
    return server_request(channels_.front().offer, claim);
  }

  // Posts `request` to the binary dying at `fault` (after journaling its transaction, or after
  // broadcasting it), then to the binary restarted: `answer` is the restarted one's successful
  // answer, the same byte for byte when asked again, with one transaction of the signer's on chain.
  void crash_then_settle(const char* fault, bool broadcast_before_crash, const protocol::FacilitatorRequest& request,
                         std::optional<protocol::SettlementResponse>& answer) {
    const std::uint64_t before = signer_transactions();
    std::uint16_t port = 0;
    auto doomed = start(fault, port);
    ASSERT_NE(port, 0) << "the facilitator did not start";
    auto lost = post_settle(port, request);
    // ASSERT: wait_exit() has no timeout, and a process that answered is still running.
    ASSERT_FALSE(lost && lost->status == 200) << "the answer should have died with the process";
    EXPECT_EQ(doomed->wait_exit(), kFaultExitStatus);
    // Broadcast (accepted by the node, which mines it a moment later: count its pool too), or only
    // journaled: the node has never seen it.
    EXPECT_EQ(signer_transactions("pending"), before + (broadcast_before_crash ? 1 : 0));

    auto restarted = start(nullptr, port);
    ASSERT_NE(port, 0) << "the facilitator did not restart";
    // Recovery found the receipt or sent the same bytes again (its short look may end before the
    // rebroadcast is mined): exactly one transaction.
    EXPECT_EQ(signer_transactions("pending"), before + 1);
    std::string first_body;
    answer = settled(port, request, &first_body);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->transaction.size(), 66u);
    auto again = post_settle(port, request);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->body, first_body);
    EXPECT_EQ(signer_transactions(), before + 1);
  }

  void crash_then_recover(const char* fault, bool broadcast_before_crash) {
    const auto claim = funded_claim(broadcast_before_crash ? 100 : 110);
    std::optional<protocol::SettlementResponse> answer;
    ASSERT_NO_FATAL_FAILURE(crash_then_settle(fault, broadcast_before_crash, claim, answer));
    for (const auto& c : channels_) EXPECT_EQ(onchain(c.id).totalClaimed, 5 * kPrice);
  }

  // One transaction from `from`, mined.
  void send(const PrivateKey& from, const Address& to, Bytes data) {
    evm::TransactionSender sender(devnet_->rpc(), from, devnet_->chain_id());
    evm::TxRequest request;
    request.to = to;
    request.data = std::move(data);
    auto sent = run(sender.submit(std::move(request)));
    ASSERT_TRUE(sent) << sent.error().to_string();
    ASSERT_TRUE(run(sender.wait(*sent)));
  }

  std::string config_;
  Address receiver_;  // the server the binary's one client acts for
  std::vector<TestChannel> channels_;
};

TEST_F(FacilitatorCrashTest, CrashAfterBroadcastThenRestartClaimsOnce) {
  crash_then_recover("exit-after-broadcast", true);
}

TEST_F(FacilitatorCrashTest, CrashAfterJournalBeforeBroadcastThenRestartSendsTheSameTransactionOnce) {
  crash_then_recover("exit-after-journal", false);
}

// A wallet not deployed yet deposits through an allowed factory: the facilitator dies after
// journaling, or after broadcasting, the one transaction that deploys the wallet with the deposit.
// Restarted, it resolves the journal like any deposit's: one transaction on chain, the deposit
// made, the wallet deployed, and the server's retried /settle answered with that transaction.
TEST_F(FacilitatorCrashTest, CrashDuringADepositThatDeploysTheWalletThenRestartDepositsOnce) {
  evm::test::SmartWallets wallets(*devnet_);
  write_config(R"("receiptTimeoutSeconds": 20)",
               R"("eip6492AllowedFactories": [")" + to_checksum_hex(wallets.factory()) + R"("], )");
  const PrivateKey owner = key_from(0x6b);
  const Eip712Domain token{deployment_->tokenName, deployment_->tokenVersion, devnet_->chain_id(), deployment_->token};
  for (const bool broadcast_before_crash : {false, true}) {
    SCOPED_TRACE(broadcast_before_crash ? "exit-after-broadcast" : "exit-after-journal");
    // The owner's wallet under the channel's salt, its session key the owner.
    TestChannel c{client::ClientKeys{owner, std::nullopt}, offer_to(receiver_)};
    Bytes32 salt{};
    salt[31] = broadcast_before_crash ? 151 : 150;
    c.config = client::channel_config_for(c.offer, c.keys, salt);
    const Address wallet = wallets.address_of(owner.address(), salt);
    c.config.payer = wallet;
    c.id = channel_id(batch_settlement_domain_separator(c.offer.chainId), c.config);
    mint(wallet, 100 * kPrice);
    auto deposit = c.deposit(kPrice, 50 * kPrice);
    auto& payload = std::get<protocol::DepositPayload>(std::get<protocol::BatchSettlementPayload>(deposit.paymentPayload.payload));
    protocol::Erc3009DepositAuthorization& auth = *payload.deposit.erc3009Authorization;
    const Erc3009Authorization message{wallet, kErc3009CollectorAddress, U256{50 * kPrice}, auth.validAfter,
                                       auth.validBefore, deposit_nonce(c.id, auth.salt)};
    auth.signature = evm::test::erc6492_wrapped(
        wallets.factory(), evm::test::SmartWallets::create_call(owner.address(), salt),
        evm::test::smart_wallet_signature(owner, receive_with_authorization_digest(domain_separator(token), message)));
    std::optional<protocol::SettlementResponse> answer;
    ASSERT_NO_FATAL_FAILURE(crash_then_settle(broadcast_before_crash ? "exit-after-broadcast" : "exit-after-journal",
                                              broadcast_before_crash, deposit, answer));
    EXPECT_EQ(onchain(c.id).balance, 50 * kPrice);
    auto code = run(devnet_->rpc().code(wallet));
    ASSERT_TRUE(code) << code.error().to_string();
    EXPECT_FALSE(code->empty()) << "the wallet was not deployed";
    auto sent = run(devnet_->rpc().raw("eth_getTransactionByHash", "[\"" + answer->transaction + "\"]"));
    ASSERT_TRUE(sent) << sent.error().to_string();
    EXPECT_NE(sent->find("\"to\":\"" + to_hex(chain::kMulticall3Address.bytes) + "\""), std::string::npos) << *sent;
  }
}

// The journaled transaction was never broadcast, and before the restart another transaction of the
// same signer took its nonce: it can never be mined. Recovery proves that (the node refuses the
// bytes and the signer's mined count is past the nonce), forgets it, and the retried claim is
// executed afresh — still exactly one claim on chain.
TEST_F(FacilitatorCrashTest, AJournaledTransactionWhoseNonceWasTakenIsDroppedAndTheClaimRetried) {
  const auto claim = funded_claim(120);
  std::uint16_t port = 0;
  auto doomed = start("exit-after-journal", port);
  ASSERT_NE(port, 0);
  ASSERT_FALSE(post_settle(port, claim)) << "the answer should have died with the process";
  EXPECT_EQ(doomed->wait_exit(), kFaultExitStatus);

  evm::TransactionSender other(devnet_->rpc(), signer(), devnet_->chain_id());
  evm::TxRequest noop;
  noop.to = key_from(0x77).address();
  auto taken = run(other.submit(std::move(noop)));
  ASSERT_TRUE(taken) << taken.error().to_string();
  ASSERT_TRUE(run(other.wait(*taken)));
  const std::uint64_t before = signer_transactions();

  auto restarted = start(nullptr, port);
  ASSERT_NE(port, 0);
  EXPECT_EQ(signer_transactions(), before);  // recovery sent nothing
  ASSERT_TRUE(settled(port, claim));
  EXPECT_EQ(signer_transactions(), before + 1);
  for (const auto& c : channels_) EXPECT_EQ(onchain(c.id).totalClaimed, 5 * kPrice);
}

// A transaction mined but reverted did nothing on chain: a later /settle of the same action is
// simulated and sent afresh, not answered with the old revert. Here a deposit is journaled, its
// payer's tokens move away before the restarted facilitator rebroadcasts it (mined, reverted: the
// ERC-3009 transfer finds no balance), and come back before the server asks again.
TEST_F(FacilitatorCrashTest, ARevertedTransactionIsForgottenSoTheActionCanBeRetried) {
  TestChannel c = channel(2, receiver_, 130);
  const auto deposit = c.deposit(kPrice, 50 * kPrice);
  std::uint16_t port = 0;
  auto doomed = start("exit-after-journal", port);
  ASSERT_NE(port, 0);
  ASSERT_FALSE(post_settle(port, deposit)) << "the answer should have died with the process";
  EXPECT_EQ(doomed->wait_exit(), kFaultExitStatus);

  const Address payer = c.config.payer;
  const U256 held = token_balance(payer);
  const std::string one_ether = "[\"" + to_checksum_hex(payer) + "\",\"0xde0b6b3a7640000\"]";
  ASSERT_TRUE(run(devnet_->rpc().raw("anvil_setBalance", one_ether)));
  send(c.keys.payer, deployment_->token,
       chain::encode_call("transfer(address,uint256)",
                          {chain::AbiValue::address(key_from(0x78).address()), chain::AbiValue::uint(held)}));
  const std::uint64_t before = signer_transactions();

  auto restarted = start(nullptr, port);
  ASSERT_NE(port, 0);
  // Recovery rebroadcast the journaled bytes: mined, and reverted.
  for (int i = 0; i < 50 && signer_transactions() == before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(signer_transactions(), before + 1);
  EXPECT_EQ(onchain(c.id).balance, 0u);

  send(devnet_->key(0), deployment_->token,
       chain::encode_call("mint(address,uint256)", {chain::AbiValue::address(payer), chain::AbiValue::uint(held)}));
  ASSERT_TRUE(settled(port, deposit));
  EXPECT_EQ(signer_transactions(), before + 2);
  EXPECT_EQ(onchain(c.id).balance, 50 * kPrice);
}

// A fee spike leaves the claim's transaction behind, and the binary dies right after journaling its
// replacement, before broadcasting it. Restarted, it resolves the journal: the node knows no version
// of the transaction, so the replacement's bytes are broadcast and mined. One claim transaction on
// chain, the replacement, and the retried /settle answers with it.
class ReplacementCrashTest : public FacilitatorCrashTest {
 protected:
  void TearDown() override { restore_fee_market(); }
};

TEST_F(ReplacementCrashTest, CrashAfterJournalingAReplacementThenRestartSendsTheReplacementOnce) {
  write_config(R"("receiptTimeoutSeconds": 1, "repriceAfterSeconds": 1)");
  const auto claim = funded_claim(140);
  const std::uint64_t before = signer_transactions();
  std::uint16_t port = 0;
  auto doomed = start("exit-after-replacement-journal", port);
  ASSERT_NE(port, 0);
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[false]")));
  auto waiting = post_settle(port, claim);
  ASSERT_TRUE(waiting) << waiting.error().to_string();
  auto unmined = protocol::decode_settlement_response(waiting->body);
  ASSERT_TRUE(unmined) << waiting->body;
  EXPECT_EQ(unmined->errorReason, std::optional<std::string>{to_string(ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed)});
  const std::string first_version = unmined->transaction;
  ASSERT_EQ(first_version.size(), 66u);
  spike_base_fee();
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[true]")));
  // The first version was sent over 1 s ago (the receipt wait); the sleep makes sure of a second
  // whole-second tick, as sentAt is kept in unix seconds.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));

  ASSERT_FALSE(post_settle(port, claim)) << "the answer should have died with the process";
  EXPECT_EQ(doomed->wait_exit(), kFaultExitStatus);
  EXPECT_EQ(signer_transactions("pending"), before) << "the replacement was never broadcast";
  std::string replacement;
  {
    auto journal = persistence::TxJournal::open(dir_.file("binary-journal.sqlite"));
    ASSERT_TRUE(journal) << journal.error().to_string();
    auto pending = (*journal)->pending();
    ASSERT_TRUE(pending && pending->size() == 1u);
    ASSERT_EQ((*pending)[0].replacedHashes.size(), 1u) << "the replacement is journaled";
    EXPECT_EQ(to_hex((*pending)[0].replacedHashes[0]), first_version);
    replacement = to_hex((*pending)[0].transactionHash);
  }

  auto restarted = start(nullptr, port);
  ASSERT_NE(port, 0) << "the facilitator did not restart";
  auto answer = settled(port, claim);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->transaction, replacement) << "the journaled replacement was mined";
  EXPECT_EQ(signer_transactions(), before + 1);
  for (const auto& c : channels_) EXPECT_EQ(onchain(c.id).totalClaimed, 5 * kPrice);
}

}  // namespace
}  // namespace paychan::engine::facilitator::test
#endif  // PAYCHAN_CLI
