// The settle job against a running gate's store: plans, claims, records, sweeps; resends a batch
// whose answer was lost; never claims twice. The facilitator is the in-memory double (its claim
// keeps the contract's cumulative rule); the on-chain version of these runs is in the facilitator's
// anvil tests and `paychan demo`.
#include <gtest/gtest.h>
#include <algorithm>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <rapidcheck/gtest.h>

#include "channel/ecdsa.hpp"
#include "channel/eip712.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/settlement/settle_job.hpp"
#include "persistence/sqlite.hpp"
#include "gate_stack.hpp"
#include "generators.hpp"

namespace paychan::engine::settlement {
namespace {

using gate::test::GateStack;
using gate::test::TestAgent;
using gate::test::test_key;

constexpr Uint128 kPrice = 10'000;

class SettleJobTest : public ::testing::Test {
 protected:
  // Payer `a` (0, 1, …) of pay().
  TestAgent payer(int a) const { return TestAgent(test_key(static_cast<std::uint8_t>(10 + a)), stack.config, 1); }

  // pay(agents, 1); the channels it paid on.
  std::vector<Bytes32> paid_once(int agents) {
    pay(agents, 1);
    std::vector<Bytes32> ids;
    for (int a = 0; a < agents; ++a) ids.push_back(payer(a).id);
    return ids;
  }

  // n agents, each depositing then paying `requests` times (every third charged 60%).
  Uint128 pay(int agents, int requests) {
    Uint128 charged = 0;
    for (int a = 0; a < agents; ++a) {
      TestAgent agent = payer(a);
      Uint128 total = 0;
      for (int i = 0; i < requests; ++i) {
        const bool cheap = i % 3 == 0;
        const std::string header = i == 0 ? agent.deposit_header(stack.offer(), kPrice, 1'000'000)
                                          : agent.voucher_header(stack.offer(), total + kPrice);
        auto res = stack.call("POST", "/v1/infer", header, cheap ? "cheap" : "{}");
        EXPECT_EQ(res.status, 200) << res.body;
        total += cheap ? kPrice * 6 / 10 : kPrice;
      }
      charged += total;
    }
    return charged;
  }

  SettleJobOptions options(std::size_t batch = 100) {
    SettleJobOptions o;
    o.chainId = stack.config.chainId;
    o.network = stack.config.network;
    o.receiver = stack.config.payTo;
    o.token = stack.config.asset;
    o.receiverAuthorizerKey = test_key(202);
    o.policy.maxBatchSize = batch;
    o.now = [this] { return stack.now.load(); };
    return o;
  }

  SettleSummary run(SettleJobOptions o) {
    auto journal = persistence::ClaimJournal::open(dir.file("settle"));
    EXPECT_TRUE(journal);
    // The job reads the gate's file through its own connection, as `paychan settle` does.
    auto store = stack.open_as_settle_job();
    EXPECT_TRUE(store);
    SettleJob job(std::move(o), stack.facilitator, **store, **journal);
    auto summary = http::run_blocking(job.run_once([](const std::string&) {}));
    EXPECT_TRUE(summary) << summary.error().to_string();
    return summary ? *summary : SettleSummary{};
  }

  GateStack stack;
  paychan::test::TempDir dir;
};

TEST_F(SettleJobTest, ClaimsEverythingChargedInBatchesThenSweeps) {
  const Uint128 charged = pay(5, 4);
  SettleSummary s = run(options(2));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.batches.size(), 3u);  // 5 channels in batches of 2
  EXPECT_EQ(s.claimedChannels(), 5u);
  EXPECT_EQ(s.claimedAmount(), charged);
  EXPECT_EQ(stack.facilitator.settled(), charged);
  EXPECT_EQ(s.sweepAmount, to_decimal(charged));
  EXPECT_TRUE(s.warnings.empty()) << s.warnings[0];
  auto reread = stack.open_as_settle_job();
  EXPECT_TRUE((*reread)->unclaimed()->empty());

  // Nothing new charged: a second run claims and sweeps nothing.
  SettleSummary again = run(options());
  EXPECT_TRUE(again.ok());
  EXPECT_TRUE(again.batches.empty());
  EXPECT_TRUE(again.sweepTransaction.empty());
  EXPECT_EQ(stack.facilitator.claims_executed, 3);
}

TEST_F(SettleJobTest, ALostReplyIsResentByTheNextRunAndClaimedOnce) {
  const Uint128 charged = pay(3, 3);
  stack.facilitator.lose_next_claim_reply = true;
  {
    auto journal = *persistence::ClaimJournal::open(dir.file("settle"));
    auto store = *stack.open_as_settle_job();
    SettleJob job(options(), stack.facilitator, *store, *journal);
    auto failed = http::run_blocking(job.run_once([](const std::string&) {}));
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, ErrorCode::facilitator_unavailable);
    EXPECT_EQ(journal->pending()->size(), 1u) << "the batch stays journaled";
    EXPECT_EQ((*store->unclaimed()).size(), 3u) << "nothing recorded without an answer";
  }
  // The gate keeps charging meanwhile; the next run resends the old batch first, then claims the rest.
  TestAgent agent(test_key(10), stack.config, 1);
  const Uint128 before = (*stack.store->get(agent.id))->chargedCumulativeAmount;
  ASSERT_EQ(stack.call("POST", "/v1/infer", agent.voucher_header(stack.offer(), before + kPrice)).status, 200);

  SettleSummary s = run(options());
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.batches.size(), 2u);
  EXPECT_TRUE(s.batches[0].resumed);
  EXPECT_EQ(s.batches[1].channels, 1u);
  EXPECT_EQ(stack.facilitator.claims_executed, 2) << "the resent batch was not executed again";
  EXPECT_EQ(stack.facilitator.settled(), charged + kPrice);
  EXPECT_EQ(s.claimedAmount(), charged + kPrice);
}

