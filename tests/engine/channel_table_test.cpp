// Per-channel serialization: one lease per channel at a time, different channels independent,
// nothing left behind by failed first requests.
#include "engine/channel_table.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <atomic>
#include <map>
#include <thread>

namespace paychan::engine {
namespace {

Bytes32 id(std::uint8_t tag) {
  Bytes32 b{};
  b.fill(tag);
  return b;
}

ChannelState state(std::uint8_t tag, Uint128 charged) {
  ChannelState s;
  s.channelId = id(tag);
  s.chargedCumulativeAmount = charged;
  return s;
}

TEST(ChannelTable, SecondLeaseOnAChannelIsBusy) {
  ChannelTable table;
  auto first = table.acquire(id(1));
  ASSERT_TRUE(first);
  auto second = table.acquire(id(1));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::invalid_batch_settlement_evm_channel_busy);
  EXPECT_TRUE(table.acquire(id(2))) << "another channel is independent";
}

TEST(ChannelTable, CommitPublishesAndReleases) {
  ChannelTable table;
  {
    auto lease = table.acquire(id(1));
    ASSERT_TRUE(lease);
    EXPECT_FALSE(lease->state().has_value());
    lease->commit(state(1, 700));
  }
  auto again = table.acquire(id(1));
  ASSERT_TRUE(again);
  ASSERT_TRUE(again->state().has_value());
  EXPECT_EQ(again->state()->chargedCumulativeAmount, Uint128{700});
}

TEST(ChannelTable, AbandonedLeaseKeepsTheOldState) {
  ChannelTable table;
  table.restore(state(1, 700));
  { auto lease = table.acquire(id(1)); }  // handler failed: nothing committed
  EXPECT_EQ(table.find(id(1))->chargedCumulativeAmount, Uint128{700});
  EXPECT_TRUE(table.acquire(id(1)));
}

// The settle job's claims raise a channel's mirrored totalClaimed, and a lease that started from
// the older mirror does not lower it again; totalClaimed never falls, and unknown channels stay so.
TEST(ChannelTable, ARaisedClaimedTotalOutlivesALeaseFromBeforeIt) {
  ChannelTable table;
  table.restore(state(1, 700));
  table.raise_claimed(id(1), 500);
  EXPECT_EQ(table.find(id(1))->onchain.totalClaimed, Uint128{500});
  table.raise_claimed(id(1), 400);
  EXPECT_EQ(table.find(id(1))->onchain.totalClaimed, Uint128{500}) << "never lowered";
  {
    auto lease = table.acquire(id(1));
    ASSERT_TRUE(lease);
    ChannelState next = *lease->state();
    table.raise_claimed(id(1), 700);  // while the lease is out
    next.chargedCumulativeAmount = 800;
    lease->commit(next);
  }
  EXPECT_EQ(table.find(id(1))->chargedCumulativeAmount, Uint128{800});
  EXPECT_EQ(table.find(id(1))->onchain.totalClaimed, Uint128{700});
  table.raise_claimed(id(2), 100);
  EXPECT_FALSE(table.find(id(2)).has_value());
}

// A channel whose row the settle job deleted (spent: its balance all charged; claimed: all it was
// charged) is forgotten, as a restart would, unless the gate holds something newer than that row or
// is working on it: a lease out, a refund of unknown outcome the row's nonce is not past, a charge
// beyond the claim, balance left to serve, a later refund. A refund the row's nonce is past was
// resolved on the chain's balance, not the mirror's.
TEST(ChannelTable, AChannelIsForgottenOnlyWhenItsClosedRowIsAllItHas) {
  const auto spent = [](std::uint8_t tag) {
    ChannelState s = state(tag, 700);
    s.onchain.balance = 700;
    s.onchain.refundNonce = U256{2};
    return s;
  };
  ChannelTable table;
  for (std::uint8_t tag = 1; tag <= 7; ++tag) table.restore(spent(tag));
  ChannelState topped = spent(4);
  topped.onchain.balance = 900;
  table.restore(topped);
  ChannelState refunded = spent(5);
  refunded.onchain.refundNonce = U256{3};
  table.restore(refunded);
  table.restore(spent(6), PendingRefund{U256{2}, 100});
  ChannelState refunding = spent(9);
  refunding.onchain.balance = 800;  // the mirror before the refund of 100 landed
  table.restore(refunding, PendingRefund{U256{2}, 100});
  auto lease = table.acquire(id(7));
  ASSERT_TRUE(lease);

  EXPECT_TRUE(table.forget_deleted(id(1), 700, U256{2}));
  EXPECT_FALSE(table.find(id(1)).has_value());
  EXPECT_TRUE(table.forget_deleted(id(2), 800, U256{5})) << "claimed and refunded past it";
  EXPECT_FALSE(table.forget_deleted(id(3), 699, U256{2})) << "a charge the closed row's claim does not cover";
  EXPECT_FALSE(table.forget_deleted(id(4), 700, U256{2})) << "balance to serve: a top-up since";
  EXPECT_FALSE(table.forget_deleted(id(5), 700, U256{2})) << "a refund after the row's";
  EXPECT_FALSE(table.forget_deleted(id(6), 700, U256{2})) << "a refund of unknown outcome";
  EXPECT_TRUE(table.forget_deleted(id(9), 700, U256{3})) << "a refund the deleter saw the chain pass";
  EXPECT_FALSE(table.forget_deleted(id(7), 700, U256{2})) << "leased";
  EXPECT_FALSE(table.forget_deleted(id(8), 700, U256{2})) << "never held";
  EXPECT_EQ(table.size(), 5u);
  EXPECT_TRUE(table.forget_deleted(id(6), 700, U256{3}));
  lease->erase();
  EXPECT_FALSE(table.forget_deleted(id(7), 700, U256{2})) << "already gone";
}

// A staged state (already durable) is published when the lease ends without an outcome; an
// outcome (commit, erase) replaces it; the lease is held until then.
TEST(ChannelTable, AStagedStateIsPublishedUnlessAnOutcomeReplacesIt) {
  ChannelTable table;
  table.restore(state(1, 700));
  {
    auto lease = table.acquire(id(1));
    lease->stage(state(1, 701));
    EXPECT_FALSE(table.acquire(id(1))) << "staging keeps the lease";
  }
  EXPECT_EQ(table.find(id(1))->chargedCumulativeAmount, Uint128{701});
  {
    auto lease = table.acquire(id(1));
    lease->stage(state(1, 702));
    lease->commit(state(1, 703));
  }
  EXPECT_EQ(table.find(id(1))->chargedCumulativeAmount, Uint128{703});
  {
    auto lease = table.acquire(id(1));
    lease->stage(state(1, 704));
    lease->erase();
  }
  EXPECT_FALSE(table.find(id(1)).has_value());
}

TEST(ChannelTable, FailedFirstRequestLeavesNoEntry) {
  ChannelTable table;
  { auto lease = table.acquire(id(9)); }
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.find(id(9)).has_value());
}

