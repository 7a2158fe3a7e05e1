// The voucher log when its direct writes fail (failing_direct_write.hpp: a double). A file system
// that refuses them after open gets the log's writes through the page cache, losing nothing; a
// write that failed after reaching the disk must not come back after a crash.
#include <gtest/gtest.h>

#include <fstream>

#include "failed_commit.hpp"
#include "failing_direct_write.hpp"
#include "persistence/block_appender.hpp"
#include "persistence/channel_store.hpp"
#include "persistence/store_test_support.hpp"
#include "temp_dir.hpp"

namespace paychan::persistence {
namespace {

using paychan::test::TempDir;
using test::direct_log_writes;
using test::DirectWriteFault;
using test::fail_next_direct_log_writes;

// Whether the file system of the tests' stores (TempDir's) takes O_DIRECT as the log asks for it
// (tmpfs before Linux 6.6 does not: there the log never writes directly, and these tests have
// nothing to fail).
bool takes_direct_io() {
  const TempDir dir;
  const std::string probe = dir.file("probe");
  std::ofstream{probe};
  const auto appender = BlockAppender::open(probe);
  return appender && appender->has_value();
}

TEST(VoucherLogDirectWrite, AFileSystemRefusingThemGetsThePageCacheAndLosesNothing) {
  if (!takes_direct_io()) GTEST_SKIP() << "the file system under /tmp does not take O_DIRECT";
  TempDir dir;
  ASSERT_EQ(crash_after(dir.file(), [](ChannelStore& store) {
              if (!store.commit_and_wait(channel(1, 10))) return 1;
              if (direct_log_writes() == 0) return 2;  // the file system here takes O_DIRECT
              fail_next_direct_log_writes(1, DirectWriteFault::refused);
              if (!store.commit_and_wait(channel(2, 20))) return 3;
              const int tried = direct_log_writes();
              if (!store.commit_and_wait(channel(3, 30)) || !store.commit_and_wait(channel(1, 15))) return 4;
              return direct_log_writes() == tried ? 0 : 5;  // no direct write tried since the refusal
            }),
            0);
  auto store = *ChannelStore::open(dir.file());
  EXPECT_EQ(charged(*store, 1), 15u);
  EXPECT_EQ(charged(*store, 2), 20u);
  EXPECT_EQ(charged(*store, 3), 30u);
}

// The failed write's bytes are in the file, and a replay would apply them unless the log ends
// before them.
TEST(VoucherLogDirectWrite, AWriteThatFailedAfterReachingTheDiskIsNotReplayedAfterACrash) {
  if (!takes_direct_io()) GTEST_SKIP() << "the file system under /tmp does not take O_DIRECT";
  test::expect_failed_commit_not_replayed([] { fail_next_direct_log_writes(1, DirectWriteFault::failed_after); });
}

TEST(VoucherLogDirectWrite, CommitsAfterAFailedWriteGoOnDirectAndAreDurable) {
  if (!takes_direct_io()) GTEST_SKIP() << "the file system under /tmp does not take O_DIRECT";
  int tried = 0;
  test::expect_commits_after_a_failure_durable(
      [&] {
        fail_next_direct_log_writes(1, DirectWriteFault::failed_after);
        tried = direct_log_writes();
      },
      [&] { return direct_log_writes() > tried + 1; });  // the failed write, then more
}

}  // namespace
}  // namespace paychan::persistence
