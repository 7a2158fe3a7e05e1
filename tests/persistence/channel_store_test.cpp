// The channel store on real files: round trips, schema versions, group commit from many threads,
// a reader beside the writer, and a kill -9 in the middle of acknowledged commits.
#include "persistence/channel_store.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <optional>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#include "generators.hpp"
#include "temp_dir.hpp"
#include "persistence/store_test_support.hpp"
#include "channel/hex.hpp"
#include "persistence/channel_record.hpp"

namespace paychan::persistence {
namespace {

using paychan::test::TempDir;

ChannelState state(std::uint32_t n, Uint128 charged) {
  ChannelState s;
  std::memcpy(s.channelId.data(), &n, sizeof n);
  s.channelId[31] = 0xcc;
  s.config.withdrawDelay = 900;
  s.config.payer.bytes.fill(static_cast<std::uint8_t>(n));
  s.chargedCumulativeAmount = charged;
  s.signedMaxClaimable = charged + 10;
  Signature signature;
  signature.fill(0x1b);
  s.signature = signature;
  s.onchain.balance = charged * 2 + 100;
  return s;
}

TEST(ChannelRecord, ConfigRoundTripAndHostileBytes) {
  ChannelConfig c;
  c.payer.bytes.fill(1);
  c.withdrawDelay = (std::uint64_t{1} << 40) - 1;
  c.salt.fill(9);
  EXPECT_EQ(*decode_config(encode_config(c)), c);
  // msgpack-c trap (BUILD-NOTES): a short bin must not be copied into a 20-byte address.
  const std::uint8_t short_bin[] = {0x97, 0xc4, 0x01, 0x00};
  EXPECT_FALSE(decode_config(short_bin));
  const std::uint8_t two_bytes[] = {0x91, 0xa0};
  EXPECT_FALSE(decode_config(two_bytes));
  EXPECT_FALSE(decode_config({}));
  Bytes trailing = encode_config(c);
  trailing.push_back(0);
  EXPECT_FALSE(decode_config(trailing));
  EXPECT_FALSE(decode_u128(Bytes(15, 0)));
}

RC_GTEST_PROP(ChannelRecord, ArbitraryBytesNeverCrash, (const std::vector<std::uint8_t>& bytes)) {
  (void)decode_config(bytes);
}

RC_GTEST_PROP(ChannelStore, RandomStatesRoundTrip, ()) {
  TempDir dir;
  const auto states = *rc::gen::container<std::vector<ChannelState>>(test::gen_channel_state());
  {
    // Encoding is under test here, not durability: skip the fsyncs.
    auto store = ChannelStore::open(dir.file(), StoreOptions{false});
    RC_ASSERT(store.ok());
    for (const auto& s : states) RC_ASSERT((*store)->commit_and_wait(s).ok());
  }
  auto store = ChannelStore::open(dir.file());
  RC_ASSERT(store.ok());
  for (const auto& s : states) {
    // Later states with the same id win, except totalClaimed, which only grows.
    ChannelState expected = s;
    for (const auto& other : states)
      if (other.channelId == s.channelId) {
        const Uint128 claimed = std::max(expected.onchain.totalClaimed, other.onchain.totalClaimed);
        expected = other;
        expected.onchain.totalClaimed = claimed;
      }
    auto got = (*store)->get(s.channelId);
    RC_ASSERT(got.ok());
    RC_ASSERT(got->has_value());
    RC_ASSERT(**got == expected);
  }
}

TEST(ChannelStore, RefusesASchemaFromTheFuture) {
  TempDir dir;
  { ASSERT_TRUE(ChannelStore::open(dir.file())); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = ChannelStore::open(dir.file());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().detail.find("newer paychan"), std::string::npos);
}

TEST(ChannelStore, UnclaimedAndClaimed) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  ASSERT_TRUE(store->commit_and_wait(state(1, 1000)));  // signed 1010, claimed 0
  ASSERT_TRUE(store->commit_and_wait(state(2, 500)));
  EXPECT_EQ(store->unclaimed()->size(), 2u);
  ASSERT_TRUE(store->record_claimed(state(1, 0).channelId, 1000));
  auto left = *store->unclaimed();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].channelId, state(2, 0).channelId);
  // The gate's next commit carries an older mirror (totalClaimed 0): the claim is not undone.
  ASSERT_TRUE(store->commit_and_wait(state(1, 1000)));
  EXPECT_EQ((*store->get(state(1, 0).channelId))->onchain.totalClaimed, Uint128{1000});
  ASSERT_TRUE(store->record_claimed(state(1, 0).channelId, 5)) << "never lowered";
  EXPECT_EQ((*store->get(state(1, 0).channelId))->onchain.totalClaimed, Uint128{1000});
}

// The gate reads the claimed totals back in pages, in id order: every channel once, whatever the
// page size, with what the settle job recorded.
TEST(ChannelStore, ClaimedTotalsArePagedInIdOrder) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  for (std::uint32_t n = 1; n <= 5; ++n) ASSERT_TRUE(store->commit_and_wait(state(n, 100 * n)));
  ASSERT_TRUE(store->record_claimed(state(3, 0).channelId, 300));
  for (std::size_t page : {1u, 2u, 5u, 6u}) {
    std::vector<std::pair<Bytes32, Uint128>> all;
    std::optional<Bytes32> after;
    for (;;) {
      auto rows = store->claimed_totals(after ? ByteView(*after) : ByteView{}, page);
      ASSERT_TRUE(rows) << rows.error().to_string();
      all.insert(all.end(), rows->begin(), rows->end());
      if (rows->size() < page) break;
      after = rows->back().first;
    }
    ASSERT_EQ(all.size(), 5u) << "page " << page;
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; }));
    for (const auto& [id, total] : all) EXPECT_EQ(total, id == state(3, 0).channelId ? Uint128{300} : Uint128{0});
  }
}

