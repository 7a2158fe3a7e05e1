// A thin RAII layer over SQLite: a connection, and statements prepared once and reused. Errors
// become Status values with SQLite's message (which never contains bound values, so never keys).
// Thread-safety: one Database per thread (SQLite's "multi-thread" mode); a Statement belongs to
// its Database.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "channel/bytes.hpp"
#include "channel/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace paychan::persistence {

class Statement;

class Database {
 public:
  // Opens (creating if asked) the file at `path` through wal_write_buffer_vfs(), with cache spills
  // off (its precondition). Errors: store_failed with SQLite's message; invalid_config for a path
  // that is not a database or cannot be opened at all (a directory, a missing directory).
  [[nodiscard]] static Result<Database> open(const std::string& path, bool create);
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  ~Database();

  [[nodiscard]] Status exec(std::string_view sql);
  [[nodiscard]] Result<Statement> prepare(std::string_view sql);
  [[nodiscard]] Result<std::int64_t> pragma_int(std::string_view name);
  // Runs `body` in a write transaction (BEGIN IMMEDIATE) and commits it. When the body or the
  // COMMIT fails (or the body throws) it rolls back, so no failed write is left holding the lock
  // against the other processes that share the file (the gate and the settle job). BEGIN, COMMIT
  // and ROLLBACK are prepared once per connection: compiling them costs ~14k instructions each,
  // and the gate's store writer runs a transaction per group commit.
  [[nodiscard]] Status in_transaction(const std::function<Status()>& body);
  // Runs `first` and, when it changed a row, `then`, in one such transaction: whether `first`
  // changed a row.
  [[nodiscard]] Result<bool> run_then_if_changed(Statement& first, Statement& then);
  // Rows changed by the last INSERT, UPDATE or DELETE that ran to completion.
  [[nodiscard]] std::int64_t changes() const noexcept;
  // Keeps the write-ahead log file, at its size, when the last connection closes (SQLite deletes
  // it by default): see open_wal.
  void persist_wal() noexcept;

 private:
  explicit Database(sqlite3* db) noexcept;
  friend class Statement;
  sqlite3* db_ = nullptr;
  struct Transactions;  // in_transaction's statements, prepared at its first use
  std::unique_ptr<Transactions> tx_;
};

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, ByteView blob);
  // Without SQLite's copy: `blob` must stay valid until the statement is reset (run() resets it).
  Statement& bind_unowned(int index, ByteView blob);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_text(int index, std::string_view text);
  // Runs one step: true when a row is ready, false when done. Errors carry SQLite's message.
  [[nodiscard]] Result<bool> step();
  // Runs to completion and resets for the next use.
  [[nodiscard]] Status run();
  void reset() noexcept;

  [[nodiscard]] ByteView blob(int column) const noexcept;
  [[nodiscard]] std::int64_t integer(int column) const noexcept;
  [[nodiscard]] std::string text(int column) const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, sqlite3* db) noexcept : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

// Which of paychan's files a database is, marked in its header (SQLite's application_id): a store
// opened on another kind of file (the facilitator's journal named as a gate's store, say) refuses
// it rather than write its own tables and journal mode into it.
struct FileKind {
  std::int64_t applicationId;   // 32 bits, as SQLite keeps it
  std::string_view what;        // for messages: "a gate's channel store"
  std::string_view firstTable;  // made by the kind's first migration: marks a file from before the mark
};
extern const FileKind kGateStoreFile;
extern const FileKind kSettleJournalFile;
extern const FileKind kAgentStoreFile;
extern const FileKind kFacilitatorJournalFile;

// A store's connection: WAL journal; synchronous=FULL when `durable` (in WAL mode the commit
// fsyncs the log, so a committed transaction survives power loss), OFF for benchmarks and tests.
// The log file persists across restarts at its working size (SQLite never shrinks it while open,
// and after a checkpoint overwrites it from the start): otherwise every restart deletes it, and
// the first ~1,000 commits after it grow the file again, each also committing file-system
// metadata (for a one-row commit on this project's disks: 105 vs 66 µs CPU, p50 286-363 vs
// 186-196 µs). So a store's file and its `-wal` file go together: back up with
// `sqlite3 FILE '.backup COPY'` (safe while paychan runs), and restore a copy only with paychan
// stopped and the old `-wal` and `-shm` files deleted, or SQLite replays the old log onto it.
// `kind`: the file must be one (a new, empty file becomes one; one written before the mark is
// recognized by its first table, and marked); errors: invalid_config naming what it is instead.
// Null only for tests and tools that open a file whatever it holds.
[[nodiscard]] Result<Database> open_wal(const std::string& path, bool durable, const FileKind* kind = nullptr);

// Brings the schema to the newest version: entry i of `migrations` takes it from version i
// (PRAGMA user_version) to i+1, each in its own transaction. Refuses a file from a newer paychan.
// Never edit a migration that has shipped; append. Errors: invalid_payload, SQLite's.
[[nodiscard]] Status migrate(Database& db, std::span<const std::string_view> migrations);

}  // namespace paychan::persistence
