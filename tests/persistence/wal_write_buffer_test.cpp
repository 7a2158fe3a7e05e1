// The write-ahead log's write buffer (wal_write_buffer_vfs, which every paychan Database opens
// through). Whatever a paychan connection and another writer through SQLite's default VFS (another
// process, say the settle job) commit and roll back in turn, a connection through the default VFS
// sees every committed transaction and nothing else, and the files as a kill -9 would leave them
// recover every commit. Under every synchronous setting (with OFF no sync ever flushes the buffer:
// the commit frame must), with a page cache far smaller than the transactions (paychan's
// connections do not spill; the other writer does), rollbacks, checkpoints that restart the log,
// and powersafe overwrite off (SQLite pads commits to the sector).
#include "persistence/wal_write_buffer.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "persistence/sqlite.hpp"
#include "temp_dir.hpp"

namespace paychan::persistence {
namespace {

using paychan::test::TempDir;
using Rows = std::map<int, std::string>;

// Both writers' one write: a row of t, new or replaced.
constexpr const char* kPut = "INSERT OR REPLACE INTO t (k, v) VALUES (?1, ?2)";

// A connection through SQLite's default VFS: the file as any other process sees it.
struct DefaultVfsConnection {
  explicit DefaultVfsConnection(const std::string& path, int flags = SQLITE_OPEN_READONLY) {
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(db, 5000);
    } else {
      sqlite3_close(db);
      db = nullptr;
    }
  }
  ~DefaultVfsConnection() { sqlite3_close(db); }
  DefaultVfsConnection(const DefaultVfsConnection&) = delete;
  DefaultVfsConnection& operator=(const DefaultVfsConnection&) = delete;

  bool exec(const std::string& sql) const {
    return db != nullptr && sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  }

