// The facilitator's transaction journal on real SQLite files: one transaction per key, first outcome
// wins, pending entries survive a process that dies without closing the file.
#include "persistence/tx_journal.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "persistence/sqlite.hpp"
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
  e.to.bytes.fill(0xcd);
  e.data = {0xa9, 0x05, static_cast<std::uint8_t>(nonce)};
  e.gas = 90'000;
  e.maxFeePerGas = U256{Uint128{2'000'000'000}};
  e.maxPriorityFeePerGas = U256{Uint128{1'000'000'000}};
  return e;
}

// `e` signed again with higher fees: another raw transaction and hash, the same nonce.
JournalEntry replaced(const JournalEntry& e, std::uint8_t version) {
  JournalEntry r = e;
  r.rawTransaction.push_back(version);
  r.transactionHash[0] = static_cast<std::uint8_t>(0xf0 + version);
  r.sentAt += 60;
  r.maxFeePerGas = U256{*e.maxFeePerGas.to_uint128() * 2};
  r.replacedHashes.push_back(e.transactionHash);
  return r;
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
  EXPECT_EQ(*journal->pending_count(), 2u);
  ASSERT_TRUE(journal->record_outcome(entry("a", 1), R"({"success":true})"));
  ASSERT_TRUE(journal->record_outcome(entry("a", 1), R"({"success":false})"));
  EXPECT_EQ((*journal->find("a"))->outcome, std::optional<std::string>{R"({"success":true})"});
  auto pending = journal->pending();
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().key, "b");
  EXPECT_EQ(*journal->pending_count(), 1u);
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
  auto forgotten = journal->forget(entry("k", 1));
  ASSERT_TRUE(forgotten && *forgotten);
  ASSERT_TRUE(journal->record_sent(entry("k", 2)));
  auto late = journal->forget(entry("k", 1));
  ASSERT_TRUE(late) << late.error().to_string();
  EXPECT_FALSE(*late) << "nothing of the old transaction was left to forget";
  EXPECT_FALSE(journal->record_outcome(entry("k", 1), R"({"success":false})"));
  auto kept = journal->find("k");
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->nonce, 2u);
  EXPECT_FALSE((*kept)->outcome);
}

TEST(TxJournal, AReplacementBecomesTheLatestVersionAndEveryVersionStillMatches) {
  TempDir dir;
  const std::string path = dir.file("journal.sqlite");
  const auto first = entry("k", 5);
  const auto second = replaced(first, 1);
  const auto third = replaced(second, 2);
  {
    auto journal = *TxJournal::open(path);
    ASSERT_TRUE(journal->record_sent(first));
    ASSERT_TRUE(*journal->record_replacement(first, second));
    // A request still holding the first version cannot replace it again: it reads the latest.
    auto stale = journal->record_replacement(first, replaced(first, 3));
    ASSERT_TRUE(stale) << stale.error().to_string();
    EXPECT_FALSE(*stale);
    ASSERT_TRUE(*journal->record_replacement(second, third));
  }
  auto journal = *TxJournal::open(path);
  auto found = journal->find("k");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->transactionHash, third.transactionHash);
  EXPECT_EQ((*found)->rawTransaction, third.rawTransaction);
  EXPECT_EQ((*found)->maxFeePerGas, third.maxFeePerGas);
  EXPECT_EQ((*found)->nonce, first.nonce);
  EXPECT_EQ((*found)->replacedHashes, (std::vector<Bytes32>{first.transactionHash, second.transactionHash}));
  EXPECT_EQ(**found, third) << "read back as it was written";
  // The first version was the one mined: its outcome is the entry's.
  ASSERT_TRUE(journal->record_outcome(first, R"({"success":true})"));
  EXPECT_EQ((*journal->find("k"))->outcome, std::optional<std::string>{R"({"success":true})"});
  EXPECT_FALSE(*journal->record_replacement(third, replaced(third, 4))) << "an entry with an outcome stays";
  // Forgotten only by a request holding the latest version: one holding an older version learnt
  // of that version's fate, not of the transaction's.
  auto older = journal->forget(second);
  ASSERT_TRUE(older);
  EXPECT_FALSE(*older);
  EXPECT_TRUE(*journal->find("k"));
  auto latest = journal->forget(third);
  ASSERT_TRUE(latest);
  EXPECT_TRUE(*latest);
  EXPECT_FALSE(*journal->find("k"));
  ASSERT_TRUE(journal->record_sent(entry("k", 9)));
  EXPECT_TRUE((*journal->find("k"))->replacedHashes.empty());
}

TEST(TxJournal, AJournalFromBeforeReplacementsIsMigratedWithItsEntries) {
  TempDir dir;
  const std::string path = dir.file("journal.sqlite");
  {
    auto db = open_wal(path, true);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(
        "CREATE TABLE tx_journal (key TEXT PRIMARY KEY, network TEXT NOT NULL, request TEXT NOT NULL, "
        "signer BLOB NOT NULL, nonce INTEGER NOT NULL, raw_tx BLOB NOT NULL, tx_hash BLOB NOT NULL, "
        "sent_at INTEGER NOT NULL, outcome TEXT) WITHOUT ROWID;"
        "CREATE INDEX tx_journal_pending ON tx_journal (sent_at) WHERE outcome IS NULL"));
    ASSERT_TRUE(db->exec("INSERT INTO tx_journal VALUES ('old', 'eip155:1', '{}', zeroblob(20), 3, x'02', "
                         "zeroblob(32), 1700000000, NULL)"));
    ASSERT_TRUE(db->exec("PRAGMA user_version = 1"));
  }
  auto journal = TxJournal::open(path);
  ASSERT_TRUE(journal) << journal.error().to_string();
  auto pending = (*journal)->pending();
  ASSERT_TRUE(pending) << pending.error().to_string();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].nonce, 3u);
  EXPECT_EQ((*pending)[0].gas, 0u) << "no fields to sign it again: never replaced";
  EXPECT_TRUE((*pending)[0].replacedHashes.empty());
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