// A store charging one channel 2,000,000 over a voucher its payer did sign, with `mirrored` as the
// channel's balance in the store (the double's chain holds the 1,000,000 deposited). The other
// channel is sound.
void overcharge_one(GateStack& stack, Uint128 mirrored) {
  auto store = *stack.open_as_settle_job();
  ChannelState damaged = (*store->unclaimed())[0];
  const PrivateKey payer = test_key(damaged.config.payer == test_key(10).address() ? 10 : 11);
  damaged.chargedCumulativeAmount = damaged.signedMaxClaimable = 2'000'000;
  damaged.signature = payer.sign(voucher_digest(batch_settlement_domain_separator(stack.config.chainId),
                                                Voucher{damaged.channelId, damaged.signedMaxClaimable}));
  damaged.onchain.balance = mirrored;
  ASSERT_TRUE(store->commit_and_wait(damaged));
}

// The contract claims no more than a channel holds (its payer may have withdrawn what was
// unclaimed), and one row beyond it would revert its whole batch: the row is claimed up to the
// balance and the rest reported lost; the next run has nothing more to claim there.
TEST_F(SettleJobTest, AChannelChargedBeyondItsBalanceIsClaimedUpToIt) {
  pay(2, 2);
  overcharge_one(stack, 1'000'000);
  SettleSummary s = run(options());
  ASSERT_EQ(s.batches.size(), 1u);
  EXPECT_TRUE(s.batches[0].error.empty()) << s.batches[0].error;
  EXPECT_EQ(s.batches[0].channels, 2u);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("1000000 cannot be claimed"), std::string::npos) << s.warnings[0];
  SettleSummary again = run(options());
  EXPECT_TRUE(again.batches.empty());
}

// A batch the facilitator refuses (here a row beyond the balance the store wrongly mirrors) is
// split until the bad channel stands alone: every other channel in it is claimed.
TEST_F(SettleJobTest, ARefusedBatchIsSplitUntilOnlyItsBadChannelIsLeftUnclaimed) {
  pay(2, 2);
  overcharge_one(stack, 3'000'000);
  SettleSummary s = run(options());
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(s.retry_later()) << "a row the facilitator refuses is to look into (exit 1)";
  ASSERT_EQ(s.batches.size(), 3u) << "the pair, then each alone";
  EXPECT_NE(s.batches[0].error.find("invalid_batch_settlement_evm_claim_payload"), std::string::npos) << s.batches[0].error;
  EXPECT_EQ(s.batches[1].error.empty() + s.batches[2].error.empty(), 1) << "one channel claimed, one refused";
  auto reread = stack.open_as_settle_job();
  EXPECT_EQ((*reread)->unclaimed()->size(), 1u);
}

// A refusal for a condition that passes (the facilitator's node down) is not split to find a bad
// row, and the batches after it are not sent: the run asks to be retried (retry_later, exit 3 in
// `paychan settle`), and the next one claims everything.
TEST_F(SettleJobTest, ARefusalThatPassesIsNotSplitAndTheNextRunClaimsEverything) {
  const Uint128 charged = pay(4, 2);
  stack.facilitator.node_down = true;
  SettleSummary down = run(options(2));
  EXPECT_FALSE(down.ok());
  EXPECT_TRUE(down.retry_later());
  ASSERT_EQ(down.batches.size(), 1u) << "one batch sent, not split, the other left for the next run";
  EXPECT_TRUE(down.batches[0].transient);
  EXPECT_TRUE(down.sweepTransaction.empty());
  EXPECT_EQ(stack.facilitator.claims_refused_node_down, 1);

  stack.facilitator.node_down = false;
  SettleSummary up = run(options(2));
  EXPECT_TRUE(up.ok());
  EXPECT_EQ(up.claimedAmount(), charged);
  EXPECT_EQ(stack.facilitator.settled(), charged);
}

TEST_F(SettleJobTest, AVoucherNotSignedByItsPayerIsLeftOutWithAWarning) {
  pay(2, 2);
  {
    auto store = *stack.open_as_settle_job();
    ChannelState damaged = (*store->unclaimed())[0];
    Signature changed = *damaged.signature.ecdsa();
    changed[5] ^= 1;
    damaged.signature = changed;
    ASSERT_TRUE(store->commit_and_wait(damaged));
  }
  SettleSummary s = run(options());
  EXPECT_TRUE(s.ok());
  ASSERT_EQ(s.batches.size(), 1u);
  EXPECT_EQ(s.batches[0].channels, 1u);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("not signed by the payerAuthorizer"), std::string::npos) << s.warnings[0];
  auto reread = stack.open_as_settle_job();
  EXPECT_EQ((*reread)->unclaimed()->size(), 1u);
}

// The double's "chain" as the job's ChainReader.
class DoubleChain final : public ChainReader {
 public:
  explicit DoubleChain(gate::test::FacilitatorDouble& f) : f_(f) {}
  http::Awaitable<Result<OnchainChannelState>> channel(const Bytes32& id) override { co_return f_.onchain(id); }

 private:
  gate::test::FacilitatorDouble& f_;
};

// A node as the settle job sees it: the channel states it reports, a failed read for any other (a
// node behind, or one failing on a channel, which one anvil cannot be made to be).
class ScriptedChain final : public ChainReader {
 public:
  std::map<Bytes32, OnchainChannelState> states;
  std::map<Bytes32, int> reads;  // how many times each channel was read
  http::Awaitable<Result<OnchainChannelState>> channel(const Bytes32& id) override {
    ++reads[id];
    const auto it = states.find(id);
    if (it == states.end()) co_return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "no answer");
    co_return it->second;
  }
};

