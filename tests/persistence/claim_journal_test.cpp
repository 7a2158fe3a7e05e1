// The settle job's journal on real SQLite files: a batch stays pending until finished, across
// reopening; held-back channels are replaced, released and kept across reopening, and written with
// their batch's outcome or not at all; when each refunded channel was last checked is replaced,
// forgotten and kept; a journal written before held-back channels existed (schema version 1) is
// migrated with its pending batch intact.
#include "persistence/claim_journal.hpp"

#include <gtest/gtest.h>

#include "channel/hex.hpp"
#include "persistence/sqlite.hpp"
#include "temp_dir.hpp"

namespace paychan::persistence {
namespace {

using paychan::test::TempDir;

Bytes32 id(std::uint8_t n) {
  Bytes32 b{};
  b.fill(n);
  return b;
}

TEST(ClaimJournal, ABatchIsPendingUntilFinishedAcrossReopening) {
  TempDir dir;
  const std::string path = dir.file("gate.sqlite.settle");
  std::int64_t first = 0;
  {
    auto journal = ClaimJournal::open(path);
    ASSERT_TRUE(journal) << journal.error().to_string();
    first = *(*journal)->begin(R"({"batch":1})", 100);
    ASSERT_TRUE((*journal)->begin(R"({"batch":2})", 101));
  }
  auto journal = ClaimJournal::open(path);
  ASSERT_TRUE(journal);
  auto pending = (*journal)->pending();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].request, R"({"batch":1})");
  ASSERT_TRUE((*journal)->finish(first, "0xabc", "", 102));
  pending = (*journal)->pending();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].request, R"({"batch":2})");
}

TEST(ClaimJournal, HeldBackChannelsAreReplacedReleasedAndKept) {
  TempDir dir;
  const std::string path = dir.file("gate.sqlite.settle");
  {
    auto journal = ClaimJournal::open(path);
    ASSERT_TRUE(journal);
    EXPECT_TRUE((*journal)->held_back()->empty());
    const std::int64_t first = *(*journal)->begin(R"({"batch":1})", 100);
    ASSERT_TRUE((*journal)->finish(first, "0x01", "reverted", 100, {{id(1), HeldBack{1, 700}}, {id(2), HeldBack{1, 700}}}));
    const std::int64_t second = *(*journal)->begin(R"({"batch":2})", 700);
    ASSERT_TRUE((*journal)->finish(second, "0x02", "reverted", 700, {{id(1), HeldBack{2, 1900}}}));
    ASSERT_TRUE((*journal)->release({id(2), id(3)}));  // id(3) was never held: nothing to do
  }
  auto journal = ClaimJournal::open(path);
  auto held = (*journal)->held_back();
  ASSERT_TRUE(held) << held.error().to_string();
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ(held->at(id(1)), (HeldBack{2, 1900}));
}

TEST(ClaimJournal, RefundChecksAreReplacedForgottenAndKept) {
  TempDir dir;
  const std::string path = dir.file("gate.sqlite.settle");
  {
    auto journal = ClaimJournal::open(path);
    ASSERT_TRUE(journal);
    EXPECT_TRUE((*journal)->refund_checks()->empty());
    ASSERT_TRUE((*journal)->record_refund_checks({{id(1), U256{1}}, {id(2), U256{2}}, {id(3), U256{3}}}, {}, 100));
    // id(4) was never checked; 300 crosses a byte boundary.
    ASSERT_TRUE((*journal)->record_refund_checks({{id(2), U256{300}}}, {id(3), id(4)}, 200));
  }
  auto journal = ClaimJournal::open(path);
  auto checks = (*journal)->refund_checks();
  ASSERT_TRUE(checks) << checks.error().to_string();
  EXPECT_EQ(*checks, (std::map<Bytes32, RefundCheck>{{id(1), {100, U256{1}}}, {id(2), {200, U256{300}}}}));
}

// Finishing a batch and holding its channels back are one transaction: when any part fails, the
// batch stays pending (the next run resends it) and no channel is held back, so its revert is
// counted once. A trigger makes the second channel's row fail. A finished batch is refused.
TEST(ClaimJournal, ABatchIsFinishedWithItsHeldBackChannelsOrNeither) {
  TempDir dir;
  const std::string path = dir.file("gate.sqlite.settle");
  auto journal = ClaimJournal::open(path);
  ASSERT_TRUE(journal);
  const std::int64_t batch = *(*journal)->begin(R"({"batch":1})", 100);
  const std::vector<std::pair<Bytes32, HeldBack>> reverted{{id(1), HeldBack{1, 700}}, {id(2), HeldBack{1, 700}}};
  auto db = open_wal(path, true);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TRIGGER refuse_second BEFORE INSERT ON held_back WHEN NEW.channel_id = x'" +
                       to_hex(id(2)).substr(2) + "' BEGIN SELECT RAISE(ABORT, 'refused'); END"));
  EXPECT_FALSE((*journal)->finish(batch, "0x01", "reverted", 100, reverted));
  EXPECT_EQ((*journal)->pending()->size(), 1u) << "still pending";
  EXPECT_TRUE((*journal)->held_back()->empty()) << "the first channel's row was rolled back";

  ASSERT_TRUE(db->exec("DROP TRIGGER refuse_second"));
  ASSERT_TRUE((*journal)->finish(batch, "0x01", "reverted", 100, reverted));
  EXPECT_TRUE((*journal)->pending()->empty());
  EXPECT_EQ((*journal)->held_back()->size(), 2u);

  const Status again = (*journal)->finish(batch, "0x01", "reverted", 100, {{id(1), HeldBack{2, 1300}}});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::store_failed);
  EXPECT_EQ((*journal)->held_back()->at(id(1)), (HeldBack{1, 700}));
}

TEST(ClaimJournal, AJournalFromBeforeHeldBackChannelsIsMigratedWithItsPendingBatch) {
  TempDir dir;
  const std::string path = dir.file("gate.sqlite.settle");
  {
    // What the first schema version wrote, by hand.
    auto db = open_wal(path, true);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("CREATE TABLE claim_batches (id INTEGER PRIMARY KEY, request TEXT NOT NULL, "
                         "begun_at INTEGER NOT NULL, finished_at INTEGER, transaction_hash TEXT, error TEXT)"));
    ASSERT_TRUE(db->exec("INSERT INTO claim_batches (request, begun_at) VALUES ('{\"old\":true}', 1)"));
    ASSERT_TRUE(db->exec("PRAGMA user_version = 1"));
  }
  auto journal = ClaimJournal::open(path);
  ASSERT_TRUE(journal) << journal.error().to_string();
  auto pending = (*journal)->pending();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].request, R"({"old":true})");
  ASSERT_TRUE((*journal)->finish((*pending)[0].id, "0x04", "reverted", 2, {{id(4), HeldBack{1, 600}}}));
  EXPECT_EQ((*journal)->held_back()->size(), 1u);
  EXPECT_TRUE((*journal)->pending()->empty());
  EXPECT_TRUE((*journal)->record_refund_checks({{id(4), U256{1}}}, {}, 3)) << "the later migrations ran too";
}

}  // namespace
}  // namespace paychan::persistence
