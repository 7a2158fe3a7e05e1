#include "persistence/claim_journal.hpp"

#include "persistence/channel_record.hpp"

namespace paychan::persistence {
namespace {

constexpr std::string_view kMigrations[] = {
    R"sql(
      CREATE TABLE claim_batches (
        id INTEGER PRIMARY KEY,
        request TEXT NOT NULL,
        begun_at INTEGER NOT NULL,
        finished_at INTEGER,
        transaction_hash TEXT,
        error TEXT
      );
    )sql",
    R"sql(
      CREATE TABLE held_back (
        channel_id BLOB PRIMARY KEY,
        reverts INTEGER NOT NULL,
        not_before INTEGER NOT NULL
      ) WITHOUT ROWID;
    )sql",
    // When the job last read each refunded channel on chain, and the refund nonce that read showed
    // (refund_checks()).
    R"sql(
      CREATE TABLE refund_checks (
        channel_id BLOB PRIMARY KEY,
        checked_at INTEGER NOT NULL,
        refund_nonce BLOB NOT NULL
      ) WITHOUT ROWID;
    )sql",
};

// A channel id stored in the journal's first column of `query`'s row.
Result<Bytes32> channel_id_at(const Statement& query, std::string_view table) {
  auto id = decode_bytes32(query.blob(0));
  if (!id) return fail(ErrorCode::store_failed, "claim journal: a channel id in " + std::string{table} + " is not 32 bytes");
  return *id;
}

}  // namespace

Result<std::unique_ptr<ClaimJournal>> ClaimJournal::open(const std::string& path) {
  auto db = open_wal(path, true, &kSettleJournalFile);
  if (!db) return db.failure();
  PAYCHAN_TRY(migrate(*db, kMigrations));
  return std::unique_ptr<ClaimJournal>(new ClaimJournal(std::move(*db)));
}

Result<std::int64_t> ClaimJournal::begin(const std::string& request, std::uint64_t now) {
  PAYCHAN_ASSIGN(auto insert, db_.prepare("INSERT INTO claim_batches (request, begun_at) VALUES (?1, ?2) RETURNING id"));
  insert.bind_text(1, request).bind(2, static_cast<std::int64_t>(now));
  PAYCHAN_ASSIGN(bool row, insert.step());
  if (!row) return fail(ErrorCode::store_failed, "claim journal: insert returned no id");
  const std::int64_t id = insert.integer(0);
  PAYCHAN_TRY(insert.run());  // finish the statement so the transaction commits
  return id;
}

Result<std::vector<JournaledBatch>> ClaimJournal::pending() {
  PAYCHAN_ASSIGN(auto query, db_.prepare("SELECT id, request FROM claim_batches WHERE finished_at IS NULL ORDER BY id"));
  std::vector<JournaledBatch> batches;
  for (;;) {
    PAYCHAN_ASSIGN(bool row, query.step());
    if (!row) break;
    batches.push_back(JournaledBatch{query.integer(0), query.text(1)});
  }
  return batches;
}

Status ClaimJournal::finish(std::int64_t id, const std::string& transaction, const std::string& error,
                            std::uint64_t now, const std::vector<std::pair<Bytes32, HeldBack>>& hold_back) {
  PAYCHAN_ASSIGN(auto update, db_.prepare(
                                  "UPDATE claim_batches SET finished_at = ?2, transaction_hash = ?3, error = ?4 "
                                  "WHERE id = ?1 AND finished_at IS NULL"));
  PAYCHAN_ASSIGN(auto hold, db_.prepare("INSERT INTO held_back VALUES (?1, ?2, ?3) ON CONFLICT (channel_id) DO UPDATE "
                                        "SET reverts = excluded.reverts, not_before = excluded.not_before"));
  return db_.in_transaction([&]() -> Status {
    update.bind(1, id).bind(2, static_cast<std::int64_t>(now)).bind_text(3, transaction).bind_text(4, error);
    PAYCHAN_TRY(update.run());
    if (db_.changes() != 1)
      return fail(ErrorCode::store_failed, "claim journal: batch " + std::to_string(id) + " is not pending");
    for (const auto& [channel, held] : hold_back) {
      hold.bind(1, channel).bind(2, static_cast<std::int64_t>(held.reverts)).bind(3, static_cast<std::int64_t>(held.notBefore));
      PAYCHAN_TRY(hold.run());
    }
    return {};
  });
}

Result<std::map<Bytes32, HeldBack>> ClaimJournal::held_back() {
  PAYCHAN_ASSIGN(auto query, db_.prepare("SELECT channel_id, reverts, not_before FROM held_back"));
  std::map<Bytes32, HeldBack> held;
  for (;;) {
    PAYCHAN_ASSIGN(bool row, query.step());
    if (!row) break;
    PAYCHAN_ASSIGN(const Bytes32 key, channel_id_at(query, "held_back"));
    held[key] = HeldBack{static_cast<std::uint32_t>(query.integer(1)), static_cast<std::uint64_t>(query.integer(2))};
  }
  return held;
}

Status ClaimJournal::release(const std::vector<Bytes32>& channels) {
  if (channels.empty()) return {};  // no transaction, no fsync
  PAYCHAN_ASSIGN(auto remove, db_.prepare("DELETE FROM held_back WHERE channel_id = ?1"));
  return db_.in_transaction([&]() -> Status {
    for (const Bytes32& channel : channels) {
      remove.bind(1, channel);
      PAYCHAN_TRY(remove.run());
    }
    return {};
  });
}

Result<std::map<Bytes32, RefundCheck>> ClaimJournal::refund_checks() {
  PAYCHAN_ASSIGN(auto query, db_.prepare("SELECT channel_id, checked_at, refund_nonce FROM refund_checks"));
  std::map<Bytes32, RefundCheck> checks;
  for (;;) {
    PAYCHAN_ASSIGN(bool row, query.step());
    if (!row) break;
    PAYCHAN_ASSIGN(const Bytes32 key, channel_id_at(query, "refund_checks"));
    PAYCHAN_ASSIGN(const U256 nonce, decode_u256(query.blob(2)));
    checks[key] = RefundCheck{static_cast<std::uint64_t>(query.integer(1)), nonce};
  }
  return checks;
}

Status ClaimJournal::record_refund_checks(const std::vector<std::pair<Bytes32, U256>>& checked,
                                          const std::vector<Bytes32>& gone, std::uint64_t now) {
  if (checked.empty() && gone.empty()) return {};  // no transaction, no fsync
  PAYCHAN_ASSIGN(auto upsert, db_.prepare("INSERT INTO refund_checks VALUES (?1, ?2, ?3) ON CONFLICT (channel_id) DO UPDATE "
                                          "SET checked_at = excluded.checked_at, refund_nonce = excluded.refund_nonce"));
  PAYCHAN_ASSIGN(auto remove, db_.prepare("DELETE FROM refund_checks WHERE channel_id = ?1"));
  return db_.in_transaction([&]() -> Status {
    for (const auto& [channel, nonce] : checked) {
      upsert.bind(1, channel).bind(2, static_cast<std::int64_t>(now)).bind(3, nonce.to_be());
      PAYCHAN_TRY(upsert.run());
    }
    for (const Bytes32& channel : gone) {
      remove.bind(1, channel);
      PAYCHAN_TRY(remove.run());
    }
    return {};
  });
}

}  // namespace paychan::persistence
