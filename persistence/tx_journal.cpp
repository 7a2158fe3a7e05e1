#include "persistence/tx_journal.hpp"

#include <algorithm>

#include "channel/unix_time.hpp"

namespace paychan::persistence {
namespace {

constexpr std::string_view kMigrations[] = {
    R"sql(
      CREATE TABLE tx_journal (
        key TEXT PRIMARY KEY,
        network TEXT NOT NULL,
        request TEXT NOT NULL,
        signer BLOB NOT NULL,
        nonce INTEGER NOT NULL,
        raw_tx BLOB NOT NULL,
        tx_hash BLOB NOT NULL,
        sent_at INTEGER NOT NULL,
        outcome TEXT
      ) WITHOUT ROWID;
      CREATE INDEX tx_journal_pending ON tx_journal (sent_at) WHERE outcome IS NULL;
    )sql",
    // What a replacement with higher fees signs again, and the hashes of replaced versions.
    R"sql(
      ALTER TABLE tx_journal ADD COLUMN to_address BLOB;
      ALTER TABLE tx_journal ADD COLUMN calldata BLOB;
      ALTER TABLE tx_journal ADD COLUMN gas INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE tx_journal ADD COLUMN max_fee BLOB;
      ALTER TABLE tx_journal ADD COLUMN priority_fee BLOB;
      CREATE TABLE tx_replaced (
        key TEXT NOT NULL,
        tx_hash BLOB NOT NULL,
        UNIQUE (key, tx_hash)
      );
    )sql",
};

constexpr std::string_view kColumns =
    "key, network, request, signer, nonce, raw_tx, tx_hash, sent_at, outcome, to_address, calldata, gas, max_fee, "
    "priority_fee";

template <std::size_t N>
Result<FixedBytes<N>> fixed(ByteView blob, const char* what) {
  if (blob.size() != N) return fail(ErrorCode::invalid_payload, std::string("journal entry has a bad ") + what);
  FixedBytes<N> out{};
  std::copy(blob.begin(), blob.end(), out.begin());
  return out;
}

Result<U256> read_u256(ByteView blob, const char* what) {
  PAYCHAN_ASSIGN(const Bytes32 be, fixed<32>(blob, what));
  return U256::from_be(be);
}

Result<JournalEntry> read_entry(const Statement& s) {
  JournalEntry e;
  e.key = s.text(0);
  e.network = s.text(1);
  e.request = s.text(2);
  PAYCHAN_ASSIGN(e.from.bytes, fixed<20>(s.blob(3), "signer"));
  if (s.integer(4) < 0) return fail(ErrorCode::invalid_payload, "journal entry has a negative nonce");
  e.nonce = static_cast<std::uint64_t>(s.integer(4));
  const ByteView raw = s.blob(5);
  e.rawTransaction.assign(raw.begin(), raw.end());
  PAYCHAN_ASSIGN(e.transactionHash, fixed<32>(s.blob(6), "transaction hash"));
  e.sentAt = static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.integer(7)));
  // NULL until the receipt is known; an outcome is a JSON object, never empty.
  if (std::string outcome = s.text(8); !outcome.empty()) e.outcome = std::move(outcome);
  // NULL in entries journaled before replacements existed (gas 0: never replaced).
  if (!s.blob(9).empty()) {
    PAYCHAN_ASSIGN(e.to.bytes, fixed<20>(s.blob(9), "destination"));
  }
  const ByteView data = s.blob(10);
  e.data.assign(data.begin(), data.end());
  e.gas = static_cast<std::uint64_t>(std::max<std::int64_t>(0, s.integer(11)));
  if (!s.blob(12).empty()) {
    PAYCHAN_ASSIGN(e.maxFeePerGas, read_u256(s.blob(12), "max fee"));
  }
  if (!s.blob(13).empty()) {
    PAYCHAN_ASSIGN(e.maxPriorityFeePerGas, read_u256(s.blob(13), "priority fee"));
  }
  return e;
}

// "The key's row, by any version's hash" (?1 key, ?2 hash).
constexpr std::string_view kMatchingVersion =
    "key = ?1 AND (tx_hash = ?2 OR EXISTS (SELECT 1 FROM tx_replaced r WHERE r.key = ?1 AND r.tx_hash = ?2))";

}  // namespace

Result<std::unique_ptr<TxJournal>> TxJournal::open(const std::string& path, bool durable) {
  auto db = open_wal(path, durable, &kFacilitatorJournalFile);
  if (!db) return db.failure();
  PAYCHAN_TRY(migrate(*db, kMigrations));
  return std::unique_ptr<TxJournal>(new TxJournal(std::move(*db)));
}

Status TxJournal::record_sent(const JournalEntry& e) {
  std::lock_guard lock(mutex_);
  // A plain INSERT: the primary key refuses a second transaction for the same action.
  auto s = db_.prepare("INSERT INTO tx_journal (" + std::string{kColumns} +
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10, ?11, ?12, ?13)");
  if (!s) return s.failure();
  s->bind_text(1, e.key).bind_text(2, e.network).bind_text(3, e.request).bind(4, e.from.bytes);
  s->bind(5, static_cast<std::int64_t>(e.nonce)).bind(6, e.rawTransaction).bind(7, e.transactionHash);
  s->bind(8, static_cast<std::int64_t>(e.sentAt != 0 ? e.sentAt : unix_now()));
  s->bind(9, e.to.bytes).bind(10, e.data).bind(11, static_cast<std::int64_t>(e.gas));
  s->bind(12, e.maxFeePerGas.to_be()).bind(13, e.maxPriorityFeePerGas.to_be());
  Status done = s->run();
  // A broken constraint is the primary key's: the action has one already. Anything else (a full
  // disk, a lock) is the store's failure, as it came.
  if (!done && done.error().code == ErrorCode::invalid_payload)
    return fail(ErrorCode::invalid_payload, "journal already holds a transaction for " + e.key + " (" +
                                                done.error().detail + ")");
  return done;
}

