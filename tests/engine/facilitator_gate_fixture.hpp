// The fixture of the tests of a gate using paychan's facilitator in-process (no HTTP hop) on a real
// chain (facilitator_gate_test.cpp, smart_wallet_gate_test.cpp): a gate whose receiverAuthorizer is
// delegated to the facilitator, its store in the test's folder, and the settle job beside it.
#pragma once

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>

#include "engine/gate/gate.hpp"
#include "engine/gate/offers.hpp"
#include "engine/settlement/settle_job.hpp"
#include "gate_chain_support.hpp"

namespace paychan::engine::facilitator::test {

using gate::Refusal;

// The refusal, or nothing when `d` was accepted (its lease, if any, is let go).
template <typename T>
inline std::optional<Refusal> refusal_of(gate::Decision<T> d) {
  if (auto* r = std::get_if<Refusal>(&d)) return std::move(*r);
  return std::nullopt;
}

template <typename T>
inline T accepted(gate::Decision<T> d) {
  if (auto* r = std::get_if<Refusal>(&d)) {
    ADD_FAILURE() << "refused " << r->status << ": " << r->error.to_string();
    std::abort();  // the test cannot go on without the value
  }
  return std::move(std::get<T>(d));
}

class FacilitatorGateTest : public GateChainTest {
 protected:
  // A provider whose receiverAuthorizer is delegated to the facilitator, at a fresh payTo.
  gate::GateConfig gate_config() {
    gate::GateConfig config = chain_config();
    config.receiverAuthorizer = authorizer().address();  // delegated: the facilitator signs claims and refunds
    config.withdrawDelay = 900;
    config.routes = {gate::RouteConfig{"POST", "/v1/infer", kPrice, std::nullopt, std::nullopt}};
    return config;
  }
  static std::uint64_t wall_clock() { return static_cast<std::uint64_t>(std::time(nullptr)); }

  // The gate under test: gate_config()'s one route, a store in the test's folder, the in-process
  // facilitator, the wall clock.
  void open_gate(gate::Facilitator* front = nullptr) {
    config_ = gate_config();
    offers_.emplace(gate::OfferTable::build(config_));
    ASSERT_NO_FATAL_FAILURE(start_gate(front));
  }

  // The gate stopped and started again on its store, with the same provider config.
  void restart_gate(gate::Facilitator* front) {
    gate_.reset();
    store_.reset();
    ASSERT_NO_FATAL_FAILURE(start_gate(front));
    ASSERT_TRUE(gate_->restore());
  }

  void start_gate(gate::Facilitator* front) {
    auto store = persistence::ChannelStore::open(dir_.file("gate.sqlite"), {});
    ASSERT_TRUE(store) << store.error().to_string();
    store_ = std::move(*store);
    gate::GateOptions options{config_.chainId, config_.network, 300, 600, std::nullopt, wall_clock};
    gate_ = std::make_unique<gate::Gate>(options, *store_, front != nullptr ? front : facilitator_.get(), metrics_);
  }

  // A facilitator that stops waiting for a receipt after 400 ms (anvil's automine off then leaves
  // a refund's transaction pending, its outcome unknown).
  std::unique_ptr<Facilitator> impatient_facilitator() {
    FacilitatorOptions quick;
    quick.receiptTimeout = std::chrono::milliseconds(400);
    quick.receiptPoll = std::chrono::milliseconds(50);
    return make_facilitator(quick);
  }

  // `agent` deposits 50 prices and pays 2.
  void open_channel(const gate::test::TestAgent& agent) {
    const gate::Offer& offer = offers_->offers().at(0);
    gate::Gate& gate = *gate_;
    (void)accepted(run(gate.settle(
        accepted(run(gate.authorize(offer, agent.deposit_header(offer.requirements, kPrice, 50 * kPrice)))), kPrice)));
    (void)accepted(
        run(gate.settle(accepted(run(gate.authorize(offer, agent.voucher_header(offer.requirements, 2 * kPrice)))), kPrice)));
  }

  // `agent` deposits 2 prices and is charged both; the settle job claims them and deletes the spent
  // channel's row, which the gate still holds.
  void spend_until_deleted(const gate::test::TestAgent& agent) {
    const gate::Offer& offer = offers_->offers().at(0);
    (void)accepted(run(gate_->settle(
        accepted(run(gate_->authorize(offer, agent.deposit_header(offer.requirements, kPrice, 2 * kPrice)))), kPrice)));
    (void)accepted(run(
        gate_->settle(accepted(run(gate_->authorize(offer, agent.voucher_header(offer.requirements, 2 * kPrice)))), kPrice)));
    const auto summary = settle(config_, *store_, 100);
    EXPECT_TRUE(summary.ok()) << summary.sweepError;
    EXPECT_GE(summary.claimedChannels(), 1u);
    ASSERT_FALSE(*store_->get(agent.id)) << "spent and claimed: deleted";
  }