// A channel with nothing left to serve (balance all charged: spent, or refunded) is deleted once
// what it was charged is claimed; one with balance left, or with a charge still unclaimed, stays.
TEST(ChannelStore, AClaimThatSettlesAnExhaustedChannelDeletesIt) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  ChannelState refunded = state(1, 1000);
  refunded.onchain.balance = 1000;
  ChannelState partly = state(2, 1000);
  partly.onchain.balance = 1000;
  const ChannelState funded = state(3, 1000);  // balance 2100
  // Amounts that differ across a byte boundary: 255 <= 256 as numbers, 0x00ff vs 0x0100 as bytes.
  ChannelState spent = state(4, 256);
  spent.onchain.balance = 255;
  spent.onchain.refundNonce = U256{5};
  ChannelState one_left = state(5, 255);
  one_left.onchain.balance = 256;
  for (const auto& s : {refunded, partly, funded, spent, one_left}) ASSERT_TRUE(store->commit_and_wait(s));
  ASSERT_TRUE(store->record_claimed(spent.channelId, 256));
  ASSERT_TRUE(store->record_claimed(one_left.channelId, 255));
  EXPECT_FALSE(*store->get(spent.channelId));
  EXPECT_EQ(*store->closed_channel(spent.channelId), (ClosedChannel{U256{5}, 256})) << "its row's";
  EXPECT_TRUE(*store->get(one_left.channelId)) << "a unit left to serve";

  refunded.onchain.refundNonce = U256{2};
  ASSERT_TRUE(store->commit_and_wait(refunded));
  ASSERT_TRUE(store->record_claimed(refunded.channelId, 1000));
  EXPECT_EQ(*store->closed_channel(refunded.channelId), (ClosedChannel{U256{2}, 1000})) << "its row's";
  ASSERT_TRUE(store->record_claimed(partly.channelId, 999));
  ASSERT_TRUE(store->record_claimed(funded.channelId, 1000));
  EXPECT_FALSE(*store->get(refunded.channelId));
  ASSERT_TRUE(*store->get(partly.channelId));
  EXPECT_EQ((*store->get(partly.channelId))->onchain.totalClaimed, Uint128{999});
  ASSERT_TRUE(*store->get(funded.channelId));
  EXPECT_EQ((*store->get(funded.channelId))->onchain.totalClaimed, Uint128{1000});

  // The gate, holding the channel still (its claimed total from before), marks its mirror stale
  // ahead of a deposit: no row comes back with the claim undone.
  std::promise<Status> marked;
  (void)store->enqueue(refunded, [&](const Status& s) { marked.set_value(s); }, &marked, ChannelStore::Write::mark_stale);
  store->flush(&marked);
  ASSERT_TRUE(marked.get_future().get());
  EXPECT_FALSE(*store->get(refunded.channelId));

  // The payer deposits again: the gate's next commit writes the row anew.
  refunded.onchain.balance = 5000;
  refunded.chargedCumulativeAmount = 1010;
  ASSERT_TRUE(store->commit_and_wait(refunded));
  EXPECT_EQ((*store->get(refunded.channelId))->chargedCumulativeAmount, Uint128{1010});
}

Status mark_stale(ChannelStore& store, const ChannelState& s, const std::optional<PendingRefund>& refund) {
  return store_write(store, s, ChannelStore::Write::mark_stale, refund);
}

// How many refunds of unknown outcome the store holds; -1 if it cannot read them.
long pending_count(ChannelStore& store) {
  auto pending = store.pending_refunds();
  return pending ? static_cast<long>(pending->size()) : -1;
}

// A refund of unknown outcome, recorded with the stale mark before the facilitator is asked,
// outlives a restart, and is written with every later state of the channel until the gate
// forgets it (its state then written without one).
TEST(ChannelStore, APendingRefundIsWrittenWithTheChannelAndOutlivesARestart) {
  TempDir dir;
  ChannelState s = state(1, 1000);
  s.onchain.refundNonce = U256{3};
  const PendingRefund refund{U256{3}, 700};
  {
    auto store = *ChannelStore::open(dir.file());
    ASSERT_TRUE(store->commit_and_wait(s));
    EXPECT_EQ(pending_count(*store), 0);
    ASSERT_TRUE(mark_stale(*store, s, refund));
  }
  auto store = *ChannelStore::open(dir.file());
  ASSERT_EQ(pending_count(*store), 1);
  const auto pending = *store->pending_refunds();
  EXPECT_EQ(pending[0].first, s.channelId);
  EXPECT_EQ(pending[0].second, refund);
  EXPECT_EQ((*store->get(s.channelId))->onchainSyncedAt, 0u);

  s.chargedCumulativeAmount = 1100;  // a voucher served meanwhile, the refund still pending
  ASSERT_TRUE(store_write(*store, s, ChannelStore::Write::keep, refund));
  ASSERT_EQ(pending_count(*store), 1);
  s.onchain.refundNonce = U256{4};  // it landed: the gate forgot it
  ASSERT_TRUE(store_write(*store, s, ChannelStore::Write::keep, std::nullopt));
  EXPECT_EQ(pending_count(*store), 0);

  // A refund the facilitator refused for good is cleared by the next stale mark.
  ASSERT_TRUE(mark_stale(*store, s, PendingRefund{U256{4}, 1}));
  ASSERT_EQ(pending_count(*store), 1);
  ASSERT_TRUE(mark_stale(*store, s, std::nullopt));
  EXPECT_EQ(pending_count(*store), 0);
}

