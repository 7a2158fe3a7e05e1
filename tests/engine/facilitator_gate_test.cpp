// A gate using paychan's facilitator in-process (no HTTP hop) on a real chain: the deposit is
// verified and executed on chain, vouchers are served, the operator's settle job claims and sweeps
// through the same facilitator, and a cooperative refund returns the rest — with the
// receiverAuthorizer delegated to the facilitator.
#include <chrono>
#include <future>
#include <thread>

#include "engine/settlement/rpc_chain_reader.hpp"
#include "facilitator_gate_fixture.hpp"
#include "unreliable_link.hpp"

namespace paychan::engine::facilitator::test {
namespace {

using gate::test::UnreliableLink;

TEST_F(FacilitatorGateTest, AGateSettlesThroughTheInProcessFacilitator) {
  ASSERT_NO_FATAL_FAILURE(open_gate());
  const gate::GateConfig& config = config_;
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  persistence::ChannelStore& store = *store_;

  const PrivateKey payer = key_from(6);
  const gate::test::TestAgent agent(payer, config, 90);
  const U256 payer_before = token_balance(payer.address());

  // Deposit with the first request: executed on chain by the facilitator.
  auto deposit = accepted(run(gate.settle(
      accepted(run(gate.authorize(offer, agent.deposit_header(offer.requirements, kPrice, 50 * kPrice)))), kPrice)));
  EXPECT_TRUE(deposit.success);
  EXPECT_EQ(deposit.transaction.size(), 66u);
  EXPECT_EQ(onchain(agent.id).balance, 50 * kPrice);

  // Vouchers: checked locally by the gate, nothing on chain.
  Uint128 charged = kPrice;
  for (int i = 0; i < 3; ++i) {
    auto served = accepted(run(gate.settle(
        accepted(run(gate.authorize(offer, agent.voucher_header(offer.requirements, charged + kPrice)))), kPrice)));
    EXPECT_EQ(served.transaction, "");
    charged += kPrice;
  }

  // The operator's settle job, through the same facilitator: one claim batch, then the sweep.
  {
    const auto summary = settle(config, store, 100);
    EXPECT_TRUE(summary.ok()) << summary.sweepError;
    EXPECT_EQ(summary.claimedAmount(), charged);
    EXPECT_EQ(summary.sweepAmount, to_decimal(charged));
    EXPECT_EQ(onchain(agent.id).totalClaimed, charged);
    EXPECT_EQ(*token_balance(config.payTo).to_uint128(), charged);
  }

  // The refund: the gate completes it, the facilitator signs as receiverAuthorizer and executes
  // claim + refund in one transaction.
  auto refund = accepted(run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, charged)))))));
  EXPECT_TRUE(refund.success) << refund.errorReason.value_or("");
  EXPECT_EQ(refund.amount, std::optional<std::string>{to_decimal(50 * kPrice - charged)});
  const auto state = onchain(agent.id);
  EXPECT_EQ(state.totalClaimed, charged);
  EXPECT_EQ(state.balance, charged);
  EXPECT_EQ(*token_balance(payer.address()).to_uint128(), *payer_before.to_uint128() - charged);
}

// A /verify whose answer the test holds until it lets it go: a facilitator round trip of chosen
// length, which the real one on anvil cannot be made to take (a test double around it, as
// UnreliableLink). The chain is read first, so the answer held is a snapshot that can age.
class HeldVerify final : public gate::Facilitator {
 public:
  explicit HeldVerify(gate::Facilitator& inner) : inner_(inner) {}
  std::atomic<bool> hold_next{false};
  std::promise<void> entered;  // the held /verify has its answer
  std::promise<void> release;
  http::Awaitable<Result<protocol::VerifyResponse>> verify(const protocol::FacilitatorRequest& request) override {
    const bool hold = hold_next.exchange(false);
    auto verdict = co_await inner_.verify(request);
    if (hold) {
      entered.set_value();
      release.get_future().wait();  // blocks this coroutine's own thread (run_blocking's context)
    }
    co_return verdict;
  }
  http::Awaitable<Result<protocol::SettlementResponse>> settle(const protocol::FacilitatorRequest& request) override {
    co_return co_await inner_.settle(request);
  }

 private:
  gate::Facilitator& inner_;
};

// authorize() of one payload on a thread of its own, its /verify answer held by `link` until
// release() (or the end of the scope). One per link: its promises serve once.
class HeldAuthorization {
 public:
  HeldAuthorization(HeldVerify& link, gate::Gate& gate, const gate::Offer& offer, std::string header) : link_(link) {
    link.hold_next = true;
    thread_ = std::thread([this, &gate, &offer, header = std::move(header)] {
      result_.emplace(http::run_blocking(gate.authorize(offer, header)));
    });
    if (link.entered.get_future().wait_for(std::chrono::seconds(30)) != std::future_status::ready)
      ADD_FAILURE() << "the payload never reached /verify";
  }
  HeldAuthorization(const HeldAuthorization&) = delete;
  HeldAuthorization& operator=(const HeldAuthorization&) = delete;
  ~HeldAuthorization() {
    if (thread_.joinable()) (void)release();
  }
  // Lets the answer go; the payload's outcome.
  gate::Decision<gate::Authorization>& release() {
    link_.release.set_value();
    thread_.join();
    return *result_;
  }

 private:
  HeldVerify& link_;
  std::thread thread_;
  std::optional<gate::Decision<gate::Authorization>> result_;
};

