#include "persistence/sqlite.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "persistence/wal_write_buffer.hpp"

namespace paychan::persistence {
namespace {

// A constraint the data broke is the data's fault (invalid_payload); a path that names no database
// it can open is the configuration's (invalid_config: waiting will not help); anything else (a
// full disk, I/O, a lock) is the store's (store_failed).
Failure sqlite_fail(sqlite3* db, std::string_view what) {
  const int code = db != nullptr ? sqlite3_errcode(db) & 0xff : SQLITE_NOMEM;
  const ErrorCode ours = code == SQLITE_CONSTRAINT                          ? ErrorCode::invalid_payload
                         : code == SQLITE_NOTADB || code == SQLITE_CANTOPEN ? ErrorCode::invalid_config
                                                                            : ErrorCode::store_failed;
  return fail(ours, std::string{what} + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

const FileKind* const kKinds[] = {&kGateStoreFile, &kSettleJournalFile, &kAgentStoreFile, &kFacilitatorJournalFile};

// check_kind's look and mark, inside its transaction.
Status check_and_mark(Database& db, const std::string& path, const FileKind& kind) {
  PAYCHAN_ASSIGN(const std::int64_t id, db.pragma_int("application_id"));
  if (id == kind.applicationId) return {};
  if (id != 0) {
    std::string is = "not a file of paychan's (application_id " + std::to_string(id) + ")";
    for (const FileKind* other : kKinds)
      if (other->applicationId == id) is = std::string{other->what};
    return fail(ErrorCode::invalid_config, path + " is " + is + ", not " + std::string{kind.what});
  }
  // Unmarked: a new file, or one written before the mark, known by its first table.
  PAYCHAN_ASSIGN(auto tables, db.prepare("SELECT count(*), count(CASE WHEN name = ?1 THEN 1 END) FROM sqlite_master WHERE type = 'table'"));
  tables.bind_text(1, kind.firstTable);
  PAYCHAN_ASSIGN(const bool row, tables.step());
  if (row && tables.integer(0) != 0 && tables.integer(1) == 0)
    return fail(ErrorCode::invalid_config,
                path + " is not " + std::string{kind.what} + ": a SQLite file of something else (it has no " +
                    std::string{kind.firstTable} + " table)");
  tables.reset();
  return db.exec("PRAGMA application_id = " + std::to_string(kind.applicationId));
}

// Refuses a file that is not `kind` (see FileKind); marks one that is not marked yet.
Status check_kind(Database& db, const std::string& path, const FileKind& kind) {
  PAYCHAN_ASSIGN(const std::int64_t marked, db.pragma_int("application_id"));
  if (marked == kind.applicationId) return {};
  // Looked at again and marked in one write transaction: two processes opening a new file as
  // different kinds must not both take it.
  return db.in_transaction([&]() -> Status { return check_and_mark(db, path, kind); });
}

}  // namespace

const FileKind kGateStoreFile{0x50434753, "a gate's channel store", "channels"};
const FileKind kSettleJournalFile{0x5043534A, "a settle job's journal", "claim_batches"};
const FileKind kAgentStoreFile{0x50434153, "an agent's store", "client_channels"};
const FileKind kFacilitatorJournalFile{0x5043464A, "a facilitator's transaction journal", "tx_journal"};

Result<Database> Database::open(const std::string& path, bool create) {
  // A new file is the owner's alone (0600, whatever the umask): the stores hold signed vouchers,
  // channel salts and signed transactions. SQLite gives its -wal and -shm files the database's
  // mode. An existing file keeps the mode its owner gave it.
  // (":memory:" and the empty name are no file: SQLite keeps those databases in memory.)
  if (create && path != ":memory:" && !path.empty()) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    // A symbolic link to no file yet: SQLite would create its target with the umask's mode.
    struct stat target {};
    if (fd < 0 && errno == EEXIST && ::stat(path.c_str(), &target) != 0 && errno == ENOENT)
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);  // empty: SQLite makes it a database; EEXIST and the rest: SQLite says
  }
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, wal_write_buffer_vfs()) != SQLITE_OK) {
    Failure f = sqlite_fail(db, "cannot open " + path);
    sqlite3_close(db);
    return f;
  }
  sqlite3_extended_result_codes(db, 1);
  Database opened(db);
  // No page of a transaction reaches the log before its commit: the write buffer's precondition
  // (wal_write_buffer.hpp). The page cache grows past cache_size for a transaction that large.
  PAYCHAN_TRY(opened.exec("PRAGMA cache_spill = OFF"));
  const auto spill = opened.pragma_int("cache_spill");
  if (!spill) return spill.failure();
  if (*spill != 0) return fail(ErrorCode::store_failed, "SQLite kept cache spills on for " + path);
  // And no statement run on this connection later turns them on again (SQLite asks at prepare).
  sqlite3_set_authorizer(
      db,
      [](void*, int action, const char* pragma, const char* value, const char*, const char*) {
        const bool sets_cache_spill = action == SQLITE_PRAGMA && value != nullptr && sqlite3_stricmp(pragma, "cache_spill") == 0;
        return sets_cache_spill ? SQLITE_DENY : SQLITE_OK;
      },
      nullptr);
  // Another connection (the settle job) may hold the write lock briefly: wait, do not fail.
  sqlite3_busy_timeout(db, 5000);
  return opened;
}

