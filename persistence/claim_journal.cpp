#include "persistence/claim_journal.hpp"

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
};

}  // namespace

Result<std::unique_ptr<ClaimJournal>> ClaimJournal::open(const std::string& path) {
  auto db = open_wal(path, true);
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
                            std::uint64_t now) {
  PAYCHAN_ASSIGN(auto update, db_.prepare(
                                  "UPDATE claim_batches SET finished_at = ?2, transaction_hash = ?3, error = ?4 "
                                  "WHERE id = ?1"));
  update.bind(1, id).bind(2, static_cast<std::int64_t>(now)).bind_text(3, transaction).bind_text(4, error);
  return update.run();
}

}  // namespace paychan::persistence