// A payer that is a contract (EIP-1271, payerAuthorizer zero): a wallet put at a fresh address
// with anvil_setCode, funded by a mint. Only the chain can check its signatures, so each payload
// goes to the facilitator, and it goes before the channel's lease is taken: a payload still being
// checked (held here) keeps no one out, as a forged one would for the whole round trip. It is then
// judged against the running total that moved meanwhile.
TEST_F(FacilitatorGateTest, AContractPayersPayloadIsCheckedOnChainWithoutHoldingTheChannel) {
  HeldVerify link(*facilitator_);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent = contract_payer(0x71, 95);
  ASSERT_FALSE(HasFailure());

  HeldAuthorization held(link, gate, offer, agent.voucher_header(offer.requirements, 2 * kPrice));
  auto next = run(gate.authorize(offer, agent.voucher_header(offer.requirements, 2 * kPrice)));
  const bool served = std::holds_alternative<gate::Authorization>(next);
  if (served) (void)accepted(run(gate.settle(std::get<gate::Authorization>(std::move(next)), kPrice)));
  auto& late = held.release();
  ASSERT_TRUE(served) << "refused while another payload was being checked: "
                      << std::get<Refusal>(next).error.to_string();
  ASSERT_TRUE(std::holds_alternative<Refusal>(late)) << "the same voucher served twice";
  const Refusal& refused = std::get<Refusal>(late);
  EXPECT_EQ(refused.error.code, ErrorCode::invalid_batch_settlement_evm_cumulative_amount_mismatch);
  ASSERT_TRUE(refused.corrective.has_value()) << "a payload the chain accepted gets the channel's state";
  EXPECT_EQ(refused.corrective->chargedCumulativeAmount, 2 * kPrice);

  // A signature the wallet refuses gets voucher_signature, and none of the channel's state.
  ASSERT_NO_FATAL_FAILURE(set_code(agent.config.payer, kWalletRefusingAll));
  auto forged = run(gate.authorize(offer, agent.voucher_header(offer.requirements, 7 * kPrice)));
  ASSERT_TRUE(std::holds_alternative<Refusal>(forged));
  EXPECT_EQ(std::get<Refusal>(forged).error.code, ErrorCode::invalid_batch_settlement_evm_voucher_signature);
  EXPECT_FALSE(std::get<Refusal>(forged).corrective.has_value());
  EXPECT_EQ((*store_->get(agent.id))->chargedCumulativeAmount, 2 * kPrice);
}

// The chain can move while a contract payer's payload is being checked: a refund through the gate
// lands meanwhile here. The payload's snapshot of the chain, read before, is then older than the
// gate's, and the facilitator is asked again: the voucher, above what is left, is refused, not
// served against the balance before the refund.
TEST_F(FacilitatorGateTest, AContractPayersPayloadCheckedWhileARefundLandsIsJudgedOnTheChainAfterIt) {
  HeldVerify link(*facilitator_);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent = contract_payer(0x73, 96);
  ASSERT_FALSE(HasFailure());

  const auto asked_before = metrics_.facilitator_verifications.load();
  HeldAuthorization held(link, gate, offer, agent.voucher_header(offer.requirements, 2 * kPrice));
  auto refund = run(gate.authorize(offer, agent.refund_header(offer.requirements, kPrice, 48 * kPrice + kPrice / 2)));
  const bool refunding = std::holds_alternative<gate::Authorization>(refund);
  if (refunding) (void)accepted(run(gate.refund(std::get<gate::Authorization>(std::move(refund)))));
  auto& late = held.release();
  ASSERT_TRUE(refunding) << std::get<Refusal>(refund).error.to_string();
  ASSERT_EQ(onchain(agent.id).balance, kPrice + kPrice / 2) << "the refund landed";

  ASSERT_TRUE(std::holds_alternative<Refusal>(late)) << "served against the balance before the refund";
  EXPECT_EQ(std::get<Refusal>(late).error.code, ErrorCode::invalid_batch_settlement_evm_cumulative_exceeds_balance);
  EXPECT_EQ((*store_->get(agent.id))->chargedCumulativeAmount, kPrice);
  EXPECT_EQ(metrics_.facilitator_verifications.load() - asked_before, 3u)
      << "the refund's answer, read on an unchanged channel, is used; the held voucher's is asked again";
}

// The receiverAuthorizer's signatures in a refund are the server's to give: a payer's own, sent
// along, are dropped, and the facilitator (the delegated authorizer) signs instead. Forwarded, they
// would be used as they are, and the refund would fail on chain.
TEST_F(FacilitatorGateTest, ARefundIsSignedByTheAuthorizerNotWithThePayersSignatures) {
  ASSERT_NO_FATAL_FAILURE(open_gate());
  const gate::Offer& offer = offers_->offers().at(0);
  const PrivateKey payer = key_from(5);
  const gate::test::TestAgent agent(payer, config_, 93);
  open_channel(agent);
  const Signature payers_own = payer.sign(Bytes32{});

  auto refund = accepted(run(gate_->refund(
      accepted(run(gate_->authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice, std::nullopt, payers_own)))))));
  EXPECT_TRUE(refund.success) << refund.errorReason.value_or("");
  EXPECT_EQ(onchain(agent.id).balance, 2 * kPrice) << "refunded down to the charged total";
}

// A refund that lands on chain while its reply is lost leaves the gate with a mirror showing the
// money still there. The gate must not go on checking vouchers against it: the next one is
// checked through the facilitator (and refused, the balance being gone), or refused outright
// while the facilitator is away.
TEST_F(FacilitatorGateTest, ALostRefundReplyLeavesNoMirrorToServeOn) {
  UnreliableLink link(*facilitator_);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent(key_from(4), config_, 92);

  open_channel(agent);

  link.lose_next_settle_reply = true;
  auto refund = run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice))))));
  ASSERT_TRUE(std::holds_alternative<Refusal>(refund));
  EXPECT_EQ(std::get<Refusal>(refund).status, 503);
  ASSERT_EQ(onchain(agent.id).balance, 2 * kPrice) << "the refund landed";

  link.down = true;
  auto offline = run(gate.authorize(offer, agent.voucher_header(offer.requirements, 3 * kPrice)));
  ASSERT_TRUE(std::holds_alternative<Refusal>(offline)) << "served on the pre-refund mirror";
  EXPECT_EQ(std::get<Refusal>(offline).status, 503);

  link.down = false;
  auto online = run(gate.authorize(offer, agent.voucher_header(offer.requirements, 3 * kPrice)));
  ASSERT_TRUE(std::holds_alternative<Refusal>(online)) << "served on the pre-refund mirror";
  EXPECT_EQ(std::get<Refusal>(online).error.code, ErrorCode::invalid_batch_settlement_evm_cumulative_exceeds_balance);
  EXPECT_EQ((*store_->get(agent.id))->chargedCumulativeAmount, 2 * kPrice);
  EXPECT_EQ((*store_->get(agent.id))->onchainSyncedAt, 0u) << "the store forgets the mirror too (restarts)";
}

