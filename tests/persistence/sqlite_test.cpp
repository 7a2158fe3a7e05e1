// Write transactions on a real SQLite file: committed when the body succeeds; rolled back when it
// fails, when COMMIT fails or when it throws, so the connection never keeps the file's write lock.
#include "persistence/sqlite.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>

#include "temp_dir.hpp"

namespace paychan::persistence {
namespace {

using paychan::test::TempDir;

class InTransaction : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = open_wal(dir_.file(), true);
    ASSERT_TRUE(opened) << opened.error().to_string();
    db_.emplace(std::move(*opened));
    ASSERT_TRUE(db_->exec("CREATE TABLE t (v INTEGER PRIMARY KEY)"));
  }

  std::int64_t rows() {
    auto count = db_->prepare("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(count);
    EXPECT_TRUE(count && *count->step());
    return count ? count->integer(0) : -1;
  }

  // The file's write lock is free: another connection can take it at once.
  bool lock_free() {
    auto other = Database::open(dir_.file(), false);
    return other && other->exec("PRAGMA busy_timeout = 0") && other->exec("BEGIN IMMEDIATE") && other->exec("ROLLBACK");
  }

  TempDir dir_;
  std::optional<Database> db_;
};

TEST_F(InTransaction, CommitsWhatTheBodyWrote) {
  ASSERT_TRUE(db_->in_transaction([&] { return db_->exec("INSERT INTO t VALUES (1)"); }));
  EXPECT_EQ(rows(), 1);
  EXPECT_TRUE(lock_free());
}

TEST_F(InTransaction, RollsBackABodyThatFails) {
  const Status failed = db_->in_transaction([&]() -> Status {
    PAYCHAN_TRY(db_->exec("INSERT INTO t VALUES (1)"));
    return db_->exec("INSERT INTO t VALUES (1)");  // the same key again
  });
  EXPECT_FALSE(failed);
  EXPECT_EQ(rows(), 0);
  EXPECT_TRUE(lock_free());
}

TEST_F(InTransaction, RollsBackABodyThatThrows) {
  EXPECT_THROW((void)db_->in_transaction([&]() -> Status {
    PAYCHAN_TRY(db_->exec("INSERT INTO t VALUES (1)"));
    throw std::bad_alloc();
  }),
               std::bad_alloc);
  EXPECT_EQ(rows(), 0);
  EXPECT_TRUE(lock_free()) << "the connection kept its write transaction open";
  EXPECT_TRUE(db_->in_transaction([&] { return db_->exec("INSERT INTO t VALUES (2)"); }));
}

TEST_F(InTransaction, RunsTheSecondStatementOnlyWhenTheFirstChangedARow) {
  ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (1)"));
  auto bump = db_->prepare("UPDATE t SET v = 10 WHERE v = 1");
  auto add = db_->prepare("INSERT INTO t VALUES (20)");
  ASSERT_TRUE(bump && add);
  const auto changed = db_->run_then_if_changed(*bump, *add);
  ASSERT_TRUE(changed);
  EXPECT_TRUE(*changed);
  EXPECT_EQ(rows(), 2);
  auto again = db_->prepare("UPDATE t SET v = 11 WHERE v = 1");
  auto more = db_->prepare("INSERT INTO t VALUES (30)");
  ASSERT_TRUE(again && more);
  const auto unchanged = db_->run_then_if_changed(*again, *more);
  ASSERT_TRUE(unchanged);
  EXPECT_FALSE(*unchanged);
  EXPECT_EQ(rows(), 2);
}

}  // namespace
}  // namespace paychan::persistence