// The settle job does not delete a channel whose refund's fate is unknown, though its mirror (the
// refund taken off the balance) shows nothing left; and a refund recorded for a row the settle job
// did delete writes the row back, where a plain stale mark does not.
TEST(ChannelStore, APendingRefundKeepsItsRowFromTheSettleJob) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  ChannelState spent = state(1, 1000);
  spent.onchain.balance = 1000;  // the chain's 1700 less the pending refund's 700
  ASSERT_TRUE(store_write(*store, spent, ChannelStore::Write::keep, PendingRefund{U256{0}, 700}));
  ASSERT_TRUE(store->record_claimed(spent.channelId, 1000));
  ASSERT_TRUE(*store->get(spent.channelId)) << "deleted with its refund pending";
  EXPECT_EQ(pending_count(*store), 1);

  ChannelState settled = state(2, 500);
  settled.onchain.balance = 500;
  ASSERT_TRUE(store->commit_and_wait(settled));
  ASSERT_TRUE(store->record_claimed(settled.channelId, 500));
  ASSERT_FALSE(*store->get(settled.channelId));
  ASSERT_TRUE(mark_stale(*store, settled, std::nullopt));
  EXPECT_FALSE(*store->get(settled.channelId));
  settled.onchain.totalClaimed = 500;
  ASSERT_TRUE(mark_stale(*store, settled, PendingRefund{U256{0}, 1}));
  const auto back = *store->get(settled.channelId);
  ASSERT_TRUE(back) << "a refund that may still land was not recorded";
  EXPECT_EQ(back->onchain.totalClaimed, Uint128{500});
  EXPECT_EQ(back->onchainSyncedAt, 0u);
  EXPECT_EQ(pending_count(*store), 2);
}

// The settle job found the chain past a refund of unknown outcome: the refund is no longer held
// back; a channel the chain shows spent and claimed leaves the store, one with money left stays;
// a refund the gate recorded at another nonce since is kept.
TEST(ChannelStore, APendingRefundTheChainMovedPastIsResolved) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  OnchainChannelState chain;
  chain.refundNonce = U256{1};

  ChannelState emptied = state(1, 1000);
  emptied.onchain.balance = 5000;  // the gate's mirror from before the refund
  ASSERT_TRUE(store_write(*store, emptied, ChannelStore::Write::mark_stale, PendingRefund{U256{0}, 4000}));
  chain.balance = 1000;
  chain.totalClaimed = 1000;  // the refund claimed what was charged
  ASSERT_TRUE(store->resolve_pending_refund(emptied.channelId, PendingRefund{U256{0}, 4000}, chain));
  EXPECT_FALSE(*store->get(emptied.channelId)) << "a spent, claimed channel kept its row";
  EXPECT_EQ(*store->closed_channel(emptied.channelId), (ClosedChannel{U256{1}, 1000})) << "the chain's, past the refund";

  ChannelState partly = state(2, 1000);
  partly.onchain.balance = 5000;
  ASSERT_TRUE(store_write(*store, partly, ChannelStore::Write::keep, PendingRefund{U256{0}, 1000}));
  chain.balance = 4000;
  ASSERT_TRUE(store->resolve_pending_refund(partly.channelId, PendingRefund{U256{0}, 1000}, chain));
  const auto kept = *store->get(partly.channelId);
  ASSERT_TRUE(kept) << "a channel with money left was deleted";
  EXPECT_EQ(kept->onchain.totalClaimed, Uint128{1000});
  EXPECT_EQ(kept->onchain.refundNonce, U256{1}) << "a view at the refund's nonce would show its money";
  EXPECT_EQ(pending_count(*store), 0);

  ChannelState again = state(3, 1000);
  again.onchain.balance = 5000;
  ASSERT_TRUE(store_write(*store, again, ChannelStore::Write::keep, PendingRefund{U256{1}, 4000}));
  chain.balance = 1000;
  ASSERT_TRUE(store->resolve_pending_refund(again.channelId, PendingRefund{U256{0}, 4000}, chain));
  EXPECT_TRUE(*store->get(again.channelId)) << "deleted with a newer refund pending";
  EXPECT_EQ(pending_count(*store), 1);
}

// A store file as the first schema wrote it, holding `s`.
void write_first_schema_store(const std::string& path, const ChannelState& s) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string v1 = R"sql(
    CREATE TABLE channels (
      channel_id BLOB PRIMARY KEY, config BLOB NOT NULL, charged BLOB NOT NULL, signed_max BLOB NOT NULL,
      signature BLOB NOT NULL, balance BLOB NOT NULL, total_claimed BLOB NOT NULL,
      withdraw_requested_at INTEGER NOT NULL, refund_nonce BLOB NOT NULL, onchain_synced_at INTEGER NOT NULL,
      last_request_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    PRAGMA journal_mode = WAL;
    PRAGMA user_version = 1;
  )sql";
  ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_stmt* insert = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO channels VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, 5, 6)", -1, &insert,
                               nullptr),
            SQLITE_OK);
  const Bytes config = encode_config(s.config);
  const auto charged = encode_u128(s.chargedCumulativeAmount);
  const auto signed_max = encode_u128(s.signedMaxClaimable);
  const auto balance = encode_u128(s.onchain.balance);
  const auto claimed = encode_u128(0);
  const Bytes32 nonce = s.onchain.refundNonce.to_be();
  const std::pair<int, ByteView> blobs[] = {{1, s.channelId}, {2, config},  {3, charged}, {4, signed_max},
                                            {5, s.signature.bytes()}, {6, balance}, {7, claimed}, {8, nonce}};
  for (const auto& [i, b] : blobs) sqlite3_bind_blob(insert, i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE);
  sqlite3_finalize(insert);
  sqlite3_close(db);
}

// A store written by the first schema is migrated in place: its rows are kept, with no refund
// pending.
TEST(ChannelStore, AStoreOfTheFirstSchemaIsMigrated) {
  TempDir dir;
  const ChannelState s = state(7, 1000);
  ASSERT_NO_FATAL_FAILURE(write_first_schema_store(dir.file(), s));
  auto store = ChannelStore::open(dir.file());
  ASSERT_TRUE(store) << store.error().to_string();
  auto row = *(*store)->get(s.channelId);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->chargedCumulativeAmount, s.chargedCumulativeAmount);
  EXPECT_EQ(row->config, s.config);
  EXPECT_EQ(row->lastRequestTimestamp, 6u);
  EXPECT_EQ(pending_count(**store), 0);
  ASSERT_TRUE(mark_stale(**store, s, PendingRefund{U256{0}, 5}));
  EXPECT_EQ(pending_count(**store), 1);
  ChannelState refunded = s;
  refunded.onchain.refundNonce = U256{7};
  ASSERT_TRUE(store_write(**store, refunded, ChannelStore::Write::erase, std::nullopt));
  EXPECT_EQ(*(*store)->closed_channel(s.channelId), (ClosedChannel{U256{7}, 0}));
}

