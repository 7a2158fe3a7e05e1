// The facilitator against a real EVM (anvil) and paychan's real contracts: deposits verified and
// settled, vouchers verified, claims in batches (signed by the facilitator as the delegated
// receiverAuthorizer, or by the server), the settle sweep, cooperative refunds, the answers to
// bad payloads, and the journal's promise: a retried /settle gets the first outcome, never a
// second transaction.
#include "engine/http/beast.hpp"
#include "facilitator_support.hpp"
#include "persistence/sqlite.hpp"

namespace paychan::engine::facilitator::test {
namespace {

constexpr Uint128 kDeposit = 100'000;

std::string code(ErrorCode c) { return std::string(to_string(c)); }

TEST_F(FacilitatorChainTest, DepositIsVerifiedThenSettledWithThePostDepositSnapshot) {
  TestChannel c = channel(0, fresh_receiver(), 1);
  const auto request = c.deposit(kPrice, kDeposit);
  const U256 before = token_balance(c.config.payer);

  const auto verdict = verify(request);
  EXPECT_TRUE(verdict.isValid) << verdict.invalidReason.value_or("") << ": " << verdict.invalidMessage.value_or("");
  EXPECT_EQ(verdict.payer, std::optional<std::string>{to_checksum_hex(c.config.payer)});
  auto pre = protocol::verify_snapshot(verdict);
  ASSERT_TRUE(pre) << pre.error().to_string();
  EXPECT_EQ(pre->channelId, c.id);
  EXPECT_EQ(pre->balance, 0u);

  const auto r = settle(request);
  ASSERT_TRUE(r.success) << r.errorReason.value_or("") << ": " << r.errorMessage.value_or("");
  EXPECT_EQ(r.transaction.size(), 66u);
  EXPECT_EQ(r.amount, std::optional<std::string>{to_decimal(kDeposit)});
  EXPECT_EQ(r.payer, std::optional<std::string>{to_checksum_hex(c.config.payer)});
  const auto state = snapshot_of(r);
  EXPECT_EQ(state.channelId, c.id);
  EXPECT_EQ(state.balance, kDeposit);
  EXPECT_EQ(state.totalClaimed, 0u);
  EXPECT_EQ(onchain(c.id).balance, kDeposit);
  EXPECT_EQ(*token_balance(c.config.payer).to_uint128(), *before.to_uint128() - kDeposit);

  // Now funded: a voucher within the balance is valid, with the snapshot in extra.
  const auto voucher = verify(c.voucher(3 * kPrice));
  EXPECT_TRUE(voucher.isValid) << voucher.invalidReason.value_or("");
  EXPECT_EQ(protocol::verify_snapshot(voucher)->balance, kDeposit);
}

TEST_F(FacilitatorChainTest, RetriedDepositSettleReturnsTheFirstOutcomeWithoutASecondTransaction) {
  TestChannel c = channel(1, fresh_receiver(), 2);
  const auto request = c.deposit(kPrice, kDeposit);
  const std::uint64_t sent_before = signer_transactions();
  const auto first = settle(request);
  ASSERT_TRUE(first.success) << first.errorReason.value_or("");
  const auto again = settle(request);
  EXPECT_EQ(protocol::encode_settlement_response(again), protocol::encode_settlement_response(first));
  // A fresh facilitator on the same journal (a restart) answers the same.
  facilitator_ = make_facilitator();
  const auto after_restart = settle(request);
  EXPECT_EQ(protocol::encode_settlement_response(after_restart), protocol::encode_settlement_response(first));
  EXPECT_EQ(signer_transactions(), sent_before + 1);
  EXPECT_EQ(onchain(c.id).balance, kDeposit);
}

// A request joining a pending action shares only its key, and a deposit's key does not cover its
// amount: the joiner's answer is described from the journaled deposit, never from its own payload.
TEST_F(FacilitatorChainTest, AJoinerOfAPendingDepositIsAnsweredWithTheJournaledDeposit) {
  FacilitatorOptions options;
  options.receiptTimeout = std::chrono::milliseconds(300);
  facilitator_ = make_facilitator(options);
  TestChannel c = channel(4, fresh_receiver(), 9);
  const auto deposit = c.deposit(kPrice, kDeposit);
  // Nothing is mined until the joiner comes: the first request gives up waiting, its entry pending.
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[false]")));
  struct Automine {
    ~Automine() { (void)http::run_blocking(devnet_->rpc().raw("evm_setAutomine", "[true]")); }
  } restore;
  const auto waiting = settle(deposit);
  EXPECT_FALSE(waiting.success);
  EXPECT_EQ(waiting.errorReason, std::optional<std::string>{code(ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed)});
  auto joiner = deposit;
  std::get<protocol::DepositPayload>(std::get<protocol::BatchSettlementPayload>(joiner.paymentPayload.payload))
      .deposit.amount = 5 * kDeposit;
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_mine", "[]")));

  const auto joined = settle(joiner);
  ASSERT_TRUE(joined.success) << joined.errorReason.value_or("");
  EXPECT_EQ(joined.amount, std::optional<std::string>{to_decimal(kDeposit)});
  EXPECT_EQ(protocol::encode_settlement_response(settle(deposit)), protocol::encode_settlement_response(joined));
  EXPECT_EQ(onchain(c.id).balance, kDeposit);
}

// Fees that leave a transaction behind: with automine off, a deposit is sent and the request gives
// up waiting; the next block's base fee jumps to 1,000 gwei, far above the transaction's fee cap,
// so the node evicts it unmined; automine is back on for what follows. The first answer.
class FeeSpikeTest : public FacilitatorChainTest {
 protected:
  protocol::SettlementResponse left_behind(FacilitatorOptions options, const protocol::FacilitatorRequest& deposit) {
    options.receiptTimeout = std::chrono::milliseconds(500);
    options.repriceAfter = std::chrono::seconds(0);
    facilitator_ = make_facilitator(options);
    mined_before_ = signer_transactions();
    EXPECT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[false]")));
    const auto waiting = settle(deposit);
    spike_base_fee();
    EXPECT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[true]")));
    EXPECT_EQ(signer_transactions(), mined_before_);
    return waiting;
  }
  void TearDown() override { restore_fee_market(); }
  std::uint64_t mined_before_ = 0;
};

// The retried /settle replaces it (same nonce, the node's new quote) and the node mines the
// replacement: the action still has exactly one transaction on chain.
TEST_F(FeeSpikeTest, ATransactionLeftBehindByTheFeesIsReplacedWithTheSameNonce) {
  TestChannel c = channel(5, fresh_receiver(), 11);
  const auto deposit = c.deposit(kPrice, kDeposit);
  const auto waiting = left_behind({}, deposit);
  ASSERT_EQ(waiting.errorReason, std::optional<std::string>{code(ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed)});
  ASSERT_EQ(waiting.transaction.size(), 66u);

  const auto done = settle(deposit);
  ASSERT_TRUE(done.success) << done.errorReason.value_or("") << ": " << done.errorMessage.value_or("");
  EXPECT_NE(done.transaction, waiting.transaction);
  EXPECT_EQ(signer_transactions(), mined_before_ + 1);
  EXPECT_EQ(onchain(c.id).balance, kDeposit);
  auto pending = journal_->pending();
  ASSERT_TRUE(pending);
  EXPECT_TRUE(pending->empty());
}

// Under the operator's ceiling (100 gwei here) the replacement offers the ceiling, not the 1,000 gwei
// market: the node does not take it, nothing is mined, and no further version is made. While the
// market stays above the ceiling, a new action is refused before any transaction is signed.
TEST_F(FeeSpikeTest, NoReplacementOffersMoreThanTheCeiling) {
  TestChannel c = channel(5, fresh_receiver(), 12);
  const auto deposit = c.deposit(kPrice, kDeposit);
  FacilitatorOptions options;
  const U256 ceiling{Uint128{100'000'000'000}};
  options.maxFeePerGas = ceiling;
  const auto waiting = left_behind(options, deposit);
  ASSERT_EQ(waiting.errorReason, std::optional<std::string>{code(ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed)});
  const auto answer = settle(deposit);
  EXPECT_FALSE(answer.success);
  EXPECT_EQ(signer_transactions("pending"), mined_before_);
  EXPECT_EQ(onchain(c.id).balance, 0u);
  auto pending = journal_->pending();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].maxFeePerGas, ceiling);
  EXPECT_EQ((*pending)[0].replacedHashes.size(), 1u);

  TestChannel other = channel(5, fresh_receiver(), 13);
  const auto refused = settle(other.deposit(kPrice, kDeposit));
  EXPECT_FALSE(refused.success);
  EXPECT_NE(refused.errorMessage.value_or("").find("above maxFeePerGasGwei"), std::string::npos)
      << refused.errorMessage.value_or("");
  EXPECT_TRUE(refused.transaction.empty());
  EXPECT_EQ(journal_->pending()->size(), 1u) << "nothing journaled for it";
}

// Two requests retry the same left-behind deposit at once (on one context, so they interleave at
// every chain read): one replacement journaled, one transaction on chain, the same answer for both.
// Both read the same fee quote and signatures are deterministic, so their replacements are the same
// bytes: this passes even without the journal's compare-and-swap, which TxJournal's own test covers.
TEST_F(FeeSpikeTest, TwoRequestsRetryingTheSameLeftBehindTransactionAgreeOnOneReplacement) {
  TestChannel c = channel(5, fresh_receiver(), 14);
  const auto deposit = c.deposit(kPrice, kDeposit);
  const auto waiting = left_behind({}, deposit);
  ASSERT_EQ(waiting.errorReason, std::optional<std::string>{code(ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed)});

  http::asio::io_context context;
  std::optional<protocol::SettlementResponse> first, second;
  for (auto* answer : {&first, &second})
    http::asio::co_spawn(
        context,
        [&, answer]() -> http::Awaitable<void> {
          answer->emplace(co_await facilitator_->settle_request(deposit, ReceiverScope::everyone()));
        },
        http::asio::detached);
  context.run();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->success) << first->errorReason.value_or("") << ": " << first->errorMessage.value_or("");
  EXPECT_TRUE(second->success) << second->errorReason.value_or("") << ": " << second->errorMessage.value_or("");
  EXPECT_EQ(first->transaction, second->transaction);
  EXPECT_NE(first->transaction, waiting.transaction);
  EXPECT_EQ(signer_transactions(), mined_before_ + 1);
  EXPECT_EQ(onchain(c.id).balance, kDeposit);
  auto db = persistence::Database::open(dir_.file("journal.sqlite"), false);
  ASSERT_TRUE(db);
  auto versions = db->prepare("SELECT COUNT(*) FROM tx_replaced");
  ASSERT_TRUE(versions && *versions->step());
  EXPECT_EQ(versions->integer(0), 1) << "one replacement, not one per request";
}

TEST_F(FacilitatorChainTest, ClaimBatchSignedByTheDelegatedAuthorizerThenBySettleSweep) {
  const Address receiver = fresh_receiver();
  std::vector<TestChannel> channels;
  for (std::uint8_t i = 0; i < 3; ++i) {
    channels.push_back(channel(2 + i, receiver, 10 + i));
    const auto d = settle(channels.back().deposit(kPrice, kDeposit));
    ASSERT_TRUE(d.success) << d.errorReason.value_or("") << ": " << d.errorMessage.value_or("");
  }
  // Each channel charged (i + 1) × 7 prices; the server claims all of it in one transaction and
  // leaves the authorization to the facilitator (its receiverAuthorizer).
  protocol::ClaimPayload claim;
  Uint128 total = 0;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const Uint128 charged = (i + 1) * 7 * kPrice;
    claim.claims.push_back(channels[i].claim_row(charged, charged));
    total += charged;
  }
  const auto request = server_request(channels[0].offer, claim);
  const std::uint64_t sent_before = signer_transactions();
  const auto r = settle(request);
  ASSERT_TRUE(r.success) << r.errorReason.value_or("") << ": " << r.errorMessage.value_or("");
  EXPECT_EQ(r.amount, std::nullopt) << "a claim moves no tokens: no amount, as in the reference's answer";
  for (std::size_t i = 0; i < channels.size(); ++i) EXPECT_EQ(onchain(channels[i].id).totalClaimed, (i + 1) * 7 * kPrice);
  EXPECT_EQ(protocol::encode_settlement_response(settle(request)), protocol::encode_settlement_response(r));
  EXPECT_EQ(signer_transactions(), sent_before + 1);