// For each of `ids`: everything charged claimed (nothing to claim or read for that), and a refund
// the gate saw land at refund nonce `nonce`, as `chain` shows it too.
void mirror_refund(GateStack& stack, const std::vector<Bytes32>& ids, U256 nonce, ScriptedChain& chain) {
  for (const Bytes32& id : ids) {
    ChannelState row = **stack.store->get(id);
    ASSERT_TRUE(stack.store->record_claimed(id, row.chargedCumulativeAmount));
    row.onchain.refundNonce = nonce;
    row.onchain.totalClaimed = row.chargedCumulativeAmount;
    ASSERT_TRUE(stack.store->commit_and_wait(row));
    chain.states[id] = row.onchain;
  }
}

// Writes `row` as the gate's I/O thread does (`how`, with its refund of unknown outcome), and waits.
void write_now(GateStack& stack, const ChannelState& row, persistence::ChannelStore::Write how,
               const std::optional<PendingRefund>& pending = std::nullopt) {
  std::promise<Status> written;
  (void)stack.store->enqueue(row, [&](const Status& st) { written.set_value(st); }, &written, how, pending);
  stack.store->flush(&written);
  ASSERT_TRUE(written.get_future().get());
}

// Deletes the channel's row as the gate does when it refunds the channel in full.
void erase(GateStack& stack, const Bytes32& id) {
  write_now(stack, **stack.store->get(id), persistence::ChannelStore::Write::erase);
}

// Dates the closed record of `id` `seconds` earlier than it is.
void age_closed_record(GateStack& stack, const Bytes32& id, std::uint64_t seconds) {
  stack.await_fold();
  auto db = persistence::open_wal(stack.store_path(), true);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("UPDATE closed_channels SET closed_at = closed_at - " + std::to_string(seconds) +
                       " WHERE channel_id = x'" + to_hex(id).substr(2) + "'"));
  ASSERT_EQ(db->changes(), 1);
}

// The channels read since `before` (chain.reads then), which it becomes.
std::set<Bytes32> read_since(const ScriptedChain& chain, std::map<Bytes32, int>& before) {
  std::set<Bytes32> now_read;
  for (const auto& [id, n] : chain.reads)
    if (n > before[id]) now_read.insert(id);
  before = chain.reads;
  return now_read;
}

// Whether one of the run's warnings holds `text`.
bool warned(const SettleSummary& s, const std::string& text) {
  return std::any_of(s.warnings.begin(), s.warnings.end(), [&](const std::string& w) { return w.find(text) != w.npos; });
}

// The chain as `row` mirrors it, with everything charged claimed.
OnchainChannelState claimed_view(const ChannelState& row) {
  OnchainChannelState onchain = row.onchain;
  onchain.totalClaimed = row.chargedCumulativeAmount;
  return onchain;
}

// A refund the gate asked at refund nonce 1 and never heard of again: the job clears it only from a
// chain past that nonce (a node reporting 0 is behind, and the refund may still land), deletes the
// channel when the chain shows it spent, and reports a channel it could not read without failing.
TEST_F(SettleJobTest, ARefundOfUnknownOutcomeIsClearedOnlyOnceTheChainIsPastIt) {
  const std::vector<Bytes32> ids = paid_once(4);
  ScriptedChain chain;
  for (const Bytes32& id : ids) {
    ChannelState row = **stack.store->get(id);
    ASSERT_NO_FATAL_FAILURE(write_now(stack, row, persistence::ChannelStore::Write::keep, PendingRefund{U256{1}, 1000}));
    // Claimed already: the job has nothing to claim or read for that.
    ASSERT_TRUE(stack.store->record_claimed(id, row.chargedCumulativeAmount));
    chain.states[id] = claimed_view(row);
  }
  chain.states[ids[0]].refundNonce = U256{0};  // behind
  chain.states[ids[1]].refundNonce = U256{1};  // the refund may still land
  chain.states[ids[2]].refundNonce = U256{2};  // past it, money left
  chain.states[ids[2]].balance -= 1000;
  chain.states.erase(ids[3]);  // not read
  SettleJobOptions o = options();
  o.chain = &chain;
  const SettleSummary s = run(o);
  EXPECT_EQ(s.resolvedRefunds, 1u);
  EXPECT_EQ(chain.reads, (std::map<Bytes32, int>{{ids[0], 1}, {ids[1], 1}, {ids[2], 1}, {ids[3], 1}}))
      << "a resolved refund's channel was read again";
  EXPECT_EQ(s.warnings.size(), 2u);
  EXPECT_TRUE(warned(s, to_hex(ids[0]) + ": the chain's refund nonce 0 is behind its refund of unknown outcome (nonce 1)"));
  EXPECT_TRUE(warned(s, to_hex(ids[3]) + " not read on chain"));
  std::set<Bytes32> held;
  const auto pending = stack.store->pending_refunds();  // named: a range-for keeps no temporary it dereferences
  ASSERT_TRUE(pending);
  for (const auto& [id, refund] : *pending) held.insert(id);
  EXPECT_EQ(held, (std::set<Bytes32>{ids[0], ids[1], ids[3]}));
  EXPECT_TRUE(*stack.store->get(ids[2])) << "a channel with money left was deleted";

  chain.states[ids[3]] = chain.states[ids[2]];  // read now: past the refund, and spent
  chain.states[ids[3]].balance = (**stack.store->get(ids[3])).chargedCumulativeAmount;
  EXPECT_EQ(run(o).resolvedRefunds, 1u);
  EXPECT_FALSE(*stack.store->get(ids[3])) << "a spent, claimed channel kept its row";
}