// A refund sent but not yet mined when the facilitator stops waiting for it (its receipt timeout,
// shortened here; anvil's automine off keeps the transaction pending): its outcome is unknown, and
// the chain still shows the balance before it. Vouchers are not served on the money it may take
// back: until the chain's refund nonce moves, that balance is discounted by the refund. The same
// refund can be asked again meanwhile, and once it lands the channel is served as before.
TEST_F(FacilitatorGateTest, ARefundStillPendingIsNotServedAgainst) {
  auto facilitator = impatient_facilitator();
  ASSERT_NO_FATAL_FAILURE(open_gate(facilitator.get()));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent(key_from(2), config_, 98);
  ASSERT_NO_FATAL_FAILURE(leave_refund_pending(agent));

  auto pending = run(gate.authorize(offer, agent.voucher_header(offer.requirements, 3 * kPrice)));
  const bool served = std::holds_alternative<gate::Authorization>(pending);
  const Error refused = served ? Error{} : std::get<Refusal>(pending).error;
  if (served) (void)accepted(run(gate.settle(std::get<gate::Authorization>(std::move(pending)), kPrice)));
  // Asked again, the refund is the same one (not "nothing left"), still waiting for its block.
  auto again = run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice))))));
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_mine", "[]")));
  restore_fee_market();
  EXPECT_EQ(onchain(agent.id).balance, 2 * kPrice) << "the refund landed, once";
  EXPECT_FALSE(served) << "served on money the refund then took back";
  EXPECT_EQ(refused.code, ErrorCode::invalid_batch_settlement_evm_cumulative_exceeds_balance) << refused.to_string();
  ASSERT_TRUE(std::holds_alternative<Refusal>(again));
  EXPECT_EQ(std::get<Refusal>(again).error.code, ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed)
      << std::get<Refusal>(again).error.to_string();
  EXPECT_EQ((*store_->get(agent.id))->chargedCumulativeAmount, 2 * kPrice);

  // Landed: a top-up and its voucher are served on the chain's balance again.
  auto topped = run(gate.authorize(offer, agent.deposit_header(offer.requirements, 3 * kPrice, 10 * kPrice)));
  ASSERT_TRUE(std::holds_alternative<gate::Authorization>(topped)) << std::get<Refusal>(topped).error.to_string();
  const auto served_after = accepted(run(gate.settle(std::get<gate::Authorization>(std::move(topped)), kPrice)));
  EXPECT_EQ(snapshot_of(served_after).balance, 12 * kPrice);
}

// A chain view behind a refund of unknown outcome: its refund nonce is before the refund's (a node
// lagging, or a reorg; anvil's evm_revert rolls the chain back). The refunds at the nonces in
// between may land again before it, so the balance on that view less the refund is more than may be
// left: nothing is judged on it (503, ask again), and the refund stays held back.
TEST_F(FacilitatorGateTest, NothingIsServedOnAChainViewBehindARefundInFlight) {
  auto facilitator = impatient_facilitator();
  ASSERT_NO_FATAL_FAILURE(open_gate(facilitator.get()));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent(key_from(2), config_, 88);
  open_channel(agent);
  const std::string before_refunds = chain_snapshot();
  ASSERT_FALSE(before_refunds.empty());
  (void)accepted(run(gate.refund(
      accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice, kPrice)))))));
  const auto restored = chain_restored_at_exit();
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[false]")));
  auto unmined = run(gate.refund(
      accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice))))));
  ASSERT_TRUE(std::holds_alternative<Refusal>(unmined));
  EXPECT_EQ(std::get<Refusal>(unmined).error.code, ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed);
  const PendingRefund in_flight{U256{1}, 47 * kPrice};  // all that was left: 50 - 2 charged - 1 refunded
  ASSERT_EQ(held_back(agent.id), in_flight);

  ASSERT_TRUE(chain_reverted_to(before_refunds));
  ASSERT_EQ(onchain(agent.id).balance, 50 * kPrice) << "the first refund is undone";
  // 50 on chain less the 47 is 3, but 2 once the first refund lands again: nothing can be served.
  const auto voucher = refusal_of(run(gate.authorize(offer, agent.voucher_header(offer.requirements, 3 * kPrice))));
  EXPECT_TRUE(refused_as_behind(voucher, "")) << (voucher ? voucher->error.to_string() : "served");
  const auto refund = refusal_of(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice))));
  EXPECT_TRUE(refused_as_behind(refund, "")) << (refund ? refund->error.to_string() : "asked at a nonce already used");
  EXPECT_EQ(held_back(agent.id), in_flight);
  EXPECT_EQ((*store_->get(agent.id))->chargedCumulativeAmount, 2 * kPrice);
}