  // The server signs its own ClaimBatch authorization for a further claim on one channel: the
  // answer carries that channel's snapshot.
  protocol::ClaimPayload more;
  more.claims.push_back(channels[0].claim_row(20 * kPrice, 20 * kPrice));
  const ClaimEntry entry{channels[0].id, 20 * kPrice, 20 * kPrice};
  more.claimAuthorizerSignature =
      authorizer().sign(claim_batch_digest(batch_settlement_domain_separator(devnet_->chain_id()), std::span{&entry, 1}));
  const auto second = settle(server_request(channels[0].offer, more));
  ASSERT_TRUE(second.success) << second.errorReason.value_or("") << ": " << second.errorMessage.value_or("");
  EXPECT_EQ(snapshot_of(second).totalClaimed, 20 * kPrice);
  total += 20 * kPrice - 7 * kPrice;

  // The sweep moves every claimed token to the receiver in one transfer. Once it is mined, a
  // second sweep finds nothing claimed and unsettled: it sends nothing and says so, rather than
  // answering with the first one's transfer as if it had moved the tokens again.
  const U256 receiver_before = token_balance(receiver);
  const auto sweep_request = server_request(channels[0].offer, protocol::SettlePayload{receiver, deployment_->token});
  const auto sweep = settle(sweep_request);
  ASSERT_TRUE(sweep.success) << sweep.errorReason.value_or("") << ": " << sweep.errorMessage.value_or("");
  EXPECT_EQ(sweep.amount, std::optional<std::string>{to_decimal(total)});
  EXPECT_EQ(*token_balance(receiver).to_uint128(), *receiver_before.to_uint128() + total);
  const std::uint64_t sent_after_sweep = signer_transactions();
  const auto again = settle(sweep_request);
  EXPECT_FALSE(again.success);
  EXPECT_EQ(again.errorReason, code(ErrorCode::invalid_batch_settlement_evm_nothing_to_settle));
  EXPECT_EQ(signer_transactions(), sent_after_sweep);
  EXPECT_EQ(*token_balance(receiver).to_uint128(), *receiver_before.to_uint128() + total);
}