// A refund the gate saw land moved the channel's refund nonce: a node behind it (or a reorg that
// undid it for good) keeps the gate refusing the channel, which the job reports. Only channels the
// gate saw refunded are read for it.
TEST_F(SettleJobTest, AChannelWhoseChainIsBehindARefundTheGateSawLandIsAWarning) {
  const std::vector<Bytes32> ids = paid_once(4);
  ScriptedChain chain;
  ASSERT_NO_FATAL_FAILURE(mirror_refund(stack, {ids[0], ids[1], ids[3]}, U256{2}, chain));
  ASSERT_TRUE(stack.store->record_claimed(ids[2], (**stack.store->get(ids[2])).chargedCumulativeAmount));  // nothing to claim
  chain.states[ids[0]].refundNonce = U256{1};  // behind; ids[1] at it; ids[2] never refunded
  chain.states.erase(ids[3]);  // not answered
  SettleJobOptions o = options();
  o.chain = &chain;
  const SettleSummary s = run(o);
  EXPECT_TRUE(s.ok()) << "a channel not read failed the run";
  EXPECT_EQ(s.warnings.size(), 2u);
  EXPECT_TRUE(warned(s, to_hex(ids[0]) + ": this node's refund nonce 1 is behind the 2 the gate saw a refund take it to"));
  EXPECT_TRUE(warned(s, to_hex(ids[3]) + " not read on chain"));
  EXPECT_EQ(chain.reads, (std::map<Bytes32, int>{{ids[0], 1}, {ids[1], 1}, {ids[3], 1}}));
}

// The refunded channels grow with use, and each costs a read: a run reads refundChecksPerRun of
// them, those read longest ago (or never) first, so that the runs take turns; a channel whose row
// goes is forgotten by the journal.
TEST_F(SettleJobTest, TheRefundCheckReadsAtMostItsShareARunThoseReadLongestAgoFirst) {
  const std::vector<Bytes32> ids = paid_once(5);
  ScriptedChain chain;
  ASSERT_NO_FATAL_FAILURE(mirror_refund(stack, ids, U256{2}, chain));
  SettleJobOptions o = options();
  o.chain = &chain;
  o.refundChecksPerRun = 2;
  std::map<Bytes32, int> seen;
  std::vector<std::set<Bytes32>> runs;
  for (int run_no = 0; run_no < 3; ++run_no) {
    stack.now += 60;
    const SettleSummary s = run(o);
    EXPECT_TRUE(s.warnings.empty()) << s.warnings[0];
    EXPECT_EQ(s.refundChecksLeft, 3u);
    runs.push_back(read_since(chain, seen));
    EXPECT_EQ(runs.back().size(), 2u) << "run " << run_no;
  }
  std::set<Bytes32> first_two = runs[0];
  first_two.insert(runs[1].begin(), runs[1].end());
  EXPECT_EQ(first_two.size(), 4u) << "the second run read a channel the first had read, not one never read";
  for (const Bytes32& id : runs[2])
    EXPECT_TRUE(first_two.count(id) == 0 || runs[0].count(id) == 1) << "the third run read one the second had read";
  EXPECT_EQ(std::count_if(ids.begin(), ids.end(), [&](const Bytes32& id) { return first_two.count(id) == 0; }), 1);
  EXPECT_EQ(std::count_if(runs[2].begin(), runs[2].end(), [&](const Bytes32& id) { return first_two.count(id) == 0; }), 1)
      << "the channel never read waited past the third run";

  // A row deleted (refunded in full) leaves the journal's turns too.
  ASSERT_NO_FATAL_FAILURE(erase(stack, ids[0]));
  o.refundChecksPerRun = 100;
  stack.now += 60;
  EXPECT_EQ(run(o).refundChecksLeft, 0u);
  auto journal = persistence::ClaimJournal::open(dir.file("settle"));
  ASSERT_TRUE(journal);
  const auto checks = (*journal)->refund_checks();
  ASSERT_TRUE(checks);
  EXPECT_EQ(checks->size(), 4u);
  EXPECT_EQ(checks->count(ids[0]), 0u);
}

// First in turn: a channel this run read behind the gate's refund nonce, then one no read has shown
// at that nonce (read behind last time, so warned of again; refunded again since), then the rest.
TEST_F(SettleJobTest, TheRefundCheckReadsFirstWhatNoReadShowedAtTheGatesNonce) {
  std::vector<Bytes32> ids = paid_once(4);
  std::sort(ids.begin(), ids.end());  // ids[3], read behind, is last in the order that breaks ties
  ScriptedChain chain;
  ASSERT_NO_FATAL_FAILURE(mirror_refund(stack, {ids[0], ids[1], ids[2]}, U256{2}, chain));
  chain.states[ids[0]].refundNonce = U256{1};  // behind
  ChannelState unclaimed = **stack.store->get(ids[3]);  // read before its claim, behind
  unclaimed.onchain.refundNonce = U256{2};
  ASSERT_TRUE(stack.store->commit_and_wait(unclaimed));
  chain.states[ids[3]] = stack.facilitator.onchain(ids[3]);
  chain.states[ids[3]].refundNonce = U256{1};
  SettleJobOptions o = options();
  o.chain = &chain;
  o.refundChecksPerRun = 1;
  SettleSummary s = run(o);
  EXPECT_EQ(chain.reads, (std::map<Bytes32, int>{{ids[3], 2}})) << "the channel read behind was not read again first";
  EXPECT_TRUE(warned(s, to_hex(ids[3]) + ": this node's refund nonce 1 is behind the 2"));
  chain.states[ids[3]].refundNonce = U256{2};

  o.refundChecksPerRun = 4;
  stack.now += 60;
  s = run(o);
  EXPECT_TRUE(warned(s, to_hex(ids[0]) + ": this node's refund nonce 1 is behind the 2"));
  std::map<Bytes32, int> seen = chain.reads;
  ChannelState again = **stack.store->get(ids[1]);  // the gate refunded it again
  again.onchain.refundNonce = U256{3};
  ASSERT_TRUE(stack.store->commit_and_wait(again));
  chain.states[ids[1]].refundNonce = U256{3};
  o.refundChecksPerRun = 2;
  stack.now += 60;
  s = run(o);
  EXPECT_EQ(read_since(chain, seen), (std::set<Bytes32>{ids[0], ids[1]}));
  EXPECT_TRUE(warned(s, to_hex(ids[0]) + ": this node's refund nonce 1 is behind the 2")) << "not warned of again";
  EXPECT_EQ(s.refundChecksLeft, 2u);
}