// The gate and the settle job may open an old store at the same moment: each migration step is
// taken once, by whichever gets the lock first, and both open it.
TEST(ChannelStore, TwoOpeningAnOldStoreAtOnceMigrateItOnce) {
  for (int round = 0; round < 20; ++round) {
    TempDir dir;
    ASSERT_NO_FATAL_FAILURE(write_first_schema_store(dir.file(), state(7, 1000)));
    std::promise<void> go;
    std::shared_future<void> started = go.get_future().share();
    auto open = [&] {
      started.wait();
      auto store = ChannelStore::open(dir.file());
      return store ? std::string{} : store.error().to_string();
    };
    auto first = std::async(std::launch::async, open);
    auto second = std::async(std::launch::async, open);
    go.set_value();
    EXPECT_EQ(first.get(), "") << "round " << round;
    EXPECT_EQ(second.get(), "") << "round " << round;
  }
}

// A channel refunded in full is deleted through the writer's queue, in order with the states
// queued before it (a single transaction here).
TEST(ChannelStore, AQueuedEraseDeletesTheRowInOrder) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  ASSERT_TRUE(store->commit_and_wait(state(1, 1000)));
  ASSERT_TRUE(store->commit_and_wait(state(2, 500)));
  std::promise<Status> done;
  const ChannelStore::Flusher flusher = &done;
  (void)store->enqueue(state(1, 2000), {}, flusher);
  (void)store->enqueue(state(1, 2000), [&](const Status& s) { done.set_value(s); }, flusher, ChannelStore::Write::erase);
  store->flush(flusher);
  ASSERT_TRUE(done.get_future().get());
  EXPECT_FALSE(store->get(state(1, 0).channelId)->has_value());
  EXPECT_EQ(store->load_all()->size(), 1u);
}

// The gate's erase leaves the channel's refund nonce and claimed total as its state has them (the
// gate judges a forgotten channel's chain views against them), even if the settle job deleted the
// row first, or the row holds older or newer columns: each is the highest any deletion left. A
// channel never deleted has none.
TEST(ChannelStore, ADeletedChannelLeavesItsRefundNonceAndClaimedTotal) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  ChannelState s = state(1, 1000);
  EXPECT_FALSE(*store->closed_channel(s.channelId));
  s.onchain.refundNonce = U256{3};
  ASSERT_TRUE(store->commit_and_wait(s));
  s.onchain.refundNonce = U256{4};  // the refund that emptied it, as the gate read it
  s.onchain.totalClaimed = 1000;
  ASSERT_TRUE(store_write(*store, s, ChannelStore::Write::erase, std::nullopt));
  EXPECT_FALSE(*store->get(s.channelId));
  EXPECT_EQ(*store->closed_channel(s.channelId), (ClosedChannel{U256{4}, 1000}));

  s.onchain.refundNonce = U256{300};  // across a byte boundary: compared as numbers
  ASSERT_TRUE(store_write(*store, s, ChannelStore::Write::erase, std::nullopt));
  EXPECT_FALSE(*store->get(s.channelId)) << "an erase of a row already gone wrote one";
  EXPECT_EQ(*store->closed_channel(s.channelId), (ClosedChannel{U256{300}, 1000}));
  ChannelState older = s;  // an erase on an older state, with no row
  older.onchain.refundNonce = U256{255};
  older.onchain.totalClaimed = 900;
  ASSERT_TRUE(store_write(*store, older, ChannelStore::Write::erase, std::nullopt));
  EXPECT_EQ(*store->closed_channel(s.channelId), (ClosedChannel{U256{300}, 1000})) << "lowered";

  ChannelState row = s;  // a row ahead of the state erased on, in either column
  row.onchain.refundNonce = U256{400};
  row.onchain.totalClaimed = 256;
  ASSERT_TRUE(store->commit_and_wait(row));
  s.onchain.refundNonce = U256{255};
  s.onchain.totalClaimed = 1100;
  ASSERT_TRUE(store_write(*store, s, ChannelStore::Write::erase, std::nullopt));
  EXPECT_EQ(*store->closed_channel(s.channelId), (ClosedChannel{U256{400}, 1100}));
  EXPECT_FALSE(*store->closed_channel(state(2, 0).channelId));
}

// A deleted channel's record is dated (by the database's clock) at every deletion, the gate's and
// the trigger's, and forgotten once as old as asked; a younger one is kept.
// The host's clock as SQLite reads it, in unix seconds.
std::int64_t sqlite_now(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT CAST(strftime('%s', 'now') AS INTEGER)", -1, &stmt, nullptr);
  sqlite3_step(stmt);
  const std::int64_t now = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return now;
}

// Runs `sql` on the store's file through a connection of its own; how many rows it changed.

