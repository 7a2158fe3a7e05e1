// The facilitator's transaction journal on real SQLite files: one transaction per key, first outcome
// wins, pending entries survive a process that dies without closing the file.
#include "persistence/tx_journal.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "temp_dir.hpp"

namespace paychan::persistence {
namespace {

using paychan::test::TempDir;

JournalEntry entry(const std::string& key, std::uint64_t nonce) {
  JournalEntry e;
  e.key = key;
  e.network = "eip155:31337";
  e.request = R"({"x402Version":2})";
  e.from.bytes.fill(0xab);
  e.nonce = nonce;
  e.rawTransaction = {0x02, 0xf8, static_cast<std::uint8_t>(nonce), 0x01};
  e.transactionHash.fill(static_cast<std::uint8_t>(nonce));
  e.sentAt = 1'700'000'000 + nonce;
  return e;
}

TEST(TxJournal, RecordsAndFindsAnEntry) {
  TempDir dir;
  auto journal = TxJournal::open(dir.file("journal.sqlite"));
  ASSERT_TRUE(journal) << journal.error().to_string();
  const auto e = entry("eip155:31337/claim/0x01", 7);
  ASSERT_TRUE((*journal)->record_sent(e));
  auto found = (*journal)->find(e.key);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(**found, e);
  auto missing = (*journal)->find("eip155:31337/claim/0x02");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST(TxJournal, RefusesASecondTransactionForTheSameKey) {
  TempDir dir;
  auto journal = *TxJournal::open(dir.file("journal.sqlite"));
  const auto first = entry("k", 1);
  ASSERT_TRUE(journal->record_sent(first));
  const Status second = journal->record_sent(entry("k", 2));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::invalid_payload);
  EXPECT_EQ(**journal->find("k"), first);  // the first transaction stays the key's
}

TEST(TxJournal, FirstOutcomeWinsAndEndsPending) {
  TempDir dir;
  auto journal = *TxJournal::open(dir.file("journal.sqlite"));
  ASSERT_TRUE(journal->record_sent(entry("a", 1)));
  ASSERT_TRUE(journal->record_sent(entry("b", 2)));
  ASSERT_EQ(journal->pending()->size(), 2u);
  ASSERT_TRUE(journal->record_outcome(entry("a", 1), R"({"success":true})"));
  ASSERT_TRUE(journal->record_outcome(entry("a", 1), R"({"success":false})"));
  EXPECT_EQ((*journal->find("a"))->outcome, std::optional<std::string>{R"({"success":true})"});
  auto pending = journal->pending();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().key, "b");
  EXPECT_FALSE(journal->record_outcome(entry("nope", 3), "{}"));
  EXPECT_FALSE(journal->record_outcome(entry("b", 3), "{}")) << "b's transaction is another";
}

TEST(TxJournal, ForgottenKeyMayBeAttemptedAgain) {
  TempDir dir;
  auto journal = *TxJournal::open(dir.file("journal.sqlite"));
  ASSERT_TRUE(journal->record_sent(entry("k", 1)));
  ASSERT_TRUE(journal->forget(entry("k", 1)));
  EXPECT_FALSE(*journal->find("k"));
  EXPECT_TRUE(journal->pending()->empty());
  ASSERT_TRUE(journal->record_sent(entry("k", 3)));
  EXPECT_EQ((*journal->find("k"))->nonce, 3u);
}

// A request that was waiting on the key's first transaction learns its fate (reverted, dropped)
// after the key was attempted again: what it forgets or records is its own transaction's, never
// the newer one's.
TEST(TxJournal, ALateWordOnAnOldTransactionLeavesTheKeysNewOneAlone) {
  TempDir dir;
  auto journal = *TxJournal::open(dir.file("journal.sqlite"));
  ASSERT_TRUE(journal->record_sent(entry("k", 1)));
  ASSERT_TRUE(journal->forget(entry("k", 1)));
  ASSERT_TRUE(journal->record_sent(entry("k", 2)));
  ASSERT_TRUE(journal->forget(entry("k", 1)));
  EXPECT_FALSE(journal->record_outcome(entry("k", 1), R"({"success":false})"));
  auto kept = journal->find("k");
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->nonce, 2u);
  EXPECT_FALSE((*kept)->outcome);
}

TEST(TxJournal, PendingListsInSendingOrder) {
  TempDir dir;
  auto journal = *TxJournal::open(dir.file("journal.sqlite"));
  ASSERT_TRUE(journal->record_sent(entry("late", 9)));
  ASSERT_TRUE(journal->record_sent(entry("early", 4)));
  auto pending = *journal->pending();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].key, "early");
  EXPECT_EQ(pending[1].key, "late");
}

// record_sent is on disk when it returns: a child that records and dies at once (no close, no
// destructor) leaves an entry the next process finds pending.
TEST(TxJournal, SentEntrySurvivesAProcessThatDies) {
  TempDir dir;
  const std::string path = dir.file("journal.sqlite");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto journal = TxJournal::open(path);
    if (!journal || !(*journal)->record_sent(entry("crash", 5))) _exit(1);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto journal = TxJournal::open(path);
  ASSERT_TRUE(journal) << journal.error().to_string();
  auto pending = (*journal)->pending();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front(), entry("crash", 5));
}

}  // namespace
}  // namespace paychan::persistence