// A channel whose read fails takes its turn all the same (with a warning): channels a node keeps
// failing on hold no other back. Three failures in a row stop the check (a node down would cost
// every read its timeout); the channels not read keep their turns. refundChecksPerRun 0 reads none.
TEST_F(SettleJobTest, AChannelWhoseReadFailsTakesItsTurn) {
  const std::vector<Bytes32> ids = paid_once(6);
  ScriptedChain chain;
  ASSERT_NO_FATAL_FAILURE(mirror_refund(stack, ids, U256{2}, chain));
  chain.states.clear();  // no answer
  SettleJobOptions o = options();
  o.chain = &chain;
  o.refundChecksPerRun = 1;
  std::map<Bytes32, int> seen;
  std::set<Bytes32> all;
  for (int run_no = 0; run_no < 3; ++run_no) {
    stack.now += 60;
    const SettleSummary s = run(o);
    EXPECT_TRUE(s.ok());
    const std::set<Bytes32> now_read = read_since(chain, seen);
    ASSERT_EQ(now_read.size(), 1u);
    EXPECT_TRUE(warned(s, to_hex(*now_read.begin()) + " not read on chain"));
    all.insert(now_read.begin(), now_read.end());
  }
  EXPECT_EQ(all.size(), 3u) << "a channel whose read failed was read again before the others had their turn";

  o.refundChecksPerRun = 6;
  stack.now += 60;
  const SettleSummary stopped = run(o);
  const std::set<Bytes32> never_read_before = read_since(chain, seen);
  EXPECT_EQ(never_read_before.size(), 3u);
  for (const Bytes32& id : never_read_before) EXPECT_EQ(all.count(id), 0u);
  EXPECT_TRUE(warned(stopped, "the refund check stopped after 3 failed reads in a row"));
  EXPECT_EQ(stopped.refundChecksLeft, 3u);
  stack.now += 60;
  (void)run(o);
  EXPECT_EQ(read_since(chain, seen), all) << "the channels the stopped check left did not come next";

  o.refundChecksPerRun = 0;
  EXPECT_TRUE(run(o).warnings.empty());
  EXPECT_TRUE(read_since(chain, seen).empty());
}

// Only failures in a row end the check: a read that succeeds between them starts the count again.
TEST_F(SettleJobTest, FailedReadsEndTheRefundCheckOnlyInARow) {
  std::vector<Bytes32> ids = paid_once(5);
  std::sort(ids.begin(), ids.end());  // all never read: read in this order
  ScriptedChain chain;
  ASSERT_NO_FATAL_FAILURE(mirror_refund(stack, ids, U256{2}, chain));
  for (const std::size_t failing : {0, 1, 3, 4}) chain.states.erase(ids[failing]);
  SettleJobOptions o = options();
  o.chain = &chain;
  o.refundChecksPerRun = 5;
  const SettleSummary s = run(o);
  EXPECT_EQ(chain.reads.size(), 5u);
  EXPECT_FALSE(warned(s, "the refund check stopped"));
  EXPECT_EQ(s.refundChecksLeft, 0u);
}

// A deleted channel's record is forgotten once older than forgetClosedAfterSeconds (30 days by
// default; 0 keeps it), and only then.
TEST_F(SettleJobTest, TheRecordOfAChannelDeletedLongAgoIsForgotten) {
  const std::vector<Bytes32> ids = paid_once(2);
  for (const Bytes32& id : ids) ASSERT_NO_FATAL_FAILURE(erase(stack, id));
  ASSERT_NO_FATAL_FAILURE(age_closed_record(stack, ids[0], 31 * 86400));
  SettleJobOptions o = options();
  o.forgetClosedAfterSeconds = 0;
  EXPECT_EQ(run(o).forgottenClosed, 0u);
  EXPECT_TRUE(*stack.store->closed_channel(ids[0]));
  EXPECT_EQ(run(options()).forgottenClosed, 1u);
  EXPECT_FALSE(*stack.store->closed_channel(ids[0]));
  EXPECT_TRUE(*stack.store->closed_channel(ids[1]));
}

// The refund check and the forgetting come after the sweep, and still run when the facilitator is
// unreachable there: the run fails all the same.
// Channels paid to another receiver (the gate's payTo changed since they opened) are claimed, but
// the sweep goes to this run's payTo only: the run says so, and names the config that sweeps them.
TEST_F(SettleJobTest, ClaimsForAnotherReceiverAreNamedAsLeftUnswept) {
  pay(2, 1);
  SettleJobOptions o = options();
  const std::string old_pay_to = to_checksum_hex(o.receiver);
  o.receiver = *parse_address("0x000000000000000000000000000000000000dEaD");
  SettleSummary s = run(o);
  EXPECT_EQ(s.claimedChannels(), 2u);
  EXPECT_TRUE(warned(s, "2 channels to receiver " + old_pay_to + " claimed here, but this run sweeps only to payTo "
                            "0x000000000000000000000000000000000000dEaD: run settle with a config whose payTo is " +
                            old_pay_to))
      << (s.warnings.empty() ? "no warning" : s.warnings[0]);
}