// A deleted channel's record is dated (by the host's clock) at every deletion, the gate's and the
// trigger's, and forgotten once as old as asked; a younger one is kept, and one dated 0 (written
// by an older gate during the upgrade) counts from now.
TEST(ChannelStore, ADeletedChannelsRecordIsForgottenOnceOldEnough) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file().c_str(), &db), SQLITE_OK);
  const std::int64_t before = sqlite_now(db);
  sqlite3_close(db);
  ChannelState old_one = state(1, 1000), young = state(2, 1000), undated = state(3, 1000);
  young.onchain.balance = 1000;  // spent
  ASSERT_TRUE(store->commit_and_wait(young));
  ASSERT_TRUE(store_write(*store, old_one, ChannelStore::Write::erase, std::nullopt));  // no row: the gate's record
  ASSERT_TRUE(store->record_claimed(young.channelId, 1000));  // spent and claimed: the trigger's
  ASSERT_TRUE(store_write(*store, undated, ChannelStore::Write::erase, std::nullopt));
  ASSERT_TRUE(*store->closed_channel(young.channelId));
  const auto where = [](const ChannelState& s) { return " WHERE channel_id = x'" + to_hex(s.channelId).substr(2) + "'"; };
  EXPECT_EQ(exec_on(dir.file(), "UPDATE closed_channels SET closed_at = closed_at - 1000 WHERE closed_at >= " +
                                    std::to_string(before)),
            3)
      << "a record not dated at its deletion";
  ASSERT_EQ(exec_on(dir.file(), "UPDATE closed_channels SET closed_at = closed_at + 800" + where(young)), 1);
  ASSERT_EQ(exec_on(dir.file(), "UPDATE closed_channels SET closed_at = 0" + where(undated)), 1);
  EXPECT_EQ(*store->forget_closed(1500), 0u);
  EXPECT_EQ(*store->forget_closed(500), 1u);
  EXPECT_FALSE(*store->closed_channel(old_one.channelId));
  EXPECT_TRUE(*store->closed_channel(young.channelId)) << "a record younger than asked was forgotten";
  EXPECT_TRUE(*store->closed_channel(undated.channelId)) << "a record dated 0 was forgotten";
}

// A running gate reads the closed-channel records dated since its last pass (Gate::refresh_claimed),
// paged by (date, id): each once, in order, with what the deleted row left, whatever the page size.
TEST(ChannelStore, ClosedRecordsAreReadSinceADateInPages) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  const std::int64_t dates[] = {100, 100, 200, 300, 300, 300};
  for (std::uint32_t n = 1; n <= 6; ++n) {
    ChannelState s = state(n, 1000);
    s.onchain.totalClaimed = 10 * n;
    s.onchain.refundNonce = U256{n};
    ASSERT_TRUE(store_write(*store, s, ChannelStore::Write::erase, std::nullopt));
  }
  ASSERT_TRUE(*store->closed_channel(state(6, 0).channelId)) << "the erases are folded";
  for (std::uint32_t n = 1; n <= 6; ++n) {
    ASSERT_EQ(exec_on(dir.file(), "UPDATE closed_channels SET closed_at = " + std::to_string(dates[n - 1]) +
                                      " WHERE channel_id = x'" + to_hex(state(n, 0).channelId).substr(2) + "'"),
              1);
  }
  for (std::size_t page : {1u, 2u, 3u, 4u, 10u}) {
    std::vector<ClosedRecord> all;
    std::optional<ClosedRecord> last;
    for (;;) {
      auto rows = last ? store->closed_since(last->closedAt, last->channelId, page) : store->closed_since(200, {}, page);
      ASSERT_TRUE(rows) << rows.error().to_string();
      all.insert(all.end(), rows->begin(), rows->end());
      if (rows->size() < page) break;
      last = rows->back();
    }
    ASSERT_EQ(all.size(), 4u) << "page " << page;
    for (std::uint32_t k = 0; k < 4; ++k) {
      const std::uint32_t n = 3 + k;
      EXPECT_EQ(all[k], (ClosedRecord{state(n, 0).channelId, ClosedChannel{U256{n}, 10 * n}, dates[n - 1]}))
          << "page " << page << ", record " << k;
    }
  }
  EXPECT_EQ(store->closed_since(300, state(4, 0).channelId, 10)->size(), 2u) << "those after (300, the 4th)";
  EXPECT_EQ(store->closed_since(201, {}, 10)->size(), 3u) << "dated 201 or later";
  EXPECT_EQ(store->closed_since(301, {}, 10)->size(), 0u);
}

