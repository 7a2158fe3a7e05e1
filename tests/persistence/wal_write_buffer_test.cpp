// The write-ahead log's write buffer (wal_write_buffer_vfs, which every paychan Database opens
// through): whatever a connection writes through it, another connection reading the same file
// through SQLite's default VFS sees every committed transaction and nothing else, under every
// synchronous setting (with OFF and NORMAL no sync flushes the buffer: the commit frame must),
// with transactions that spill pages before their commit, rollbacks, and checkpoints that restart
// the log from its start; and the files as a kill -9 would leave them hold every commit.
#include "persistence/wal_write_buffer.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <sqlite3.h>

#include <cstring>
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

// A connection through SQLite's default VFS: the file as any other process sees it.
struct DefaultVfsReader {
  explicit DefaultVfsReader(const std::string& path, int flags = SQLITE_OPEN_READONLY) {
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) db = nullptr;
  }
  ~DefaultVfsReader() { sqlite3_close(db); }
  DefaultVfsReader(const DefaultVfsReader&) = delete;
  DefaultVfsReader& operator=(const DefaultVfsReader&) = delete;

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
  auto stmt = db.prepare("INSERT OR REPLACE INTO t (k, v) VALUES (?1, ?2)");
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
  return DefaultVfsReader(copy, SQLITE_OPEN_READWRITE).rows();
}

Database open_table(const std::string& path) {
  auto db = open_wal(path, true);
  RC_ASSERT(static_cast<bool>(db));
  RC_ASSERT(db->exec("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)"));
  return std::move(*db);
}

TEST(WalWriteBuffer, IsRegistered) {
  const char* name = wal_write_buffer_vfs();
  ASSERT_NE(name, nullptr);
  EXPECT_NE(sqlite3_vfs_find(name), nullptr);
  EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find(name)) << "it must not replace the default";
}

RC_GTEST_PROP(WalWriteBuffer, AnotherConnectionSeesEveryCommitAndNoMore, ()) {
  TempDir dir;
  const std::string path = dir.file("wal.sqlite");
  std::optional<Database> opened{open_table(path)};
  Database& db = *opened;
  const auto synchronous = *rc::gen::element<std::string>("OFF", "NORMAL", "FULL");
  RC_ASSERT(db.exec("PRAGMA synchronous = " + synchronous));
  // A small page cache makes SQLite write a transaction's pages to the log before its commit
  // frame, and rewrite frames it already wrote.
  const auto cache_pages = *rc::gen::element(2, 10, 2000);
  RC_ASSERT(db.exec("PRAGMA cache_size = " + std::to_string(cache_pages)));
  const DefaultVfsReader reader(path);
  Rows model;
  const auto steps = *rc::gen::inRange(1, 25);
  for (int step = 0; step < steps; ++step) {
    const auto kind = *rc::gen::inRange(0, 10);  // 0: checkpoint, 1: rolled back, else committed
    if (kind == 0) {
      const auto mode = *rc::gen::element<std::string>("PASSIVE", "FULL", "RESTART", "TRUNCATE");
      RC_ASSERT(db.exec("PRAGMA wal_checkpoint(" + mode + ")"));
    } else {
      Rows written = model;
      RC_ASSERT(db.exec("BEGIN IMMEDIATE"));
      const auto writes = *rc::gen::inRange(1, 30);
      for (int i = 0; i < writes; ++i) {
        const auto key = *rc::gen::inRange(0, 60);
        const auto size = *rc::gen::inRange(0, 9000);  // up to a few pages of overflow
        const std::string value(static_cast<std::size_t>(size), static_cast<char>('a' + (step + i) % 26));
        RC_ASSERT(put(db, key, value));
        written[key] = value;
      }
      RC_ASSERT(db.exec(kind == 1 ? "ROLLBACK" : "COMMIT"));
      if (kind != 1) model = std::move(written);
    }
    const auto seen = reader.rows();
    RC_ASSERT(seen.has_value());
    RC_ASSERT(*seen == model);
    RC_ASSERT(after_a_crash(dir, path) == std::optional<Rows>{model});
  }
  // And a connection opened after the writer closed (which checkpoints the log into the file).
  opened.reset();
  RC_ASSERT(DefaultVfsReader(path).rows() == std::optional<Rows>{model});
}

// One transaction larger than the buffer's longest run (1 MiB): the run is written when full and
// the rest follows it.
TEST(WalWriteBuffer, ATransactionLongerThanTheBuffer) {
  TempDir dir;
  const std::string path = dir.file("big.sqlite");
  auto db = open_wal(path, true);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)"));
  Rows model;
  ASSERT_TRUE(db->exec("BEGIN IMMEDIATE"));
  for (int k = 0; k < 2600; ++k) {  // ~10.6 MB of pages
    model[k] = std::string(4000, static_cast<char>('A' + k % 26));
    const Status s = put(*db, k, model[k]);
    ASSERT_TRUE(s) << s.error().to_string();
  }
  ASSERT_TRUE(db->exec("COMMIT"));
  EXPECT_EQ(DefaultVfsReader(path).rows(), std::optional<Rows>{model});
}

}  // namespace
}  // namespace paychan::persistence