TEST_F(SettleJobTest, AnUnreachableFacilitatorAtTheSweepStillLeavesTheChecksDone) {
  const std::vector<Bytes32> ids = paid_once(2);
  ScriptedChain chain;
  ASSERT_NO_FATAL_FAILURE(mirror_refund(stack, {ids[0]}, U256{2}, chain));  // nothing to claim
  chain.states[ids[0]].refundNonce = U256{1};                               // behind
  ASSERT_NO_FATAL_FAILURE(erase(stack, ids[1]));
  ASSERT_NO_FATAL_FAILURE(age_closed_record(stack, ids[1], 31 * 86400));
  stack.facilitator.down = true;
  SettleJobOptions o = options();
  o.chain = &chain;
  auto journal = *persistence::ClaimJournal::open(dir.file("settle"));
  auto store = *stack.open_as_settle_job();
  SettleJob job(std::move(o), stack.facilitator, *store, *journal);
  std::string log;
  auto result = http::run_blocking(job.run_once([&](const std::string& line) { log += line + "\n"; }));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::facilitator_unavailable);
  EXPECT_NE(log.find("warning: channel " + to_hex(ids[0]) + ": this node's refund nonce 1 is behind the 2"), std::string::npos) << log;
  EXPECT_EQ(journal->refund_checks()->count(ids[0]), 1u);
  EXPECT_FALSE(*stack.store->closed_channel(ids[1])) << "the old record was kept";
}

// A channel the run read on chain before claiming it costs the refund check no second read, unless
// that read was behind the refund the gate saw land (the gate may have refunded it since): then it
// is read again, and warned of if still behind.
TEST_F(SettleJobTest, TheRefundCheckReusesTheRunsReadOfAChannelItClaimed) {
  const std::vector<Bytes32> ids = paid_once(2);
  ScriptedChain chain;
  for (const Bytes32& id : ids) {
    ChannelState row = **stack.store->get(id);
    row.onchain.refundNonce = U256{2};
    ASSERT_TRUE(stack.store->commit_and_wait(row));
    chain.states[id] = stack.facilitator.onchain(id);
    chain.states[id].refundNonce = U256{2};
  }
  chain.states[ids[1]].refundNonce = U256{1};  // behind
  SettleJobOptions o = options();
  o.chain = &chain;
  const SettleSummary s = run(o);
  EXPECT_EQ(s.claimedChannels(), 2u);
  EXPECT_EQ(chain.reads, (std::map<Bytes32, int>{{ids[0], 1}, {ids[1], 2}}));
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_TRUE(warned(s, to_hex(ids[1]) + ": this node's refund nonce 1 is behind the 2")) << s.warnings[0];
}

TEST_F(SettleJobTest, WithTheChainAClaimLandedButUnrecordedIsRecordedNotResent) {
  const Uint128 charged = pay(2, 3);
  stack.facilitator.lose_next_claim_reply = true;
  {
    auto journal = *persistence::ClaimJournal::open(dir.file("settle"));
    auto store = *stack.open_as_settle_job();
    SettleJob job(options(), stack.facilitator, *store, *journal);
    ASSERT_FALSE(http::run_blocking(job.run_once([](const std::string&) {})));
  }
  std::filesystem::remove(dir.file("settle"));  // the journal is lost too: only the chain knows
  DoubleChain chain(stack.facilitator);
  SettleJobOptions o = options();
  o.chain = &chain;
  SettleSummary s = run(o);
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(s.batches.empty());
  EXPECT_EQ(s.alreadyClaimed, 2u);
  EXPECT_EQ(stack.facilitator.claims_executed, 1);
  EXPECT_EQ(stack.facilitator.settled(), charged) << "what the lost run claimed is swept by this one";
  EXPECT_EQ(s.sweepAmount, to_decimal(charged));
  auto reread = stack.open_as_settle_job();
  EXPECT_TRUE((*reread)->unclaimed()->empty());
}

TEST_F(SettleJobTest, TheWatchtowerClaimsAWithdrawingChannelTheGateHasNotSeenFirst) {
  pay(3, 2);
  TestAgent withdrawing(test_key(11), stack.config, 1);
  // The payer started a timed withdrawal on chain; the gate's mirror does not know yet.
  stack.facilitator.set_withdrawal(withdrawing.id, stack.now.load() - stack.config.withdrawDelay + 60);
  DoubleChain chain(stack.facilitator);
  SettleJobOptions o = options();
  o.chain = &chain;
  o.policy.minUnclaimed = 1'000'000'000;  // nothing else is worth claiming yet
  o.policy.withdrawalWarningSeconds = 600;
  SettleSummary s = run(o);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.batches.size(), 1u);
  EXPECT_EQ(s.batches[0].channels, 1u);
  EXPECT_EQ(s.skippedChannels, 2u);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("finalizable in 60 s"), std::string::npos) << s.warnings[0];
  EXPECT_EQ(stack.facilitator.onchain(withdrawing.id).totalClaimed,
            (*stack.store->get(withdrawing.id))->chargedCumulativeAmount);
}

// A claim that passes every check but reverts when mined spends gas each time it is sent. Its
// batch is not split (each half would be sent and revert too); its channels wait, then go one per
// batch so that the bad one holds no other back, and the bad one's wait doubles with each revert.
TEST_F(SettleJobTest, AClaimRevertedOnChainIsNotSplitAndItsChannelsWaitThenGoAlone) {
  pay(3, 2);
  const TestAgent bad(test_key(10), stack.config, 1);
  stack.facilitator.revert_claims_of(bad.id, true);
  const std::uint64_t t0 = stack.now.load();
  auto at = [&](std::uint64_t t) {
    stack.now = t;
    return run(options());
  };
  SettleSummary first = at(t0);
  ASSERT_EQ(first.batches.size(), 1u) << "not split";
  EXPECT_TRUE(first.batches[0].reverted);
  EXPECT_EQ(first.batches[0].channels, 3u);
  EXPECT_EQ(stack.facilitator.claims_reverted, 1);

  SettleSummary waiting = at(t0 + 599);
  EXPECT_TRUE(waiting.batches.empty());
  EXPECT_EQ(waiting.heldBackChannels, 3u);
  EXPECT_EQ(stack.facilitator.claims_reverted, 1) << "no gas spent while they wait";

  SettleSummary alone = at(t0 + 600);
  ASSERT_EQ(alone.batches.size(), 3u) << "one channel per batch";
  EXPECT_EQ(alone.claimedChannels(), 2u);
  EXPECT_EQ(stack.facilitator.claims_reverted, 2);

  EXPECT_TRUE(at(t0 + 600 + 1199).batches.empty()) << "the second revert doubled its wait";
  SettleSummary third = at(t0 + 600 + 1200);
  ASSERT_EQ(third.batches.size(), 1u);
  EXPECT_TRUE(third.batches[0].reverted);

  // A withdrawal on chain overrides the wait: the watchtower must claim before it finalizes.
  stack.facilitator.revert_claims_of(bad.id, false);
  stack.facilitator.set_withdrawal(bad.id, t0);
  DoubleChain chain(stack.facilitator);
  SettleJobOptions o = options();
  o.chain = &chain;
  stack.now = t0 + 1801;
  SettleSummary watched = run(o);
  ASSERT_EQ(watched.batches.size(), 1u);
  EXPECT_TRUE(watched.ok());
  EXPECT_EQ(stack.facilitator.onchain(bad.id).totalClaimed, (*stack.store->get(bad.id))->chargedCumulativeAmount);
  auto journal = persistence::ClaimJournal::open(dir.file("settle"));
  EXPECT_TRUE((*journal)->held_back()->empty()) << "a claim that landed releases its channel";
}