TEST_F(FacilitatorChainTest, NothingToSettleForAReceiverWithoutClaims) {
  const Address receiver = fresh_receiver();
  const auto offer = offer_to(receiver);
  const std::uint64_t sent_before = signer_transactions();
  const auto r = settle(server_request(offer, protocol::SettlePayload{receiver, deployment_->token}));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.errorReason, code(ErrorCode::invalid_batch_settlement_evm_nothing_to_settle));
  EXPECT_EQ(signer_transactions(), sent_before);
}

TEST_F(FacilitatorChainTest, CooperativeRefundClaimsWhatWasChargedAndReturnsTheRest) {
  TestChannel c = channel(0, fresh_receiver(), 30);
  ASSERT_TRUE(settle(c.deposit(kPrice, kDeposit)).success);
  const Uint128 charged = 4 * kPrice;
  const U256 payer_before = token_balance(c.config.payer);

  // The client's refund payload (zero-charge voucher at the charged total), as the gate completes
  // it: amount, refundNonce and the claim of what was charged; signatures left to the facilitator.
  auto payload = client::refund_payload(c.offer, c.config, c.id, charged, std::nullopt, c.keys);
  const auto verdict = verify(c.request(payload));
  EXPECT_TRUE(verdict.isValid) << verdict.invalidReason.value_or("");
  auto& refund = std::get<protocol::RefundPayload>(std::get<protocol::BatchSettlementPayload>(payload.payload));
  refund.amount = kDeposit - charged;
  refund.refundNonce = U256{0};
  refund.claims = {c.claim_row(charged, charged)};
  const auto request = c.request(payload);
  const auto r = settle(request);
  ASSERT_TRUE(r.success) << r.errorReason.value_or("") << ": " << r.errorMessage.value_or("");
  EXPECT_EQ(r.amount, std::optional<std::string>{to_decimal(kDeposit - charged)});
  const auto state = snapshot_of(r);
  EXPECT_EQ(state.balance, charged);
  EXPECT_EQ(state.totalClaimed, charged);
  EXPECT_EQ(state.refundNonce, U256{1});
  EXPECT_EQ(*token_balance(c.config.payer).to_uint128(), *payer_before.to_uint128() + (kDeposit - charged));
  // Retried (e.g. after a lost answer): the same outcome, the nonce advanced once.
  EXPECT_EQ(protocol::encode_settlement_response(settle(request)), protocol::encode_settlement_response(r));
  EXPECT_EQ(onchain(c.id).balance, charged);
}