// The same without a refund in flight: a view behind a refund the gate saw land is behind the
// channel's mirror, and its balance has the refund's money again. A deposit (always checked
// through the facilitator) is not judged on it.
TEST_F(FacilitatorGateTest, NothingIsJudgedOnAChainViewBehindARefundTheGateSawLand) {
  ASSERT_NO_FATAL_FAILURE(open_gate());
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent(key_from(2), config_, 87);
  open_channel(agent);
  const std::string before_refund = chain_snapshot();
  ASSERT_FALSE(before_refund.empty());
  (void)accepted(run(gate.refund(
      accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice, 10 * kPrice)))))));
  ASSERT_TRUE(chain_reverted_to(before_refund));

  const auto deposit =
      refusal_of(run(gate.authorize(offer, agent.deposit_header(offer.requirements, 3 * kPrice, 10 * kPrice))));
  ASSERT_TRUE(deposit) << "judged on the balance before a refund the gate saw land";
  EXPECT_TRUE(refused_as_behind(deposit, "refund nonce 0, not 1")) << deposit->error.to_string();
  EXPECT_EQ(onchain(agent.id).balance, 50 * kPrice) << "nothing was deposited";
}

// A refund is recorded in the store before the facilitator is asked (a crash while it is out must
// not forget it). One the facilitator refuses for good (its simulation failing: the link double
// answers so without asking, a revert anvil cannot be made to stage on demand) is cleared again;
// an earlier, smaller refund of unknown outcome at the nonce is held back again.
TEST_F(FacilitatorGateTest, ARefundRefusedForGoodIsNoLongerHeldBack) {
  auto facilitator = impatient_facilitator();
  UnreliableLink link(*facilitator);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const auto refused_for_good = [&](const gate::test::TestAgent& agent, Uint128 amount) {
    std::optional<PendingRefund> recorded;
    link.on_settle = [&] { recorded = held_back(agent.id); };
    link.refuse_next_settle = "invalid_batch_settlement_evm_refund_simulation_failed";
    auto refund = run(gate.refund(
        accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice, amount))))));
    link.on_settle = nullptr;
    EXPECT_TRUE(std::holds_alternative<Refusal>(refund));
    if (auto* r = std::get_if<Refusal>(&refund)) {
      EXPECT_EQ(r->error.code, ErrorCode::invalid_batch_settlement_evm_refund_simulation_failed) << r->error.to_string();
    }
    return recorded;
  };

  const gate::test::TestAgent fresh(key_from(3), config_, 91);
  open_channel(fresh);
  const auto recorded = refused_for_good(fresh, 10 * kPrice);
  ASSERT_TRUE(recorded) << "asked before it was recorded";
  EXPECT_EQ(recorded->amount, 10 * kPrice);
  EXPECT_FALSE(held_back(fresh.id)) << "a refund that can never land is still held back";

  const gate::test::TestAgent waiting(key_from(2), config_, 90);
  ASSERT_NO_FATAL_FAILURE(leave_refund_pending(waiting, 10 * kPrice));  // unmined
  EXPECT_EQ(refused_for_good(waiting, 40 * kPrice), (PendingRefund{U256{0}, 40 * kPrice})) << "the larger may land";
  EXPECT_EQ(held_back(waiting.id), (PendingRefund{U256{0}, 10 * kPrice})) << "the refund still unmined was forgotten";
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[true]")));  // that refund lands

  const gate::test::TestAgent waiting_more(key_from(4), config_, 89);
  ASSERT_NO_FATAL_FAILURE(leave_refund_pending(waiting_more));  // 48 prices, unmined
  EXPECT_EQ(refused_for_good(waiting_more, 10 * kPrice), (PendingRefund{U256{0}, 48 * kPrice})) << "the larger may land";
  EXPECT_EQ(held_back(waiting_more.id), (PendingRefund{U256{0}, 48 * kPrice}));
  restore_fee_market();
}

// A refund of unknown outcome asked again, and its transaction reported failed (the facilitator's
// journal answers so for the same refund; the link double answers for it, a failure anvil cannot
// be made to stage on demand, and the transaction is dropped to match): it will never land, and is
// no longer held back. Another amount asked at the nonce and failing leaves the first held back.
TEST_F(FacilitatorGateTest, TheSameRefundAskedAgainWhoseTransactionFailedIsNoLongerHeldBack) {
  auto facilitator = impatient_facilitator();
  UnreliableLink link(*facilitator);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const auto restored = chain_restored_at_exit();
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const auto failed_again = [&](const gate::test::TestAgent& agent, Uint128 amount) {
    link.refuse_next_settle = "invalid_batch_settlement_evm_refund_transaction_failed";
    auto refund = run(gate.refund(
        accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice, amount))))));
    ASSERT_TRUE(std::holds_alternative<Refusal>(refund));
    EXPECT_EQ(std::get<Refusal>(refund).error.code, ErrorCode::invalid_batch_settlement_evm_refund_transaction_failed);
  };
  const gate::test::TestAgent agent(key_from(2), config_, 88);
  ASSERT_NO_FATAL_FAILURE(leave_refund_pending(agent, 10 * kPrice));  // unmined
  ASSERT_TRUE(run(devnet_->rpc().raw("anvil_dropAllTransactions", "[]")));  // and never to be
  ASSERT_NO_FATAL_FAILURE(failed_again(agent, 40 * kPrice));
  EXPECT_EQ(held_back(agent.id), (PendingRefund{U256{0}, 10 * kPrice})) << "another refund's failure forgot the first";
  ASSERT_NO_FATAL_FAILURE(failed_again(agent, 10 * kPrice));
  EXPECT_FALSE(held_back(agent.id)) << "the same refund, its transaction failed, is still held back";
}