struct Database::Transactions {
  Statement begin;
  Statement commit;
  Statement rollback;
};

Database::Database(sqlite3* db) noexcept : db_(db) {}

Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)), tx_(std::move(other.tx_)) {}

// The statements go first: a connection with statements left unfinalized does not close.
Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    tx_.reset();
    sqlite3_close(db_);
    db_ = std::exchange(other.db_, nullptr);
    tx_ = std::move(other.tx_);
  }
  return *this;
}

Database::~Database() {
  tx_.reset();
  sqlite3_close(db_);
}

Status Database::exec(std::string_view sql) {
  char* message = nullptr;
  const std::string text{sql};
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string detail = message ? message : "unknown error";
    sqlite3_free(message);
    return fail(ErrorCode::store_failed, "SQLite: " + detail);
  }
  return {};
}

Status Database::in_transaction(const std::function<Status()>& body) {
  if (!tx_) {
    PAYCHAN_ASSIGN(Statement begin, prepare("BEGIN IMMEDIATE"));
    PAYCHAN_ASSIGN(Statement commit, prepare("COMMIT"));
    PAYCHAN_ASSIGN(Statement rollback, prepare("ROLLBACK"));
    tx_ = std::make_unique<Transactions>(Transactions{std::move(begin), std::move(commit), std::move(rollback)});
  }
  PAYCHAN_TRY(tx_->begin.run());
  Status done;
  try {
    done = body();
  } catch (...) {  // bad_alloc: the connection outlives it, and must not keep the lock
    (void)tx_->rollback.run();
    throw;
  }
  if (done) done = tx_->commit.run();
  if (!done) (void)tx_->rollback.run();  // leaves no transaction open for the next one
  return done;
}

Result<bool> Database::run_then_if_changed(Statement& first, Statement& then) {
  bool changed = false;
  const Status done = in_transaction([&]() -> Status {
    PAYCHAN_TRY(first.run());
    changed = changes() != 0;
    return changed ? then.run() : Status{};
  });
  if (!done) return done.failure();
  return changed;
}

void Database::persist_wal() noexcept {
  int persist = 1;
  sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
      SQLITE_OK)
    return sqlite_fail(db_, "prepare");
  return Statement(stmt, db_);
}

Result<std::int64_t> Database::pragma_int(std::string_view name) {
  auto stmt = prepare("PRAGMA " + std::string{name});
  if (!stmt) return stmt.failure();
  auto row = stmt->step();
  if (!row) return row.failure();
  if (!*row) return fail(ErrorCode::store_failed, "PRAGMA " + std::string{name} + " returned nothing");
  return stmt->integer(0);
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), db_(std::exchange(other.db_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

std::int64_t Database::changes() const noexcept { return sqlite3_changes64(db_); }

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, ByteView blob) {
  // SQLITE_TRANSIENT: SQLite copies, so callers may pass temporaries.
  sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_unowned(int index, ByteView blob) {
  sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_fail(db_, "step");
}

Status Statement::run() {
  Result<bool> row = true;
  while ((row = step()) && *row) {
  }
  reset();
  if (!row) return row.failure();
  return {};
}

void Statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

ByteView Statement::blob(int column) const noexcept {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  return {data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::int64_t Statement::integer(int column) const noexcept { return sqlite3_column_int64(stmt_, column); }

Statement& Statement::bind_text(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return data == nullptr ? std::string{} : std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

Result<Database> open_wal(const std::string& path, bool durable, const FileKind* kind) {
  auto db = Database::open(path, true);
  if (!db) return db.failure();
  if (kind != nullptr) PAYCHAN_TRY(check_kind(*db, path, *kind));
  PAYCHAN_TRY(db->exec("PRAGMA journal_mode = WAL"));
  db->persist_wal();
  PAYCHAN_TRY(db->exec(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF"));
  return db;
}

namespace {

// The store's schema version, checked against the newest this build knows.
Result<std::int64_t> schema_version(Database& db, std::int64_t newest) {
  auto version = db.pragma_int("user_version");
  if (!version) return version.failure();
  if (*version > newest)
    return fail(ErrorCode::invalid_payload, "the store was written by a newer paychan (schema " +
                                                std::to_string(*version) + ", this one knows " +
                                                std::to_string(newest) + ")");
  return *version;
}

}  // namespace

Status migrate(Database& db, std::span<const std::string_view> migrations) {
  const auto newest = static_cast<std::int64_t>(migrations.size());
  auto current = schema_version(db, newest);
  if (!current || *current == newest) return current ? Status{} : Status{current.failure()};
  // Each step reads the version again inside its write transaction: the gate and the settle job
  // may open the same file at once, and the second to get the lock finds the step already taken.
  for (bool stepped = true; stepped;) {
    const Status step = db.in_transaction([&]() -> Status {
      auto version = schema_version(db, newest);
      if (!version) return version.failure();
      stepped = *version < newest;
      if (!stepped) return {};
      PAYCHAN_TRY(db.exec(migrations[static_cast<std::size_t>(*version)]));
      return db.exec("PRAGMA user_version = " + std::to_string(*version + 1));
    });
    if (!step) return step;
  }
  return {};
}

}  // namespace paychan::persistence