// A store of schema 3 (closed records without a date) is migrated: its records count from then.
TEST(ChannelStore, ClosedRecordsOfASchema3StoreAreDatedByTheMigration) {
  TempDir dir;
  const ChannelState s = state(1, 1000);
  {
    auto store = *ChannelStore::open(dir.file());
    ASSERT_TRUE(store_write(*store, s, ChannelStore::Write::erase, std::nullopt));
  }
  // Back to schema 3, by hand: the record as it had it, the trigger without the date, no voucher
  // log's position.
  ASSERT_EQ(exec_on(dir.file(), R"sql(
    DROP TABLE voucher_log;
    DROP INDEX closed_channels_by_age;
    DROP TRIGGER channel_closed;
    ALTER TABLE closed_channels DROP COLUMN closed_at;
    CREATE TRIGGER channel_closed AFTER DELETE ON channels BEGIN
      INSERT INTO closed_channels (channel_id, refund_nonce, total_claimed)
      VALUES (OLD.channel_id, OLD.refund_nonce, OLD.total_claimed)
      ON CONFLICT (channel_id) DO UPDATE SET refund_nonce = MAX(refund_nonce, excluded.refund_nonce),
                                             total_claimed = MAX(total_claimed, excluded.total_claimed);
    END;
    PRAGMA user_version = 3;
  )sql"), 0);
  auto store = ChannelStore::open(dir.file());
  ASSERT_TRUE(store) << store.error().to_string();
  EXPECT_EQ(exec_on(dir.file(), "UPDATE closed_channels SET closed_at = closed_at WHERE closed_at > 0"), 1)
      << "the migration left the record undated";
  EXPECT_EQ(*(*store)->forget_closed(30 * 86400), 0u);
  EXPECT_TRUE(*(*store)->closed_channel(s.channelId));
}

// The write-ahead log outlives a clean close at its working size, so a restarted gate overwrites
// it rather than growing it (each growing commit also commits file-system metadata).
TEST(ChannelStore, TheLogKeepsItsSizeAcrossRestarts) {
  TempDir dir;
  const std::string wal = dir.file() + "-wal";
  {
    auto store = *ChannelStore::open(dir.file(), {false});
    for (std::uint32_t i = 0; i < 1'200; ++i) ASSERT_TRUE(store->commit_and_wait(state(i % 64, i)));
  }
  ASSERT_TRUE(std::filesystem::exists(wal));
  const auto size = std::filesystem::file_size(wal);
  EXPECT_GT(size, 1'000'000u) << "past one checkpoint (1,000 pages)";
  {
    auto store = *ChannelStore::open(dir.file());
    EXPECT_EQ((*store->get(state(1'199 % 64, 0).channelId))->chargedCumulativeAmount, Uint128{1'199});
    ASSERT_TRUE(store->commit_and_wait(state(0, 1'200)));
  }
  EXPECT_EQ(std::filesystem::file_size(wal), size);
  EXPECT_EQ((*(*ChannelStore::open(dir.file()))->get(state(0, 0).channelId))->chargedCumulativeAmount,
            Uint128{1'200});
}

// After `threads` writers, thread t committing charges 1..per on channel t: every commit was
// acknowledged, and the reopened store holds each channel's last charge.
void expect_every_charge_acknowledged(const TempDir& dir, int acknowledged, int threads, int per) {
  EXPECT_EQ(acknowledged, threads * per);
  auto store = *ChannelStore::open(dir.file());
  for (int t = 0; t < threads; ++t)
    EXPECT_EQ((*store->get(state(static_cast<std::uint32_t>(t), 0).channelId))->chargedCumulativeAmount,
              static_cast<Uint128>(per));
}

TEST(ChannelStore, GroupCommitFromManyThreadsKeepsEveryAcknowledgedState) {
  TempDir dir;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  std::atomic<int> acknowledged{0};
  {
    auto store = *ChannelStore::open(dir.file());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 1; i <= kPerThread; ++i)
          if (store->commit_and_wait(state(static_cast<std::uint32_t>(t), static_cast<Uint128>(i)))) ++acknowledged;
      });
    for (auto& th : threads) th.join();
  }
  expect_every_charge_acknowledged(dir, acknowledged.load(), kThreads, kPerThread);
}

// The gate paces group commit: what it enqueues waits for its flush(), and only the first state
// after that flusher's flush asks for one.
TEST(ChannelStore, EnqueuedStatesWaitForTheFlush) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  const int io_thread = 0;  // the flusher: any address
  std::promise<Status> first_durable, second_durable;
  auto first = first_durable.get_future();
  EXPECT_TRUE(store->enqueue(state(1, 10), [&](const Status& s) { first_durable.set_value(s); }, &io_thread));
  EXPECT_FALSE(store->enqueue(state(2, 20), [&](const Status& s) { second_durable.set_value(s); }, &io_thread));
  // A writer woken by enqueue() would have committed within this wait (a commit takes ~0.3 ms).
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_TRUE(store->load_all()->empty()) << "nothing is written before the flush";
  store->flush(&io_thread);
  EXPECT_TRUE(first.get());
  EXPECT_TRUE(second_durable.get_future().get());
  EXPECT_EQ(store->load_all()->size(), 2u);
  std::promise<Status> third_durable;
  EXPECT_TRUE(store->enqueue(state(3, 30), [&](const Status& s) { third_durable.set_value(s); }, &io_thread))
      << "the first state after a flush asks for the next one";
  store->flush(&io_thread);
  EXPECT_TRUE(third_durable.get_future().get());
}

// A long pass goes to the writer in two halves (enqueue): its first half is durable before the
// pass's flush, at 32 states, then at half the flusher's last pass.
TEST(ChannelStore, ALongPassIsWrittenInTwoHalves) {
  std::deque<std::promise<Status>> promises;  // declared first: they outlive the store's callbacks
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  const int io_thread = 0;
  const auto pass = [&](std::uint32_t channels) {
    std::vector<std::future<Status>> durable;
    for (std::uint32_t i = 0; i < channels; ++i) {
      std::promise<Status>& p = promises.emplace_back();
      durable.push_back(p.get_future());
      (void)store->enqueue(state(i, 10), [&p](const Status& s) { p.set_value(s); }, &io_thread);
    }
    return durable;
  };
  // A writer let write the rest would have committed it within this wait (a commit takes ~0.3 ms).
  const auto waits = [](std::future<Status>& f) {
    return f.wait_for(std::chrono::milliseconds(100)) == std::future_status::timeout;
  };
  // Released (by the split or a flush), a state is durable within milliseconds; one that never is
  // must not hang the test.
  const auto durable_soon = [](std::future<Status>& f) {
    return f.wait_for(std::chrono::seconds(10)) == std::future_status::ready && f.get().ok();
  };
  auto first = pass(100);
  EXPECT_TRUE(durable_soon(first[31])) << "the 32nd state of a first pass released the 32 so far";
  EXPECT_TRUE(waits(first[32]));
  store->flush(&io_thread);
  for (std::uint32_t i = 32; i < 100; ++i) EXPECT_TRUE(durable_soon(first[i]));

  auto second = pass(60);  // half of the last pass: 50
  EXPECT_TRUE(durable_soon(second[49]));
  EXPECT_TRUE(waits(second[50]));
  store->flush(&io_thread);
  for (std::uint32_t i = 50; i < 60; ++i) EXPECT_TRUE(durable_soon(second[i]));

  auto short_pass = pass(31);  // below 32: whole, at its flush
  EXPECT_TRUE(waits(short_pass[30]));
  store->flush(&io_thread);
  for (auto& durable : short_pass) EXPECT_TRUE(durable_soon(durable));
}

// Each flusher (each of the gate's I/O threads) owes its own flush: a state enqueued while another
// flusher's flush is pending asks its own, so it does not wait for the other thread's pass. The
// first flush that runs carries everything queued.
TEST(ChannelStore, EveryFlusherOwesItsOwnFlush) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file());
  const int thread_a = 0, thread_b = 0;
  std::promise<Status> a_durable, b_durable;
  EXPECT_TRUE(store->enqueue(state(1, 10), [&](const Status& s) { a_durable.set_value(s); }, &thread_a));
  EXPECT_TRUE(store->enqueue(state(2, 20), [&](const Status& s) { b_durable.set_value(s); }, &thread_b))
      << "A's flush is pending, but B must not wait for it";
  EXPECT_FALSE(store->enqueue(state(3, 30), nullptr, &thread_a)) << "A's flush is still owed and carries this";
  store->flush(&thread_b);
  EXPECT_TRUE(b_durable.get_future().get());
  EXPECT_TRUE(a_durable.get_future().get()) << "B's flush carried A's states too";
  EXPECT_FALSE(store->enqueue(state(4, 40), nullptr, &thread_a)) << "A has not run its flush: it still owes it";
  EXPECT_TRUE(store->enqueue(state(5, 50), nullptr, &thread_b));
  store->flush(&thread_a);
  EXPECT_TRUE(store->enqueue(state(6, 60), nullptr, &thread_a)) << "A's flush ran: the next state asks again";
  store->flush(&thread_a);
  store->flush(&thread_b);
  store.reset();
  EXPECT_EQ((*ChannelStore::open(dir.file()))->load_all()->size(), 6u);
}

// The queue as a state machine, against a model of what each flush covers: random enqueues,
// flushes and pauses (which give the writer time to act on anything it was wrongly let write) from
// one thread, with a queue and batches small enough to hit the full-queue path.
// enqueue() asks for a flush exactly when the caller owes none (or when the full queue was
// flushed for it); the writer acknowledges no state that no flush covered yet (checked as it
// acknowledges); all are acknowledged, in order, at the end; the store holds each channel's last.
RC_GTEST_PROP(ChannelStore, EnqueueAndFlushAcknowledgeWhatAFlushCovered, ()) {
  const auto max_pending = *rc::gen::oneOf(rc::gen::inRange<std::size_t>(1, 6), rc::gen::inRange<std::size_t>(1, 65));
  const auto max_batch = *rc::gen::inRange<std::size_t>(1, 4);
  enum class Op { enqueue, flush, pause };
  // Ops at random (short passes), or whole passes of up to 120 states each ending in a flush, so
  // that passes are split at 32 and at half the last.
  std::vector<Op> ops;
  if (*rc::gen::arbitrary<bool>()) {
    ops = *rc::gen::container<std::vector<Op>>(
        rc::gen::weightedElement<Op>({{6, Op::enqueue}, {2, Op::flush}, {1, Op::pause}}));
  } else {
    const auto passes = *rc::gen::inRange<std::size_t>(0, 12);
    for (std::size_t i = 0; i < passes; ++i) {
      ops.insert(ops.end(), *rc::gen::inRange<std::size_t>(0, 121), Op::enqueue);
      if (*rc::gen::arbitrary<bool>()) ops.push_back(Op::pause);
      ops.push_back(Op::flush);
    }
  }
  // What the writer may acknowledge: states below `covered`, or, while enqueue(m) runs, below m
  // (a full queue is flushed inside it). Each is widened before the call that allows it. Declared
  // before the store, whose destructor (also on a failed assertion) still acknowledges states.
  std::atomic<std::size_t> covered{0}, enqueuing{0};
  std::atomic<bool> uncovered_ack{false};
  std::mutex acked_mutex;
  std::vector<std::size_t> acked;
  TempDir dir;
  const StoreOptions small{.durable = false, .max_batch = max_batch, .max_pending = max_pending};
  auto store = *ChannelStore::open(dir.file(), small);
  const int flusher = 0;  // one caller, as one I/O thread
  std::size_t enqueued = 0;
  bool owes = false;           // the flusher owes a flush (enqueue asked, no flush() since)
  std::size_t unreleased = 0;  // states the writer may not take yet: they alone fill the queue
  std::size_t pass = 0, last_pass = 0;  // enqueued since the last flush(); the pass before
  std::map<std::uint32_t, Uint128> last;
  for (const Op op : ops) {
    if (op == Op::pause) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    if (op == Op::flush) {
      covered = enqueued;
      store->flush(&flusher);
      owes = false;
      unreleased = 0;
      if (pass != 0) last_pass = std::exchange(pass, 0);
      continue;
    }
    const std::size_t n = enqueued++;
    const bool half = ++pass == std::max<std::size_t>(32, last_pass / 2);  // the pass's first half
    if (half) covered = n + 1;
    const auto channel = static_cast<std::uint32_t>(n % 3);
    last[channel] = n + 1;
    enqueuing = n;
    const bool asked = store->enqueue(
        state(channel, n + 1),
        [&, n](const Status& s) {
          // `enqueuing` first: read as 0 after enqueue() returned, `covered` was widened before.
          if (n >= enqueuing && n >= covered) uncovered_ack = true;
          std::lock_guard lock(acked_mutex);
          acked.push_back(s ? n : SIZE_MAX);
        },
        &flusher);
    // A queue that unreleased states fill is flushed inside enqueue, which then asks afresh. A
    // queue full of released states the writer has not taken yet may be too (its timing).
    const bool full = unreleased >= max_pending;
    if (!owes || full) RC_ASSERT(asked);
    const bool flushed_inside = full || (owes && asked);
    if (flushed_inside) covered = std::max<std::size_t>(covered, n);
    enqueuing = 0;
    owes = owes || asked;
    unreleased = half ? 0 : flushed_inside ? 1 : unreleased + 1;
  }
  covered = enqueued;
  store->flush(&flusher);
  store.reset();  // the writer finishes every flushed state
  RC_ASSERT(!uncovered_ack);
  std::vector<std::size_t> all(enqueued);
  std::iota(all.begin(), all.end(), std::size_t{0});
  RC_ASSERT(acked == all);
  auto reopened = *ChannelStore::open(dir.file());
  for (const auto& [channel, charged] : last)
    RC_ASSERT((*reopened->get(state(channel, 0).channelId))->chargedCumulativeAmount == charged);
}

// A thread that fills the queue with states it has not flushed yet would wait for room forever
// if the full queue waited for its flush: the full queue is flushed instead, and the state that
// waited for room is the first of the next flush.
TEST(ChannelStore, AFullQueueIsFlushedRatherThanWaitedOn) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file(), StoreOptions{.durable = true, .max_batch = 512, .max_pending = 2});
  std::atomic<int> durable{0};
  auto count = [&](const Status& s) { durable += s ? 1 : 0; };
  std::vector<bool> asks;
  const int io_thread = 0;
  for (std::uint32_t n = 1; n <= 5; ++n) asks.push_back(store->enqueue(state(n, n), count, &io_thread));
  EXPECT_EQ(asks, (std::vector<bool>{true, false, true, false, true}));
  store->flush(&io_thread);
  store.reset();  // finishes every queued commit
  EXPECT_EQ(durable.load(), 5);
  EXPECT_EQ((*ChannelStore::open(dir.file()))->load_all()->size(), 5u);
}

// Several I/O threads enqueue into one store, each flushing when told to, as the gate's do:
// every state is acknowledged, whichever thread's flush carried it.
TEST(ChannelStore, ThreadsThatFlushWhenToldLoseNoState) {
  TempDir dir;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::atomic<int> acknowledged{0};
  {
    auto store = *ChannelStore::open(dir.file(), StoreOptions{.durable = true, .max_batch = 7, .max_pending = 16});
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        std::vector<std::future<void>> pending;
        bool owes = false;  // told to flush, and has not yet
        for (int i = 1; i <= kPerThread; ++i) {
          auto done = std::make_shared<std::promise<void>>();
          pending.push_back(done->get_future());
          const bool asked = store->enqueue(state(static_cast<std::uint32_t>(t), static_cast<Uint128>(i)),
                                            [&, done](const Status& s) {
                                              if (s) ++acknowledged;
                                              done->set_value();
                                            },
                                            &t);
          owes = owes || asked;
          // The flush comes a few states later, as a posted one does after its pass: this
          // thread's states wait for it meanwhile, or ride on another thread's.
          if (owes && i % 3 == 0) {
            store->flush(&t);
            owes = false;
          }
        }
        if (owes) store->flush(&t);
        for (auto& f : pending) f.wait();
      });
    for (auto& th : threads) th.join();
  }
  expect_every_charge_acknowledged(dir, acknowledged.load(), kThreads, kPerThread);
}