// The same refund, with the gate restarted while its transaction is still unmined: the refund was
// recorded in the store before the facilitator was asked, so the restarted gate does not count on
// its money either. Once it lands, the store forgets it with the gate.
TEST_F(FacilitatorGateTest, ARefundPendingAcrossARestartIsNotServedAgainst) {
  auto facilitator = impatient_facilitator();
  ASSERT_NO_FATAL_FAILURE(open_gate(facilitator.get()));
  const gate::test::TestAgent agent(key_from(2), config_, 95);
  ASSERT_NO_FATAL_FAILURE(leave_refund_pending(agent));
  ASSERT_EQ(store_->pending_refunds()->size(), 1u);

  ASSERT_NO_FATAL_FAILURE(restart_gate(facilitator.get()));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  auto after = run(gate.authorize(offer, agent.voucher_header(offer.requirements, 3 * kPrice)));
  const bool served = std::holds_alternative<gate::Authorization>(after);
  const Error refused = served ? Error{} : std::get<Refusal>(after).error;
  if (served) (void)accepted(run(gate.settle(std::get<gate::Authorization>(std::move(after)), kPrice)));
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_mine", "[]")));
  restore_fee_market();
  EXPECT_EQ(onchain(agent.id).balance, 2 * kPrice) << "the refund landed";
  EXPECT_FALSE(served) << "the restarted gate served on money the refund then took back";
  EXPECT_EQ(refused.code, ErrorCode::invalid_batch_settlement_evm_cumulative_exceeds_balance) << refused.to_string();

  auto topped = run(gate.authorize(offer, agent.deposit_header(offer.requirements, 3 * kPrice, 10 * kPrice)));
  ASSERT_TRUE(std::holds_alternative<gate::Authorization>(topped)) << std::get<Refusal>(topped).error.to_string();
  const auto served_after = accepted(run(gate.settle(std::get<gate::Authorization>(std::move(topped)), kPrice)));
  EXPECT_EQ(snapshot_of(served_after).balance, 12 * kPrice);
  EXPECT_TRUE(store_->pending_refunds()->empty()) << "the landed refund is still held back in the store";
}

// A payer who refunded everything never comes back to make the gate read the chain: the settle job,
// reading it, clears a refund of unknown outcome once the chain moved past it (not before), and
// deletes the channel it spent. The running gate's refresh then forgets the channel (its mirror
// from before the refund, which the chain is past); the restarted gate does not hold it either.
TEST_F(FacilitatorGateTest, TheSettleJobClearsARefundThatLandedUnheard) {
  auto facilitator = impatient_facilitator();
  ASSERT_NO_FATAL_FAILURE(open_gate(facilitator.get()));
  const gate::test::TestAgent gone(key_from(2), config_, 88);
  ASSERT_NO_FATAL_FAILURE(leave_refund_pending(gone));  // all 48 prices left, unmined
  settlement::RpcChainReader chain(devnet_->rpc(), deployment_->settlement);
  auto job_options = settlement::settle_job_options(config_);
  job_options.chain = &chain;

  auto unmined = job_options;
  unmined.policy.minUnclaimed = kUint128Max;  // nothing sent while the chain mines nothing
  unmined.sweep = false;
  EXPECT_EQ(settle(unmined, *store_).resolvedRefunds, 0u);
  EXPECT_EQ(store_->pending_refunds()->size(), 1u) << "cleared while the refund could still land";

  ASSERT_TRUE(run(devnet_->rpc().raw("evm_mine", "[]")));  // the refund lands
  ASSERT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[true]")));
  ASSERT_EQ(onchain(gone.id).balance, 2 * kPrice);
  const auto summary = settle(job_options, *store_);
  EXPECT_TRUE(summary.ok());
  EXPECT_EQ(summary.resolvedRefunds, 1u);
  EXPECT_TRUE(store_->pending_refunds()->empty());
  EXPECT_FALSE(*store_->get(gone.id)) << "the spent channel kept its row";
  EXPECT_EQ(*store_->closed_channel(gone.id), (persistence::ClosedChannel{U256{1}, 2 * kPrice}))
      << "the chain's refund nonce, past the refund, is what a view must not be behind";
  ASSERT_TRUE(gate_->channels().find(gone.id));
  ASSERT_TRUE(gate_->refresh_claimed());
  EXPECT_FALSE(gate_->channels().find(gone.id)) << "held with its refund of unknown outcome";
  ASSERT_NO_FATAL_FAILURE(restart_gate(facilitator.get()));
  EXPECT_FALSE(gate_->channels().find(gone.id));
  restore_fee_market();
}

// The contract refunds at most what is unclaimed when the transaction runs: less than was asked
// should the channel move first, a race anvil cannot be made to stage (the link double reports the
// smaller figure). The gate's answer says what the facilitator saw refunded, or what was asked when
// it says nothing.
TEST_F(FacilitatorGateTest, ARefundIsReportedAtTheAmountTheFacilitatorSawRefunded) {
  UnreliableLink link(*facilitator_);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent(key_from(3), config_, 92);
  (void)accepted(run(gate.settle(
      accepted(run(gate.authorize(offer, agent.deposit_header(offer.requirements, kPrice, 50 * kPrice)))), kPrice)));
  link.report_amount = std::optional<std::string>{to_decimal(7 * kPrice)};
  const auto smaller = accepted(
      run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, kPrice, 10 * kPrice)))))));
  EXPECT_EQ(smaller.amount, to_decimal(7 * kPrice));
  link.report_amount = std::optional<std::string>{};
  const auto unsaid = accepted(
      run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, kPrice, 5 * kPrice)))))));
  EXPECT_EQ(unsaid.amount, to_decimal(5 * kPrice));
  link.report_amount = std::optional<std::string>{to_decimal(40 * kPrice)};
  const auto overstated = accepted(
      run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, kPrice, 3 * kPrice)))))));
  EXPECT_EQ(overstated.amount, to_decimal(3 * kPrice)) << "a refund takes no more than was asked";
  const auto real = accepted(
      run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, kPrice, 2 * kPrice)))))));
  EXPECT_EQ(real.amount, to_decimal(2 * kPrice)) << "the Refunded event's figure";
}