namespace paychan::persistence {
namespace {

// A path that names no database is the configuration's fault (waiting will not help); a failing
// statement is the store's; a broken constraint the data's.
// A new store is its owner's alone, its log too, whatever the umask; an existing one keeps its mode.
TEST(SqliteFiles, ANewDatabaseAndItsLogAreTheOwnersAlone) {
  TempDir dir;
  const mode_t old_umask = ::umask(022);
  auto db = Database::open(dir.file(), true);
  ASSERT_TRUE(db) << db.error().to_string();
  ASSERT_TRUE(db->exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1)"));
  for (const std::string& file : {dir.file(), dir.file() + "-wal"}) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
  TempDir other;
  { std::ofstream(other.file()) << ""; }
  ::chmod(other.file().c_str(), 0640);
  ASSERT_TRUE(Database::open(other.file(), true));
  struct stat st {};
  ASSERT_EQ(::stat(other.file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // A path that is a symbolic link to no file yet: the file made at its target is the owner's too.
  TempDir linked;
  const std::string target = linked.file() + "-target";
  ASSERT_EQ(::symlink(target.c_str(), linked.file().c_str()), 0);
  ASSERT_TRUE(Database::open(linked.file(), true));
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ::umask(old_umask);
}

TEST(SqliteFiles, AnInMemoryDatabaseLeavesNoFile) {
  TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path);
  auto db = Database::open(":memory:", true);
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(db) << db.error().to_string();
  ASSERT_TRUE(db->exec("CREATE TABLE t (x)"));
  EXPECT_FALSE(std::filesystem::exists(dir.path / ":memory:"));
}

TEST(SqliteErrors, ABadPathIsInvalidConfigAFailingStoreStoreFailedAndABrokenConstraintInvalidPayload) {
  auto unopenable = open_wal("/nonexistent-paychan-dir/gate.sqlite", true);
  ASSERT_FALSE(unopenable);
  EXPECT_EQ(unopenable.error().code, ErrorCode::invalid_config) << unopenable.error().to_string();

  paychan::test::TempDir dir;
  auto db = open_wal(dir.file(), true);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->exec("CREATE TABLE t (v INTEGER PRIMARY KEY)"));
  auto insert = db->prepare("INSERT INTO t (v) VALUES (1)");
  ASSERT_TRUE(insert);
  ASSERT_TRUE(insert->run());
  const Status again = insert->run();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::invalid_payload) << again.error().to_string();
  EXPECT_EQ(db->exec("SELECT nonsense FROM nowhere").error().code, ErrorCode::store_failed);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Each store refuses another kind of file, and leaves it as it was: a gate's store named in place
// of the facilitator's journal must not migrate its tables (and WAL mode) into it.
TEST(FileKinds, AStoreRefusesAnotherKindOfFileAndLeavesItAsItWas) {
  TempDir dir;
  const std::string journal = dir.file("facilitator.sqlite");
  ASSERT_TRUE(open_wal(journal, true, &kFacilitatorJournalFile));
  const std::string before = read_all(journal);
  for (const FileKind* kind : {&kGateStoreFile, &kSettleJournalFile, &kAgentStoreFile}) {
    auto refused = open_wal(journal, true, kind);
    ASSERT_FALSE(refused) << kind->what;
    EXPECT_EQ(refused.error().code, ErrorCode::invalid_config);
    EXPECT_EQ(refused.error().detail, journal + " is a facilitator's transaction journal, not " + std::string{kind->what});
  }
  EXPECT_EQ(read_all(journal), before);
  EXPECT_TRUE(open_wal(journal, true, &kFacilitatorJournalFile)) << "its own kind opens it";

  const std::string other = dir.file("other.sqlite");
  {
    auto db = open_wal(other, true);
    ASSERT_TRUE(db && db->exec("CREATE TABLE notes (v TEXT)"));
  }
  auto foreign = open_wal(other, true, &kGateStoreFile);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, ErrorCode::invalid_config);
  EXPECT_NE(foreign.error().detail.find("a SQLite file of something else"), std::string::npos) << foreign.error().detail;

  const std::string text = dir.file("notes.txt");
  std::ofstream(text) << std::string(4096, 'x');
  auto not_a_database = open_wal(text, true, &kGateStoreFile);
  ASSERT_FALSE(not_a_database);
  EXPECT_EQ(not_a_database.error().code, ErrorCode::invalid_config) << not_a_database.error().to_string();
  EXPECT_EQ(read_all(text), std::string(4096, 'x'));
}

// A file written before paychan marked its files is recognized by its first table, and marked.
TEST(FileKinds, AnUnmarkedFileOfTheKindIsTakenAndMarked) {
  TempDir dir;
  const std::string path = dir.file("old-gate.sqlite");
  {
    auto db = open_wal(path, true);
    ASSERT_TRUE(db && db->exec("CREATE TABLE channels (id BLOB)") && db->exec("PRAGMA user_version = 1"));
  }
  ASSERT_TRUE(open_wal(path, true, &kGateStoreFile));
  auto db = open_wal(path, true);
  ASSERT_TRUE(db);
  EXPECT_EQ(*db->pragma_int("application_id"), kGateStoreFile.applicationId);
  EXPECT_FALSE(open_wal(path, true, &kAgentStoreFile)) << "marked now: another kind refuses it";
}

}  // namespace
}  // namespace paychan::persistence