TEST_F(FacilitatorChainTest, RefundWithAStaleNonceIsRefusedBeforeAnyTransaction) {
  TestChannel c = channel(1, fresh_receiver(), 31);
  ASSERT_TRUE(settle(c.deposit(kPrice, kDeposit)).success);
  auto payload = client::refund_payload(c.offer, c.config, c.id, 0, Uint128{10}, c.keys);
  auto& refund = std::get<protocol::RefundPayload>(std::get<protocol::BatchSettlementPayload>(payload.payload));
  refund.refundNonce = U256{5};
  const std::uint64_t sent_before = signer_transactions();
  const auto r = settle(c.request(payload));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.errorReason, code(ErrorCode::invalid_batch_settlement_evm_refund_payload));
  refund.refundNonce.reset();
  EXPECT_EQ(settle(c.request(payload)).errorReason, code(ErrorCode::invalid_batch_settlement_evm_refund_payload));
  EXPECT_EQ(signer_transactions(), sent_before);
}

TEST_F(FacilitatorChainTest, VerifyRefusesWithTheSpecsCodesAndTheSnapshot) {
  TestChannel c = channel(2, fresh_receiver(), 40);
  // Unfunded: the signature is fine, the channel does not exist yet.
  EXPECT_EQ(verify(c.voucher(kPrice)).invalidReason, code(ErrorCode::invalid_batch_settlement_evm_channel_not_found));
  ASSERT_TRUE(settle(c.deposit(kPrice, kDeposit)).success);

  const auto over = verify(c.voucher(kDeposit + 1));
  EXPECT_FALSE(over.isValid);
  EXPECT_EQ(over.invalidReason, code(ErrorCode::invalid_batch_settlement_evm_cumulative_exceeds_balance));
  EXPECT_EQ(protocol::verify_snapshot(over)->balance, kDeposit);  // the snapshot even when invalid

  auto forged = c.voucher(2 * kPrice);
  std::get<protocol::VoucherPayload>(std::get<protocol::BatchSettlementPayload>(forged.paymentPayload.payload))
      .voucher.signature = c.signed_voucher(3 * kPrice).signature;
  EXPECT_EQ(verify(forged).invalidReason, code(ErrorCode::invalid_batch_settlement_evm_voucher_signature));

  auto elsewhere = c.voucher(2 * kPrice);
  elsewhere.paymentRequirements.payTo = to_checksum_hex(fresh_receiver());
  elsewhere.paymentPayload.accepted = elsewhere.paymentRequirements;
  EXPECT_EQ(verify(elsewhere).invalidReason, code(ErrorCode::invalid_batch_settlement_evm_receiver_mismatch));

  auto other_network = c.voucher(2 * kPrice);
  other_network.paymentRequirements.network = other_network.paymentPayload.accepted.network = "eip155:8453";
  EXPECT_EQ(verify(other_network).invalidReason, code(ErrorCode::invalid_network));

  auto mismatch = c.voucher(2 * kPrice);
  mismatch.paymentRequirements.network = "eip155:8453";
  EXPECT_EQ(verify(mismatch).invalidReason, code(ErrorCode::invalid_batch_settlement_evm_network_mismatch));
}