// A channel refunded in full leaves the store, but only once what it was charged is claimed: a
// facilitator reporting the refund without the claim (one of another make, or a faulty one) must
// not make the gate forget the voucher the settle job still needs. The settle job deletes the row
// once it sees the claim.
TEST_F(FacilitatorGateTest, AFullRefundReportedWithoutItsClaimKeepsTheChannelForTheSettleJob) {
  UnreliableLink link(*facilitator_);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  Bytes32 kept_id{};
  for (const bool claim_reported : {true, false}) {
    const gate::test::TestAgent agent(key_from(6), config_, claim_reported ? 93 : 94);
    kept_id = agent.id;
    open_channel(agent);
    if (!claim_reported) link.report_state = [](protocol::ChannelSnapshot& s) { s.totalClaimed = 0; };
    auto refund = accepted(run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice)))))));
    EXPECT_TRUE(refund.success);
    const auto kept = *store_->get(agent.id);
    if (claim_reported) {
      EXPECT_FALSE(kept) << "a channel refunded in full and claimed is forgotten";
    } else {
      ASSERT_TRUE(kept) << "the unclaimed voucher was forgotten";
      EXPECT_EQ(kept->chargedCumulativeAmount, 2 * kPrice);
      EXPECT_EQ(kept->signedMaxClaimable, 2 * kPrice);
    }
  }
  // The settle job finds the claim on chain, and the kept row, with nothing left to serve or
  // claim, goes.
  const auto summary = settle(config_, *store_, 100);
  EXPECT_TRUE(summary.ok()) << summary.sweepError;
  EXPECT_FALSE(*store_->get(kept_id)) << "kept for good";
}

// A full refund reported on a view that does not show it yet (read from a node behind the
// refund's block), of a channel the settle job had claimed in full: the refund is held back, and
// the row that holds it is kept (deleting it, the gate would take the node's next view, with the
// refund's money, as a new channel's).
TEST_F(FacilitatorGateTest, AFullRefundTheViewDoesNotShowYetKeepsItsChannelHeldBack) {
  UnreliableLink link(*facilitator_);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent(key_from(6), config_, 86);
  open_channel(agent);
  ASSERT_EQ(settle(config_, *store_, 100).claimedChannels(), 1u);
  link.report_state = [](protocol::ChannelSnapshot& s) {  // as before the refund's transaction
    s.balance = 50 * kPrice;
    s.refundNonce = U256{0};
  };
  auto refund = accepted(run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice)))))));
  EXPECT_TRUE(refund.success);
  EXPECT_EQ(snapshot_of(refund).balance, 2 * kPrice) << "the refund is held back";
  EXPECT_EQ(held_back(agent.id), (PendingRefund{U256{0}, 48 * kPrice}));
  EXPECT_TRUE(gate.channels().find(agent.id).has_value());
}

// A channel refunded in full with everything claimed leaves the gate and its store, but its refund
// nonce stays: a payload on it later (a voucher, a top-up), checked on a view behind that refund (a
// node lagging), would be judged on the money refunded. It is refused as any view behind is, and the
// top-up is served on the chain as it is.
TEST_F(FacilitatorGateTest, AForgottenChannelsRefundNonceStillRefusesAViewBehindIt) {
  UnreliableLink link(*facilitator_);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent(key_from(6), config_, 84);
  open_channel(agent);
  (void)accepted(run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice)))))));
  ASSERT_FALSE(*store_->get(agent.id)) << "refunded in full and claimed: forgotten";
  ASSERT_FALSE(gate.channels().find(agent.id).has_value());
  EXPECT_EQ(*store_->closed_channel(agent.id), (persistence::ClosedChannel{U256{1}, 2 * kPrice}));

  // As after the claim, before the refund: the claimed total is not behind, the refund nonce is.
  const protocol::ChannelSnapshot before_refund{agent.id, 50 * kPrice, 2 * kPrice, 0, U256{0}, std::nullopt};
  link.report_verify = verified_on(before_refund);
  const auto voucher = refusal_of(run(gate.authorize(offer, agent.voucher_header(offer.requirements, 3 * kPrice))));
  EXPECT_TRUE(refused_as_behind(voucher, "refund nonce 0, not 1")) << (voucher ? voucher->error.to_string() : "accepted");
  link.report_verify = verified_on(before_refund);
  const auto behind = refusal_of(run(gate.authorize(offer, agent.deposit_header(offer.requirements, 3 * kPrice, 10 * kPrice))));
  EXPECT_TRUE(refused_as_behind(behind, "refund nonce 0, not 1")) << (behind ? behind->error.to_string() : "accepted");

  const auto topped = accepted(run(gate.settle(
      accepted(run(gate.authorize(offer, agent.deposit_header(offer.requirements, 3 * kPrice, 10 * kPrice)))), kPrice)));
  EXPECT_EQ(snapshot_of(topped).balance, 12 * kPrice);
  EXPECT_EQ(snapshot_of(topped).refundNonce, U256{1});
}