  bool put(int key, const std::string& value) const {
    sqlite3_stmt* stmt = nullptr;
    if (db == nullptr || sqlite3_prepare_v2(db, kPut, -1, &stmt, nullptr) != SQLITE_OK)
      return false;
    sqlite3_bind_int(stmt, 1, key);
    sqlite3_bind_blob(stmt, 2, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    const bool done = sqlite3_step(stmt) == SQLITE_DONE;
    sqlite3_finalize(stmt);
    return done;
  }

  // Every row, or nullopt when the read fails.
  std::optional<Rows> rows() const {
    sqlite3_stmt* stmt = nullptr;
    if (db == nullptr || sqlite3_prepare_v2(db, "SELECT k, v FROM t ORDER BY k", -1, &stmt, nullptr) != SQLITE_OK)
      return std::nullopt;
    Rows out;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const auto* v = static_cast<const char*>(sqlite3_column_blob(stmt, 1));
      out[sqlite3_column_int(stmt, 0)] = std::string(v == nullptr ? "" : v, static_cast<std::size_t>(sqlite3_column_bytes(stmt, 1)));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return std::nullopt;
    return out;
  }

  sqlite3* db = nullptr;
};

Status put(Database& db, int key, const std::string& value) {
  auto stmt = db.prepare(kPut);
  if (!stmt) return stmt.failure();
  stmt->bind(1, std::int64_t{key}).bind(2, ByteView{reinterpret_cast<const std::uint8_t*>(value.data()), value.size()});
  return stmt->run();
}

// The rows a process finds that opens copies of the database file and its log as they are now,
// with no wal-index: as after a kill -9 of the writer, SQLite rebuilds the index from the log,
// frame by frame, and stops at the first frame whose checksum or salt does not match.
std::optional<Rows> after_a_crash(TempDir& dir, const std::string& path) {
  const std::string copy = dir.file("crash.sqlite");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(copy + suffix);
  std::filesystem::copy_file(path, copy);
  if (std::filesystem::exists(path + "-wal")) std::filesystem::copy_file(path + "-wal", copy + "-wal");
  return DefaultVfsConnection(copy, SQLITE_OPEN_READWRITE).rows();
}

// A paychan connection to `path`, with the table t.
Result<Database> open_table(const std::string& path) {
  auto db = open_wal(path, true);
  if (!db) return db;
  PAYCHAN_TRY(db->exec("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)"));
  return db;
}

// Rows 0..n-1 of `size` bytes each, committed in one transaction.
Rows commit_rows(Database& db, int n, std::size_t size) {
  Rows rows;
  EXPECT_TRUE(db.exec("BEGIN IMMEDIATE"));
  for (int k = 0; k < n; ++k) {
    rows[k] = std::string(size, static_cast<char>('A' + k % 26));
    const Status s = put(db, k, rows[k]);
    EXPECT_TRUE(s) << s.error().to_string();
  }
  EXPECT_TRUE(db.exec("COMMIT"));
  return rows;
}

// The precondition: Database::open turns cache spills off, and they stay off.
TEST(WalWriteBuffer, PaychanConnectionsDoNotSpill) {
  TempDir dir;
  auto db = open_wal(dir.file("spill.sqlite"), true);
  ASSERT_TRUE(db);
  for (const char* set : {"PRAGMA cache_spill = ON", "PRAGMA main.cache_spill = 100", "pragma CACHE_SPILL=1"})
    EXPECT_FALSE(db->exec(set)) << set;
  const auto spill = db->pragma_int("cache_spill");
  ASSERT_TRUE(spill);
  EXPECT_EQ(*spill, 0);
  EXPECT_TRUE(db->exec("PRAGMA cache_size = 10")) << "other pragmas still run";
}

TEST(WalWriteBuffer, IsRegistered) {
  const char* name = wal_write_buffer_vfs();
  ASSERT_NE(name, nullptr);
  EXPECT_NE(sqlite3_vfs_find(name), nullptr);
  EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find(name)) << "it must not replace the default";
}

// `path` is a plain file name, or a URI with parameters for both writers.
void every_commit_seen(const std::string& path, const std::string& file) {
  auto table = open_table(path);
  RC_ASSERT(static_cast<bool>(table));
  std::optional<Database> opened{std::move(*table)};
  Database& ours = *opened;
  const DefaultVfsConnection theirs(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI);
  const auto synchronous = *rc::gen::element<std::string>("OFF", "NORMAL", "FULL");
  const auto cache_pages = *rc::gen::element(2, 10, 2000);
  for (const std::string& pragma : {"PRAGMA synchronous = " + synchronous, "PRAGMA cache_size = " + std::to_string(cache_pages)}) {
    RC_ASSERT(ours.exec(pragma));
    RC_ASSERT(theirs.exec(pragma));
  }
  const DefaultVfsConnection reader(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
  TempDir crash;
  Rows model;
  const auto steps = *rc::gen::inRange(1, 25);
  for (int step = 0; step < steps; ++step) {
    const bool by_us = *rc::gen::arbitrary<bool>();
    const auto exec = [&](const std::string& sql) { return by_us ? static_cast<bool>(ours.exec(sql)) : theirs.exec(sql); };
    const auto kind = *rc::gen::inRange(0, 10);  // 0: checkpoint, 1: rolled back, else committed
    if (kind == 0) {
      RC_ASSERT(exec("PRAGMA wal_checkpoint(" + *rc::gen::element<std::string>("PASSIVE", "FULL", "RESTART", "TRUNCATE") + ")"));
    } else {
      Rows written = model;
      RC_ASSERT(exec("BEGIN IMMEDIATE"));
      const auto writes = *rc::gen::inRange(1, 30);
      for (int i = 0; i < writes; ++i) {
        const auto key = *rc::gen::inRange(0, 60);
        const auto size = *rc::gen::inRange(0, 9000);  // up to a few pages of overflow
        const std::string value(static_cast<std::size_t>(size), static_cast<char>('a' + (step + i) % 26));
        const bool written_ok = by_us ? static_cast<bool>(put(ours, key, value)) : theirs.put(key, value);
        RC_ASSERT(written_ok);
        written[key] = value;
      }
      RC_ASSERT(exec(kind == 1 ? "ROLLBACK" : "COMMIT"));
      if (kind != 1) model = std::move(written);
    }
    RC_ASSERT(reader.rows() == std::optional<Rows>{model});
    RC_ASSERT(after_a_crash(crash, file) == std::optional<Rows>{model});
  }
  // And a connection opened after ours closed (which may checkpoint the log into the file).
  opened.reset();
  RC_ASSERT(DefaultVfsConnection(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI).rows() == std::optional<Rows>{model});
}

RC_GTEST_PROP(WalWriteBuffer, AnotherConnectionSeesEveryCommitAndNoMore, ()) {
  TempDir dir;
  every_commit_seen(dir.file("wal.sqlite"), dir.file("wal.sqlite"));
}

RC_GTEST_PROP(WalWriteBuffer, AnotherConnectionSeesEveryCommitWithoutPowersafeOverwrite, ()) {
  TempDir dir;
  every_commit_seen("file:" + dir.file("wal.sqlite") + "?psow=0", dir.file("wal.sqlite"));
}

// A transaction far larger than the page cache, rolled back, then another writer's commit: had
// ours spilled its pages to the log, they would still be buffered, and written over that commit.
TEST(WalWriteBuffer, ARolledBackTransactionLeavesTheNextWritersCommitWhole) {
  TempDir dir;
  const std::string path = dir.file("rollback.sqlite");
  auto ours = open_table(path);
  ASSERT_TRUE(ours);
  Rows model = commit_rows(*ours, 400, 3000);
  ASSERT_TRUE(ours->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  ASSERT_TRUE(ours->exec("PRAGMA cache_size = 10"));
  ASSERT_TRUE(ours->exec("BEGIN IMMEDIATE"));
  for (int k = 400; k < 700; ++k) ASSERT_TRUE(put(*ours, k, std::string(3000, 'b')));
  ASSERT_TRUE(ours->exec("ROLLBACK"));
  const DefaultVfsConnection theirs(path, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(theirs.exec("UPDATE t SET v = zeroblob(3000)"));
  for (auto& [k, v] : model) v = std::string(3000, '\0');
  ASSERT_TRUE(ours->exec("SELECT count(*) FROM t"));  // any read of the log
  EXPECT_EQ(DefaultVfsConnection(path).rows(), std::optional<Rows>{model});
  TempDir crash;
  EXPECT_EQ(after_a_crash(crash, path), std::optional<Rows>{model});
}

// One transaction larger than the buffer's longest run (1 MiB): the run is written when full and
// the rest follows it.
TEST(WalWriteBuffer, ATransactionLongerThanTheBuffer) {
  TempDir dir;
  const std::string path = dir.file("big.sqlite");
  auto db = open_table(path);
  ASSERT_TRUE(db);
  const Rows model = commit_rows(*db, 2600, 4000);  // ~10.6 MB of pages
  EXPECT_EQ(DefaultVfsConnection(path).rows(), std::optional<Rows>{model});
}

}  // namespace
}  // namespace paychan::persistence