TEST_F(FacilitatorChainTest, DepositRefusals) {
  TestChannel c = channel(3, fresh_receiver(), 50);
  // More than the payer holds.
  const U256 held = token_balance(c.config.payer);
  const auto too_much = verify(c.deposit(kPrice, *held.to_uint128() + 1));
  EXPECT_EQ(too_much.invalidReason, code(ErrorCode::invalid_batch_settlement_evm_insufficient_balance));

  // An authorization that expired: validBefore before the chain's clock.
  auto expired = c.deposit(kPrice, kDeposit);
  auto& d = std::get<protocol::DepositPayload>(std::get<protocol::BatchSettlementPayload>(expired.paymentPayload.payload));
  d.deposit.erc3009Authorization->validBefore = U256{1};
  EXPECT_EQ(verify(expired).invalidReason,
            code(ErrorCode::invalid_batch_settlement_evm_payload_authorization_valid_before));

  // Signed under another token domain name: not the payer's authorization for this token.
  auto renamed = c.deposit(kPrice, kDeposit);
  auto extra = c.offer.extra;
  extra.name = "Not " + extra.name;
  renamed.paymentRequirements.extra = renamed.paymentPayload.accepted.extra = protocol::make_extra(extra);
  EXPECT_EQ(verify(renamed).invalidReason, code(ErrorCode::invalid_batch_settlement_evm_receive_authorization_signature));

  // The same authorization twice: the second is refused by the simulation (nonce used), with the
  // token's revert reason, and sends nothing.
  const auto once = c.deposit(kPrice, kDeposit);
  ASSERT_TRUE(settle(once).success);
  const auto replay = verify(once);
  EXPECT_EQ(replay.invalidReason, code(ErrorCode::invalid_batch_settlement_evm_deposit_simulation_failed));
  EXPECT_TRUE(replay.invalidMessage && !replay.invalidMessage->empty());
}