// The settle job deletes a channel spent and claimed; the gate no longer holds it once restarted,
// or once its refresh reads the settle job's records (so a gate running for months does not hold
// every channel it ever served). A payload on it checked on a view behind the claim (a node
// lagging) would restart its running total below what was claimed, and the vouchers served on it
// could never be claimed: it is refused. On the chain as it is, the same voucher is refused as
// below the claimed total, and a top-up is served.
TEST_F(FacilitatorGateTest, AChannelTheSettleJobDeletedIsNotRestartedBelowItsClaim) {
  UnreliableLink link(*facilitator_);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  for (const bool by_restart : {true, false}) {
    SCOPED_TRACE(by_restart ? "forgotten by a restart" : "forgotten by the claimed refresh");
    const gate::Offer& offer = offers_->offers().at(0);
    const gate::test::TestAgent agent(key_from(3), config_, by_restart ? 83 : 84);
    ASSERT_NO_FATAL_FAILURE(spend_until_deleted(agent));
    EXPECT_EQ(*store_->closed_channel(agent.id), (persistence::ClosedChannel{U256{0}, 2 * kPrice}));
    ASSERT_TRUE(gate_->channels().find(agent.id).has_value()) << "held until then";
    if (by_restart) {
      ASSERT_NO_FATAL_FAILURE(restart_gate(&link));
    } else {
      const auto forgotten = metrics_.forgotten_channels.load();
      ASSERT_TRUE(gate_->refresh_claimed());
      EXPECT_EQ(metrics_.forgotten_channels.load(), forgotten + 1);
    }
    ASSERT_FALSE(gate_->channels().find(agent.id).has_value());

    // A top-up whose voucher starts the running total over at nothing.
    const auto restarted = [&] { return agent.deposit_header(offer.requirements, kPrice, 10 * kPrice); };
    link.report_verify = verified_on(protocol::ChannelSnapshot{agent.id, 2 * kPrice, 0, 0, U256{0}, std::nullopt});
    const auto behind = refusal_of(run(gate_->authorize(offer, restarted())));
    EXPECT_TRUE(refused_as_behind(behind, "claimed total 0, not " + to_decimal(2 * kPrice)))
        << (behind ? behind->error.to_string() : "accepted");
    const auto below = refusal_of(run(gate_->authorize(offer, restarted())));
    ASSERT_TRUE(below) << "a voucher below the claimed total was accepted";
    EXPECT_EQ(below->error.code, ErrorCode::invalid_batch_settlement_evm_cumulative_below_claimed)
        << below->error.to_string();

    const auto topped = accepted(run(gate_->settle(
        accepted(run(gate_->authorize(offer, agent.deposit_header(offer.requirements, 3 * kPrice, 10 * kPrice)))), kPrice)));
    EXPECT_EQ(snapshot_of(topped).balance, 12 * kPrice);
    EXPECT_EQ(snapshot_of(topped).totalClaimed, 2 * kPrice);
  }
}

// A channel the settle job deleted, then topped up through the gate before its refresh reads the
// deletion: the gate's state is newer than the deleted row, and the refresh keeps it, as the row
// the top-up wrote back.
TEST_F(FacilitatorGateTest, TheClaimedRefreshKeepsADeletedChannelToppedUpSince) {
  ASSERT_NO_FATAL_FAILURE(open_gate());
  const gate::Offer& offer = offers_->offers().at(0);
  const gate::test::TestAgent agent(key_from(3), config_, 85);
  ASSERT_NO_FATAL_FAILURE(spend_until_deleted(agent));
  // Its request charged nothing (a dynamic price): only the balance tells the state newer.
  (void)accepted(run(gate_->settle(
      accepted(run(gate_->authorize(offer, agent.deposit_header(offer.requirements, 3 * kPrice, 10 * kPrice)))), 0)));
  const auto forgotten = metrics_.forgotten_channels.load();
  ASSERT_TRUE(gate_->refresh_claimed());
  ASSERT_TRUE(gate_->refresh_claimed());
  EXPECT_EQ(metrics_.forgotten_channels.load(), forgotten);
  const auto held = gate_->channels().find(agent.id);
  ASSERT_TRUE(held.has_value()) << "a channel topped up since its row was deleted was forgotten";
  EXPECT_EQ(held->onchain.balance, 12 * kPrice);
  EXPECT_EQ(held->chargedCumulativeAmount, 2 * kPrice);
  ASSERT_TRUE(*store_->get(agent.id)) << "the top-up wrote the row back";
}

// A deposit or refund executed, then reported on a view behind the channel as the gate saw it (a
// node behind a refund that landed before): the answer is a 503 naming the transaction, nothing is
// committed on that view, and the refund stays held back.
TEST_F(FacilitatorGateTest, AnOutcomeReportedOnAViewBehindIsNotCommitted) {
  UnreliableLink link(*facilitator_);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent(key_from(6), config_, 85);
  open_channel(agent);
  (void)accepted(run(gate.refund(
      accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice, kPrice)))))));
  const auto behind = [](protocol::ChannelSnapshot& s) { s.refundNonce = U256{0}; };
  const auto executed_but_behind = [](const std::optional<Refusal>& r, std::string_view what) {
    // The client is told the transaction (a 503's detail is otherwise the operator's alone).
    return refused_as_behind(r, what) && r->error.detail.find("refund nonce 0, not 1") != std::string::npos &&
           r->detailForClient;
  };

  link.report_state = behind;
  const auto deposit = refusal_of(run(gate.settle(
      accepted(run(gate.authorize(offer, agent.deposit_header(offer.requirements, 3 * kPrice, 10 * kPrice)))), kPrice)));
  EXPECT_TRUE(executed_but_behind(deposit, "the deposit landed (transaction 0x")) << (deposit ? deposit->error.to_string() : "served");
  EXPECT_EQ(onchain(agent.id).balance, 59 * kPrice);
  EXPECT_EQ((*store_->get(agent.id))->chargedCumulativeAmount, 2 * kPrice) << "charged on a view behind";

  link.report_state = behind;
  const auto refund = refusal_of(run(gate.refund(
      accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice, 5 * kPrice)))))));
  EXPECT_TRUE(executed_but_behind(refund, "the refund was executed (transaction 0x")) << (refund ? refund->error.to_string() : "answered");
  EXPECT_EQ(onchain(agent.id).balance, 54 * kPrice);
  EXPECT_EQ(held_back(agent.id), (PendingRefund{U256{1}, 5 * kPrice}));
  const auto kept = *store_->get(agent.id);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->onchainSyncedAt, 0u) << "a view behind was stored as the mirror";
  EXPECT_EQ(kept->onchain.refundNonce, U256{1});

  // The chain as it is: the refund has landed, and the next voucher is served on what is left.
  const auto served =
      accepted(run(gate.settle(accepted(run(gate.authorize(offer, agent.voucher_header(offer.requirements, 3 * kPrice)))), kPrice)));
  EXPECT_EQ(snapshot_of(served).balance, 54 * kPrice);
  EXPECT_FALSE(held_back(agent.id));
}