TEST(ChannelStore, AReaderSeesConsistentStatesWhileTheGateWrites) {
  TempDir dir;
  auto gate = *ChannelStore::open(dir.file());
  auto settle = *ChannelStore::open(dir.file());  // another connection, as the settle job has
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= 500; ++i) ASSERT_TRUE(gate->commit_and_wait(state(7, static_cast<Uint128>(i))));
    done = true;
  });
  Uint128 last = 0;
  int reads = 0;
  while (!done) {
    auto s = settle->get(state(7, 0).channelId);
    ASSERT_TRUE(s) << s.error().to_string();
    if (!s->has_value()) continue;
    const ChannelState& seen = **s;
    EXPECT_GE(seen.chargedCumulativeAmount, last) << "never goes back";
    EXPECT_EQ(seen.signedMaxClaimable, seen.chargedCumulativeAmount + 10) << "never a torn row";
    last = seen.chargedCumulativeAmount;
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0);
}

// kill -9 while commits are in flight: every commit the child acknowledged (as a gate would, by
// sending a PAYMENT-RESPONSE) is in the store after a restart, and the file opens cleanly.
TEST(ChannelStore, AcknowledgedCommitsSurviveKill9) {
  TempDir dir;
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipefd[0]);
    auto store = ChannelStore::open(dir.file());
    if (!store) _exit(2);
    std::vector<std::thread> threads;
    for (std::uint32_t t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (std::uint32_t i = 1;; ++i) {
          if (!(*store)->commit_and_wait(state(t, i))) _exit(3);
          const std::uint64_t ack = static_cast<std::uint64_t>(t) << 32 | i;
          if (write(pipefd[1], &ack, sizeof ack) != sizeof ack) _exit(4);
        }
      });
    for (auto& th : threads) th.join();
    _exit(0);
  }
  close(pipefd[1]);
  std::mt19937 rng(std::random_device{}());
  const int acks_before_kill = 200 + static_cast<int>(rng() % 800);
  std::map<std::uint32_t, std::uint32_t> highest;
  std::uint64_t ack = 0;
  for (int n = 0; n < acks_before_kill && read(pipefd[0], &ack, sizeof ack) == sizeof ack; ++n)
    highest[static_cast<std::uint32_t>(ack >> 32)] = std::max(highest[static_cast<std::uint32_t>(ack >> 32)],
                                                              static_cast<std::uint32_t>(ack));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  while (read(pipefd[0], &ack, sizeof ack) == sizeof ack)  // acks already in the pipe count too
    highest[static_cast<std::uint32_t>(ack >> 32)] = std::max(highest[static_cast<std::uint32_t>(ack >> 32)],
                                                              static_cast<std::uint32_t>(ack));
  close(pipefd[0]);
  ASSERT_FALSE(highest.empty());

  auto store = ChannelStore::open(dir.file());
  ASSERT_TRUE(store) << store.error().to_string();
  for (const auto& [thread, charged] : highest) {
    auto s = (*store)->get(state(thread, 0).channelId);
    ASSERT_TRUE(s && s->has_value());
    EXPECT_GE((*s)->chargedCumulativeAmount, Uint128{charged}) << "an acknowledged commit was lost";
    EXPECT_EQ((*s)->signedMaxClaimable, (*s)->chargedCumulativeAmount + 10) << "no stored charge above its voucher";
  }
}

}  // namespace
}  // namespace paychan::persistence