TEST(ChannelTable, EraseForgetsTheChannel) {
  ChannelTable table;
  table.restore(state(1, 700));
  table.acquire(id(1))->erase();
  EXPECT_FALSE(table.find(id(1)).has_value());
}

// The payer's key learned under a lease stays with the channel, whether or not the request
// committed; an erased channel (full refund) forgets it with its state.
TEST(ChannelTable, APayerKeyLearnedUnderALeaseStaysWithTheChannel) {
  ChannelTable table;
  table.restore(state(1, 10));
  PublicKey key;
  key.opaque[0] = 0x42;
  {
    auto lease = table.acquire(id(1));
    ASSERT_TRUE(lease);
    EXPECT_FALSE(lease->payer_key().has_value());
    lease->payer_key() = key;
  }  // abandoned: no commit
  {
    auto lease = table.acquire(id(1));
    ASSERT_TRUE(lease && lease->payer_key().has_value());
    EXPECT_EQ(lease->payer_key()->opaque, key.opaque);
    lease->erase();
  }
  table.restore(state(1, 10));
  auto lease = table.acquire(id(1));
  ASSERT_TRUE(lease);
  EXPECT_FALSE(lease->payer_key().has_value());
}

TEST(ChannelTable, ConcurrentRequestsOnOneChannelNeverOverlap) {
  ChannelTable table;
  table.restore(state(1, 0));
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> committed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto lease = table.acquire(id(1));
        if (!lease) continue;
        if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
        ChannelState next = *lease->state();
        next.chargedCumulativeAmount += 1;
        inside.fetch_sub(1);
        lease->commit(next);
        committed.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(table.find(id(1))->chargedCumulativeAmount, static_cast<Uint128>(committed.load()))
      << "every committed increment is kept: no lost update";
}

// Model-based: random acquire / commit / abandon / erase, and the refresh's forgetting of deleted
// rows, on a few channels behave like a map plus a set of held leases.
RC_GTEST_PROP(ChannelTable, BehavesLikeTheModel, ()) {
  ChannelTable table;
  std::map<std::uint8_t, Uint128> model;
  std::map<std::uint8_t, Lease> held;
  const int steps = *rc::gen::inRange(1, 200);
  for (int i = 0; i < steps; ++i) {
    const auto tag = *rc::gen::inRange<std::uint8_t>(0, 4);
    const int op = *rc::gen::inRange(0, 5);
    if (op == 4) {
      // A deleted row that claimed `claimed` (the states here have no balance left nor refunds).
      const Uint128 claimed = *rc::gen::inRange<std::uint64_t>(0, 1000);
      const bool forgets = model.contains(tag) && !held.contains(tag) && model[tag] <= claimed;
      RC_ASSERT(table.forget_deleted(id(tag), claimed, U256{0}) == forgets);
      if (forgets) model.erase(tag);
    } else if (op == 0) {
      auto lease = table.acquire(id(tag));
      RC_ASSERT(lease.ok() == !held.contains(tag));
      if (lease) {
        RC_ASSERT(lease->state().has_value() == model.contains(tag));
        held.emplace(tag, std::move(*lease));
      }
    } else if (auto it = held.find(tag); it != held.end()) {
      if (op == 1) {
        const Uint128 charged = *rc::gen::inRange<std::uint64_t>(0, 1000);
        it->second.commit(state(tag, charged));
        model[tag] = charged;
      } else if (op == 2) {
        it->second.erase();
        model.erase(tag);
      }
      held.erase(it);  // op 3: abandoned
    }
    for (const auto& [t, charged] : model) RC_ASSERT(table.find(id(t))->chargedCumulativeAmount == charged);
  }
  held.clear();
  RC_ASSERT(table.size() == model.size());
}

}  // namespace
}  // namespace paychan::engine