// The settle job deletes a channel spent to its last unit once it is claimed; the gate still
// holds it, with the claimed total from before. A top-up whose reply is lost marks the mirror
// stale without writing the row back: a row with the claim undone would send the settle job to
// claim again what was claimed.
TEST_F(FacilitatorGateTest, ATopUpOfAChannelTheSettleJobDeletedDoesNotBringItsRowBack) {
  UnreliableLink link(*facilitator_);
  ASSERT_NO_FATAL_FAILURE(open_gate(&link));
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  const gate::test::TestAgent agent(key_from(3), config_, 97);
  ASSERT_NO_FATAL_FAILURE(spend_until_deleted(agent));

  link.lose_next_settle_reply = true;
  auto topped = run(gate.authorize(offer, agent.deposit_header(offer.requirements, 3 * kPrice, 10 * kPrice)));
  ASSERT_TRUE(std::holds_alternative<gate::Authorization>(topped)) << std::get<Refusal>(topped).error.to_string();
  auto lost = run(gate.settle(std::get<gate::Authorization>(std::move(topped)), kPrice));
  ASSERT_TRUE(std::holds_alternative<Refusal>(lost));
  EXPECT_EQ(onchain(agent.id).balance, 12 * kPrice) << "the top-up landed";
  EXPECT_FALSE(*store_->get(agent.id)) << "the row came back with the claim undone";
  EXPECT_TRUE(store_->unclaimed()->empty());
}

// Once a channel's deposit revealed the payer's key, the gate checks later vouchers against it,
// which accepts r‖s under either v. The settle job claims with the v the contract recovers the
// payer from, so the provider still collects.
TEST_F(FacilitatorGateTest, AVoucherWithTheOtherVIsServedAndClaimedWithTheRightOne) {
  ASSERT_NO_FATAL_FAILURE(open_gate());
  const gate::GateConfig& config = config_;
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  persistence::ChannelStore& store = *store_;
  const gate::test::TestAgent agent(key_from(5), config, 91);

  open_channel(agent);
  (void)accepted(run(gate.settle(
      accepted(run(gate.authorize(offer, agent.voucher_header_with_the_other_v(offer.requirements, 3 * kPrice)))), kPrice)));
  EXPECT_EQ((*store.get(agent.id))->signature.bytes()[64],
            agent.voucher(3 * kPrice).signature.bytes()[64] == 27 ? 28 : 27);

  // A corrective 402 gives the client back its voucher with the v it signed, which it recovers.
  auto stale = run(gate.authorize(offer, agent.voucher_header(offer.requirements, 3 * kPrice)));
  ASSERT_TRUE(std::holds_alternative<Refusal>(stale));
  const auto& corrective = std::get<Refusal>(stale).corrective;
  ASSERT_TRUE(corrective.has_value());
  EXPECT_EQ(corrective->signature, agent.voucher(3 * kPrice).signature);

  const auto summary = settle(config, store, 100);
  EXPECT_TRUE(summary.ok()) << summary.sweepError;
  EXPECT_EQ(summary.claimedAmount(), 3 * kPrice);
  EXPECT_EQ(onchain(agent.id).totalClaimed, 3 * kPrice);
}

// The settle job claims through the facilitator in batches of 100, 10 and 1 channels; every
// channel's totalClaimed on chain ends equal to what the gate charged, and payTo holds all of it.
TEST_F(FacilitatorGateTest, TheSettleJobClaimsInBatchesOfAHundredTenAndOne) {
  ASSERT_NO_FATAL_FAILURE(open_gate());
  const gate::GateConfig& config = config_;
  const gate::Offer& offer = offers_->offers().at(0);
  gate::Gate& gate = *gate_;
  persistence::ChannelStore& store = *store_;

  // 100 channels, each opened by a deposit request (executed on chain) and charged once.
  std::vector<gate::test::TestAgent> agents;
  for (std::uint8_t i = 0; i < 100; ++i) {
    agents.emplace_back(key_from(static_cast<std::uint8_t>(1 + i % kPayers)), config, i);
    auto served = run(gate.settle(accepted(run(gate.authorize(offer, agents.back().deposit_header(offer.requirements, kPrice, 10 * kPrice)))), kPrice));
    ASSERT_TRUE(std::holds_alternative<protocol::SettlementResponse>(served)) << "channel " << int{i};
  }
  // Charges one more request on the first n channels.
  std::vector<Uint128> charged(agents.size(), kPrice);
  const auto pay = [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      accepted(run(gate.settle(accepted(run(gate.authorize(offer, agents[i].voucher_header(offer.requirements, charged[i] + kPrice)))), kPrice)));
      charged[i] += kPrice;
    }
  };

  Uint128 total = 100 * kPrice;
  for (const std::size_t batch : {std::size_t{100}, std::size_t{10}, std::size_t{1}}) {
    if (batch < 100) {
      pay(batch);
      total += batch * kPrice;
    }
    const auto summary = settle(config, store, batch);
    ASSERT_TRUE(summary.ok()) << summary.sweepError;
    ASSERT_EQ(summary.batches.size(), 1u) << "batch " << batch;
    EXPECT_EQ(summary.batches[0].channels, batch);
    EXPECT_EQ(*token_balance(config.payTo).to_uint128(), total) << "after the batch of " << batch;
  }
  for (std::size_t i = 0; i < agents.size(); ++i) ASSERT_EQ(onchain(agents[i].id).totalClaimed, charged[i]) << i;
  EXPECT_TRUE(store.unclaimed()->empty());
}

}  // namespace
}  // namespace paychan::engine::facilitator::test