  // open_channel(agent); then, with automine off, its refund of `amount` (none: the other 48) is
  // sent but not mined when the facilitator stops waiting (mine with evm_mine).
  void leave_refund_pending(const gate::test::TestAgent& agent, std::optional<Uint128> amount = std::nullopt) {
    const gate::Offer& offer = offers_->offers().at(0);
    gate::Gate& gate = *gate_;
    open_channel(agent);
    ASSERT_TRUE(run(devnet_->rpc().raw("evm_setAutomine", "[false]")));
    auto refund =
        run(gate.refund(accepted(run(gate.authorize(offer, agent.refund_header(offer.requirements, 2 * kPrice, amount))))));
    ASSERT_TRUE(std::holds_alternative<Refusal>(refund));
    EXPECT_EQ(std::get<Refusal>(refund).error.code, ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed);
    EXPECT_EQ(onchain(agent.id).balance, 50 * kPrice) << "not mined yet";
  }

  // restore_fee_market() when the result leaves scope, however the test ends (an ASSERT failing
  // with automine off would stall the tests after it on the shared chain).
  [[nodiscard]] auto chain_restored_at_exit() {
    const auto restore = [](FacilitatorGateTest* t) { t->restore_fee_market(); };
    return std::unique_ptr<FacilitatorGateTest, decltype(restore)>(this, restore);
  }

  // anvil's evm_snapshot: the id chain_reverted_to() takes the chain back to ("" if it failed).
  std::string chain_snapshot() {
    const auto id = run(devnet_->rpc().raw("evm_snapshot", "[]"));
    EXPECT_TRUE(id) << id.error().to_string();
    return id ? *id : std::string{};
  }
  // The chain taken back to `snapshot` (a reorg, as a node sees it); whether it went.
  bool chain_reverted_to(const std::string& snapshot) {
    const auto reverted = run(devnet_->rpc().raw("evm_revert", "[" + snapshot + "]"));
    return reverted && *reverted == "true";
  }

  // A 503 facilitator_unavailable refusing a chain view behind the channel as the gate saw it, its
  // detail holding `text` too.
  static bool refused_as_behind(const std::optional<Refusal>& r, std::string_view text) {
    return r && r->status == 503 && r->error.code == ErrorCode::facilitator_unavailable &&
           r->error.detail.find("chain is behind this channel as the gate saw it") != std::string::npos &&
           r->error.detail.find(text) != std::string::npos;
  }

  // A /verify reply as a facilitator reading a node behind the chain gives it: the payload valid,
  // on `view`.
  static std::function<void(protocol::VerifyResponse&)> verified_on(const protocol::ChannelSnapshot& view) {
    return [view](protocol::VerifyResponse& r) {
      r.isValid = true;
      r.invalidReason.reset();
      r.invalidMessage.reset();
      r.extra = protocol::make_verify_extra(view);
    };
  }

  // The refund of unknown outcome the gate's store holds back on channel `id`, if any.
  std::optional<PendingRefund> held_back(const Bytes32& id) {
    const auto all = store_->pending_refunds();  // named: a range-for keeps no temporary it dereferences
    EXPECT_TRUE(all) << all.error().to_string();
    if (all)
      for (const auto& [channel, refund] : *all)
        if (channel == id) return refund;
    return std::nullopt;
  }

  settlement::SettleSummary settle(const gate::GateConfig& config, persistence::ChannelStore& store, std::size_t batch) {
    auto job_options = settlement::settle_job_options(config);
    job_options.policy.maxBatchSize = batch;
    return settle(std::move(job_options), store);
  }
  settlement::SettleSummary settle(settlement::SettleJobOptions job_options, persistence::ChannelStore& store) {
    auto journal = persistence::ClaimJournal::open(dir_.file("settle.sqlite"));
    EXPECT_TRUE(journal) << journal.error().to_string();
    settlement::SettleJob job(std::move(job_options), *facilitator_, store, **journal);
    auto summary = run(job.run_once([](const std::string&) {}));
    EXPECT_TRUE(summary) << summary.error().to_string();
    return summary ? *summary : settlement::SettleSummary{};
  }

  // A payer that is a contract (EIP-1271, payerAuthorizer zero): a wallet answering the magic value
  // to every signature, put with anvil_setCode at key `seed + 1`'s address and funded by a mint.
  // The agent signs for it with key `seed` (any key does). Its channel `salt` is opened with a
  // deposit of 50 prices and a first charge.
  gate::test::TestAgent contract_payer(std::uint8_t seed, std::uint8_t salt) {
    gate::test::TestAgent agent(key_from(seed), config_, salt);
    agent.config.payer = key_from(static_cast<std::uint8_t>(seed + 1)).address();
    agent.config.payerAuthorizer = Address{};
    agent.id = channel_id(batch_settlement_domain_separator(config_.chainId), agent.config);
    set_code(agent.config.payer, kWalletAcceptingAll);
    mint(agent.config.payer, 100 * kPrice);
    const gate::Offer& offer = offers_->offers().at(0);
    (void)accepted(run(gate_->settle(
        accepted(run(gate_->authorize(offer, agent.deposit_header(offer.requirements, kPrice, 50 * kPrice)))), kPrice)));
    EXPECT_EQ(onchain(agent.id).balance, 50 * kPrice);
    return agent;
  }

  gate::GateConfig config_;
  std::optional<gate::OfferTable> offers_;
  std::unique_ptr<persistence::ChannelStore> store_;
  gate::GateMetrics metrics_;
  std::unique_ptr<gate::Gate> gate_;
};

}  // namespace paychan::engine::facilitator::test