// A withdrawing channel batched with a bad one cannot wait out the back-off: when the batch
// reverts, it is claimed again alone in the same run.
TEST_F(SettleJobTest, AWithdrawingChannelInARevertedBatchIsClaimedAloneAtOnce) {
  pay(2, 2);
  const TestAgent bad(test_key(10), stack.config, 1);
  const TestAgent withdrawing(test_key(11), stack.config, 1);
  stack.facilitator.revert_claims_of(bad.id, true);
  stack.facilitator.set_withdrawal(withdrawing.id, stack.now.load());
  DoubleChain chain(stack.facilitator);
  SettleJobOptions o = options();
  o.chain = &chain;
  SettleSummary s = run(o);
  ASSERT_EQ(s.batches.size(), 2u) << "the pair, then the withdrawing channel alone";
  EXPECT_TRUE(s.batches[0].reverted);
  EXPECT_EQ(s.batches[0].channels, 2u);
  EXPECT_TRUE(s.batches[1].error.empty()) << s.batches[1].error;
  EXPECT_EQ(s.batches[1].channels, 1u);
  EXPECT_EQ(stack.facilitator.onchain(withdrawing.id).totalClaimed,
            (*stack.store->get(withdrawing.id))->chargedCumulativeAmount);
  EXPECT_EQ(stack.facilitator.onchain(bad.id).totalClaimed, 0u);
  auto journal = persistence::ClaimJournal::open(dir.file("settle"));
  auto held = (*journal)->held_back();
  ASSERT_EQ(held->size(), 1u) << "the claimed channel is released";
  EXPECT_TRUE(held->contains(bad.id));
}

// A held-back channel that leaves the unclaimed list another way (a refund's claim, a claim found
// on chain) waits no more: a later revert starts its count afresh.
TEST_F(SettleJobTest, AHeldBackChannelClaimedAnotherWayIsReleased) {
  pay(1, 2);
  const TestAgent agent(test_key(10), stack.config, 1);
  stack.facilitator.revert_claims_of(agent.id, true);
  ASSERT_TRUE(run(options()).batches.at(0).reverted);
  {
    auto store = *stack.open_as_settle_job();
    ASSERT_TRUE(store->record_claimed(agent.id, (*store->get(agent.id))->chargedCumulativeAmount));
  }
  SettleSummary s = run(options());
  EXPECT_TRUE(s.batches.empty());
  EXPECT_EQ(s.heldBackChannels, 0u);
  auto journal = persistence::ClaimJournal::open(dir.file("settle"));
  EXPECT_TRUE((*journal)->held_back()->empty());
}

// A channel whose claims keep reverting waits twice as long after each revert, up to the cap (a
// day), and then a day after every further one: 600 s · 2^8 would be 153,600 s.
TEST_F(SettleJobTest, ARevertedChannelsWaitDoublesUpToTheCap) {
  pay(1, 2);
  const TestAgent bad(test_key(10), stack.config, 1);
  stack.facilitator.revert_claims_of(bad.id, true);
  const std::vector<std::uint64_t> waits{600, 1200, 2400, 4800, 9600, 19200, 38400, 76800, 86400, 86400};
  std::uint64_t t = stack.now.load();
  for (std::size_t k = 0; k < waits.size(); ++k) {
    stack.now = t;
    SettleSummary s = run(options());
    ASSERT_EQ(s.batches.size(), 1u) << "revert " << k + 1;
    ASSERT_TRUE(s.batches[0].reverted);
    auto journal = persistence::ClaimJournal::open(dir.file("settle"));
    const persistence::HeldBack held = (*journal)->held_back()->at(bad.id);
    EXPECT_EQ(held.reverts, k + 1);
    EXPECT_EQ(held.notBefore - t, waits[k]) << "after revert " << k + 1;
    t = held.notBefore;
    stack.now = t - 1;
    SettleSummary waiting = run(options());
    EXPECT_TRUE(waiting.batches.empty()) << "a second before its wait ends, after revert " << k + 1;
    EXPECT_EQ(waiting.heldBackChannels, 1u);
  }
  EXPECT_EQ(stack.facilitator.claims_reverted, static_cast<int>(waits.size()));
}