TEST_F(FacilitatorChainTest, ClaimSimulationFailureCarriesTheRevertAndSendsNothing) {
  TestChannel c = channel(4, fresh_receiver(), 60);
  ASSERT_TRUE(settle(c.deposit(kPrice, kDeposit)).success);
  protocol::ClaimPayload claim;
  claim.claims.push_back(c.claim_row(2 * kPrice, 3 * kPrice));  // above the voucher's ceiling
  const std::uint64_t sent_before = signer_transactions();
  const auto r = settle(server_request(c.offer, claim));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.errorReason, code(ErrorCode::invalid_batch_settlement_evm_claim_simulation_failed));
  EXPECT_TRUE(r.errorMessage && !r.errorMessage->empty());
  EXPECT_EQ(r.transaction, "");
  EXPECT_EQ(signer_transactions(), sent_before);
  // Nothing journaled: the corrected claim goes through.
  protocol::ClaimPayload fixed;
  fixed.claims.push_back(c.claim_row(2 * kPrice, 2 * kPrice));
  EXPECT_TRUE(settle(server_request(c.offer, fixed)).success);
}

// A claim that simulates fine and reverts when mined, made real: automine off, the facilitator sends
// the claim and gives up waiting; the payer's finalizeWithdraw (due since the clock moved past the
// withdrawDelay), re-sent with higher fees so the node orders it first, empties the channel in the
// same block, and the claim reverts with ClaimExceedsBalance. The retried /settle answers what the
// settle job reads as "mined and reverted" (claim_transaction_failed with the transaction), and the
// key is forgotten: the next /settle is simulated afresh, fails there, and sends nothing.
TEST_F(FacilitatorChainTest, AClaimMinedAndRevertedIsAnsweredWithItsTransactionAndForgotten) {
  FacilitatorOptions options;
  options.receiptTimeout = std::chrono::milliseconds(300);
  facilitator_ = make_facilitator(options);
  TestChannel c = channel(3, fresh_receiver(), 80);
  ASSERT_TRUE(settle(c.deposit(kPrice, kDeposit)).success);
  const std::string payer = to_hex(c.keys.payer.address().bytes);
  ASSERT_TRUE(run(devnet_->rpc().raw("anvil_setBalance", "[\"" + payer + "\",\"0x8ac7230489e80000\"]")));
  evm::TransactionSender payer_tx(devnet_->rpc(), c.keys.payer, devnet_->chain_id());
  auto send = [&](Bytes data) {
    evm::TxRequest tx;
    tx.to = deployment_->settlement;
    tx.data = std::move(data);
    return run(payer_tx.submit(std::move(tx)));
  };
  auto initiated = send(chain::initiate_withdraw_call(c.config, kDeposit));
  ASSERT_TRUE(initiated) << initiated.error().to_string();
  ASSERT_TRUE(run(payer_tx.wait(*initiated)));
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_increaseTime", "[901]")));
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_mine", "[]")));

  ASSERT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[false]")));
  struct Automine {
    ~Automine() { (void)http::run_blocking(devnet_->rpc().raw("evm_setAutomine", "[true]")); }
  } restore;
  protocol::ClaimPayload claim;
  claim.claims.push_back(c.claim_row(3 * kPrice, 3 * kPrice));
  const auto request = server_request(c.offer, claim);
  const std::uint64_t sent_before = signer_transactions("pending");
  const auto waiting = settle(request);
  ASSERT_EQ(waiting.errorReason, code(ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed))
      << waiting.errorMessage.value_or("");
  ASSERT_EQ(signer_transactions("pending"), sent_before + 1) << "the claim is in the node's pool";
  auto finalize = send(chain::finalize_withdraw_call(c.config));
  ASSERT_TRUE(finalize) << finalize.error().to_string();
  ASSERT_TRUE(run(payer_tx.replace(*finalize)));  // a higher tip than the claim's: mined before it
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_mine", "[]")));
  EXPECT_EQ(onchain(c.id).balance, 0u) << "the withdrawal went first";
  EXPECT_EQ(signer_transactions(), sent_before + 1) << "the claim was mined (and reverted)";

  const auto reverted = settle(request);
  EXPECT_FALSE(reverted.success);
  EXPECT_EQ(reverted.errorReason, code(ErrorCode::invalid_batch_settlement_evm_claim_transaction_failed));
  EXPECT_EQ(reverted.errorMessage, std::optional<std::string>{"the transaction was mined and reverted"});
  EXPECT_EQ(reverted.transaction, waiting.transaction) << "the settle job holds the channel back on this";
  EXPECT_EQ(onchain(c.id).totalClaimed, 0u);

  const auto again = settle(request);
  EXPECT_EQ(again.errorReason, code(ErrorCode::invalid_batch_settlement_evm_claim_simulation_failed));
  EXPECT_EQ(again.transaction, "");
  EXPECT_EQ(signer_transactions("pending"), sent_before + 1) << "nothing sent after the revert";
}