Result<bool> TxJournal::record_replacement(const JournalEntry& current, const JournalEntry& replacement) {
  std::lock_guard lock(mutex_);
  auto update = db_.prepare(
      "UPDATE tx_journal SET raw_tx = ?3, tx_hash = ?4, sent_at = ?5, max_fee = ?6, priority_fee = ?7 "
      "WHERE key = ?1 AND tx_hash = ?2 AND outcome IS NULL");
  if (!update) return update.failure();
  auto remember = db_.prepare("INSERT OR IGNORE INTO tx_replaced (key, tx_hash) VALUES (?1, ?2)");
  if (!remember) return remember.failure();
  update->bind_text(1, current.key).bind(2, current.transactionHash).bind(3, replacement.rawTransaction);
  update->bind(4, replacement.transactionHash).bind(5, static_cast<std::int64_t>(replacement.sentAt));
  update->bind(6, replacement.maxFeePerGas.to_be()).bind(7, replacement.maxPriorityFeePerGas.to_be());
  remember->bind_text(1, current.key).bind(2, current.transactionHash);
  return db_.run_then_if_changed(*update, *remember);
}

Status TxJournal::record_outcome(const JournalEntry& entry, std::string_view outcome) {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare("UPDATE tx_journal SET outcome = ?3 WHERE " + std::string{kMatchingVersion} + " AND outcome IS NULL");
  if (!s) return s.failure();
  s->bind_text(1, entry.key).bind(2, entry.transactionHash).bind_text(3, outcome);
  PAYCHAN_TRY(s->run());
  if (db_.changes() != 0) return {};
  // Nothing changed: the outcome was recorded already, or there is no such transaction.
  auto exists = db_.prepare("SELECT 1 FROM tx_journal WHERE " + std::string{kMatchingVersion});
  if (!exists) return exists.failure();
  exists->bind_text(1, entry.key).bind(2, entry.transactionHash);
  PAYCHAN_ASSIGN(const bool found, exists->step());
  if (!found) return fail(ErrorCode::invalid_payload, "journal has no such transaction for " + entry.key);
  return {};
}

Result<bool> TxJournal::forget(const JournalEntry& entry) {
  std::lock_guard lock(mutex_);
  auto row = db_.prepare("DELETE FROM tx_journal WHERE key = ?1 AND tx_hash = ?2");
  if (!row) return row.failure();
  // The key's replaced hashes are this entry's: one row per key.
  auto versions = db_.prepare("DELETE FROM tx_replaced WHERE key = ?1");
  if (!versions) return versions.failure();
  row->bind_text(1, entry.key).bind(2, entry.transactionHash);
  versions->bind_text(1, entry.key);
  return db_.run_then_if_changed(*row, *versions);
}

Result<std::vector<JournalEntry>> TxJournal::select(std::string_view where, std::string_view key) {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare("SELECT " + std::string{kColumns} + " FROM tx_journal " + std::string{where});
  if (!s) return s.failure();
  if (!key.empty()) s->bind_text(1, key);
  std::vector<JournalEntry> out;
  Result<bool> row = true;
  while ((row = s->step()) && *row) {
    PAYCHAN_ASSIGN(auto e, read_entry(*s));
    out.push_back(std::move(e));
  }
  if (!row) return row.failure();
  auto versions = db_.prepare("SELECT tx_hash FROM tx_replaced WHERE key = ?1 ORDER BY rowid");  // oldest first
  if (!versions) return versions.failure();
  for (JournalEntry& e : out) {
    versions->bind_text(1, e.key);
    while ((row = versions->step()) && *row) {
      PAYCHAN_ASSIGN(auto hash, fixed<32>(versions->blob(0), "replaced transaction hash"));
      e.replacedHashes.push_back(hash);
    }
    if (!row) return row.failure();
    versions->reset();
  }
  return out;
}

Result<std::optional<JournalEntry>> TxJournal::find(std::string_view key) {
  if (key.empty()) return std::optional<JournalEntry>{};
  PAYCHAN_ASSIGN(auto rows, select("WHERE key = ?1", key));
  if (rows.empty()) return std::optional<JournalEntry>{};
  return std::optional<JournalEntry>{std::move(rows.front())};
}

Result<std::vector<JournalEntry>> TxJournal::pending() {
  return select("WHERE outcome IS NULL ORDER BY sent_at, nonce", {});
}

Result<std::size_t> TxJournal::pending_count() {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare("SELECT count(*) FROM tx_journal WHERE outcome IS NULL");
  if (!s) return s.failure();
  auto row = s->step();
  if (!row) return row.failure();
  return static_cast<std::size_t>(s->integer(0));
}

}  // namespace paychan::persistence