// The planner, over random stores: every claimable channel at or above the threshold, or with a
// pending withdrawal, is claimed exactly once, up to what it charged or holds, whichever is less;
// withdrawals come first; no batch holds more rows, or more calldata, than the policy allows (a
// row over the budget goes alone).
RC_GTEST_PROP(ClaimPlan, ClaimsExactlyWhatIsDueWithWithdrawalsFirst, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(0, 40);
  std::vector<ChannelState> channels(n);
  for (std::size_t i = 0; i < n; ++i) {
    ChannelState& c = channels[i];
    c.channelId[0] = static_cast<std::uint8_t>(i);
    c.chargedCumulativeAmount = *rc::gen::inRange<std::uint64_t>(0, 1000);
    c.signedMaxClaimable = c.chargedCumulativeAmount + *rc::gen::inRange<std::uint64_t>(0, 20);
    c.onchain.totalClaimed = *rc::gen::inRange<std::uint64_t>(0, 1000);
    c.onchain.balance = c.onchain.totalClaimed + *rc::gen::inRange<std::uint64_t>(0, 1100);  // the contract's invariant
    c.config.withdrawDelay = 900;
    c.signature = *paychan::test::gen_wallet_signature();  // payerAuthorizer zero: a wallet's, claimed as stored
    if (*rc::gen::inRange(0, 4) == 0) c.onchain.withdrawRequestedAt = *rc::gen::inRange<std::uint64_t>(1, 10'000);
  }
  ClaimPolicy policy;
  policy.minUnclaimed = *rc::gen::inRange<std::uint64_t>(1, 300);
  policy.maxBatchSize = *rc::gen::inRange<std::size_t>(1, 12);
  policy.maxBatchCalldataBytes = *rc::gen::inRange<std::size_t>(480, 3 * WalletSignature::kMaxBytes);
  const ClaimPlan plan = plan_claims(channels, policy, Bytes32{}, 5'000);

  std::map<Bytes32, const PlannedClaim*> planned;
  bool seen_ordinary = false;
  for (const auto& batch : plan.batches) {
    RC_ASSERT(!batch.empty());
    RC_ASSERT(batch.size() <= policy.maxBatchSize);
    std::size_t calldata = 0;
    for (const PlannedClaim& p : batch) calldata += claim_row_calldata_bytes(p.row);
    RC_ASSERT(batch.size() == 1 || calldata <= policy.maxBatchCalldataBytes);
    for (const PlannedClaim& p : batch) {
      RC_ASSERT(planned.emplace(p.channelId, &p).second);
      if (p.withdrawalDeadline == 0) seen_ordinary = true;
      else RC_ASSERT(!seen_ordinary);
    }
  }
  std::size_t skipped = 0;
  for (const ChannelState& c : channels) {
    const Uint128 target = std::min(c.chargedCumulativeAmount, c.onchain.balance);
    const bool claimable = target > c.onchain.totalClaimed;
    const bool due =
        claimable && (c.onchain.withdrawRequestedAt != 0 || target - c.onchain.totalClaimed >= policy.minUnclaimed);
    auto it = planned.find(c.channelId);
    RC_ASSERT((it != planned.end()) == due);
    if (claimable && !due) ++skipped;
    if (!due) continue;
    const PlannedClaim& p = *it->second;
    RC_ASSERT(p.row.totalClaimed == target);
    RC_ASSERT(p.row.maxClaimableAmount == c.signedMaxClaimable);
    RC_ASSERT(p.amount == target - c.onchain.totalClaimed);
  }
  RC_ASSERT(plan.skipped == skipped);
}

// A row's calldata estimate is exact: a claim call is its selector, the array's offset and length,
// and the rows' shares.
RC_GTEST_PROP(ClaimPlan, ARowsCalldataEstimateIsExact, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 6);
  std::vector<chain::VoucherClaim> claims;
  std::size_t estimate = 4 + 2 * 32;
  for (std::size_t i = 0; i < n; ++i) {
    const protocol::VoucherClaimRow row{*paychan::test::gen_channel_config(), *paychan::test::gen_uint128(),
                                        *paychan::test::gen_wallet_signature(), *paychan::test::gen_uint128()};
    estimate += claim_row_calldata_bytes(row);
    claims.push_back(chain::VoucherClaim{row.channel, row.maxClaimableAmount, row.signature, row.totalClaimed});
  }
  RC_ASSERT(chain::claim_call(claims).size() == estimate);
}

// The gate checks later vouchers against the payer's known key, which leaves v unchecked: the plan
// claims with the v that recovers the payerAuthorizer, and leaves out a voucher nobody can claim.
TEST(ClaimPlan, ClaimsWithTheRecoveryIdTheChainNeeds) {
  const Bytes32 domain = batch_settlement_domain_separator(31337);
  const PrivateKey payer = test_key(0x51);
  auto channel = [&](std::uint8_t n, const PrivateKey& signer, bool flip_v) {
    ChannelState c;
    c.config.payer = c.config.payerAuthorizer = payer.address();
    c.config.withdrawDelay = 900;
    c.channelId[0] = n;
    c.chargedCumulativeAmount = c.signedMaxClaimable = 700;
    c.onchain.balance = 1'000;
    Signature signature = signer.sign(voucher_digest(domain, Voucher{c.channelId, c.signedMaxClaimable}));
    if (flip_v) signature[64] = signature[64] == 27 ? 28 : 27;
    c.signature = signature;
    return c;
  };
  const std::vector<ChannelState> channels{channel(1, payer, false), channel(2, payer, true),
                                           channel(3, test_key(0x52), false)};
  const ClaimPlan plan = plan_claims(channels, ClaimPolicy{}, domain, 5'000);

  ASSERT_EQ(plan.batches.size(), 1u);
  ASSERT_EQ(plan.batches[0].size(), 2u);
  for (const PlannedClaim& p : plan.batches[0]) {
    const Bytes32 digest = voucher_digest(domain, Voucher{p.channelId, p.row.maxClaimableAmount});
    EXPECT_TRUE(signed_by(digest, p.row.signature, payer.address())) << "channel " << int{p.channelId[0]};
  }
  EXPECT_EQ(plan.batches[0][1].row.signature.bytes()[64], channels[1].signature.bytes()[64] == 27 ? 28 : 27);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_NE(plan.warnings[0].find("not signed by the payerAuthorizer"), std::string::npos) << plan.warnings[0];
}

}  // namespace
}  // namespace paychan::engine::settlement