// EIP-1271: a payer that is a contract (payerAuthorizer zero). Two one-line wallets are put at the
// payer's address with anvil_setCode: one answers the magic value to every isValidSignature, one
// answers zero. (No deposit: the verdict after the signature check is channel_not_found.)
TEST_F(FacilitatorChainTest, SmartWalletVouchersAreCheckedWithEip1271) {
  TestChannel c = channel(5, fresh_receiver(), 70);
  c.config.payer = key_from(0xee).address();
  c.config.payerAuthorizer = Address{};
  c.id = channel_id(batch_settlement_domain_separator(c.offer.chainId), c.config);
  ASSERT_NO_FATAL_FAILURE(set_code(c.config.payer, kWalletAcceptingAll));
  const auto accepted = verify(c.voucher(kPrice));  // signed by a key that is not the wallet's
  EXPECT_EQ(accepted.invalidReason, code(ErrorCode::invalid_batch_settlement_evm_channel_not_found));
  ASSERT_NO_FATAL_FAILURE(set_code(c.config.payer, kWalletRefusingAll));
  EXPECT_EQ(verify(c.voucher(kPrice)).invalidReason, code(ErrorCode::invalid_batch_settlement_evm_voucher_signature));

  // An account with code is asked alone even when its own key signed (an EIP-7702 account): the
  // contract's SignatureChecker would not take the ECDSA signature, and every claim would revert.
  TestChannel own = channel(0xf0, fresh_receiver(), 71);
  own.config.payerAuthorizer = Address{};
  own.id = channel_id(batch_settlement_domain_separator(own.offer.chainId), own.config);
  EXPECT_EQ(verify(own.voucher(kPrice)).invalidReason, code(ErrorCode::invalid_batch_settlement_evm_channel_not_found))
      << "without code, the payer's own ECDSA signature";
  ASSERT_NO_FATAL_FAILURE(set_code(own.config.payer, kWalletRefusingAll));
  EXPECT_EQ(verify(own.voucher(kPrice)).invalidReason, code(ErrorCode::invalid_batch_settlement_evm_voucher_signature));
}

TEST_F(FacilitatorChainTest, SupportedAdvertisesTheAuthorizerAndTheSigner) {
  const auto s = facilitator_->supported();
  ASSERT_EQ(s.kinds.size(), 1u);
  EXPECT_EQ(s.kinds[0].scheme, "batch-settlement");
  EXPECT_EQ(s.kinds[0].network, "eip155:" + std::to_string(devnet_->chain_id()));
  EXPECT_NE(s.kinds[0].extra.text().find(to_checksum_hex(authorizer().address())), std::string::npos);
  ASSERT_EQ(s.signers.count("eip155:*"), 1u);
  EXPECT_EQ(s.signers.at("eip155:*"), std::vector<std::string>{to_checksum_hex(signer().address())});
}

}  // namespace
}  // namespace paychan::engine::facilitator::test
