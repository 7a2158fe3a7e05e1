// The voucher log when the disk's flush fails (failing_fdatasync.hpp: the one double here). A
// failed commit's callers are told so; a crash after it must not bring its charge back, and the
// store must go on taking commits without losing one it acknowledged.
#include <gtest/gtest.h>

#include "failing_fdatasync.hpp"
#include "persistence/channel_store.hpp"
#include "persistence/store_test_support.hpp"
#include "temp_dir.hpp"

namespace paychan::persistence {
namespace {

using paychan::test::TempDir;
using test::fail_next_log_syncs;
using test::log_syncs_failed;

// The failed frame was written; only its flush failed. It stays in the file (and the page cache),
// so a replay would apply it unless the log ends before it.
TEST(VoucherLogSyncFailure, ACommitWhoseFlushFailedIsNotReplayedAfterACrash) {
  TempDir dir;
  ASSERT_EQ(crash_after(dir.file(), [](ChannelStore& store) {
              if (!store.commit_and_wait(channel(1, 10))) return 1;
              fail_next_log_syncs(1);
              const Status failed = store.commit_and_wait(channel(2, 20));
              if (failed || failed.error().code != ErrorCode::store_failed) return 2;
              return log_syncs_failed() == 1 ? 0 : 3;
            }),
            0);
  auto store = *ChannelStore::open(dir.file());
  EXPECT_EQ(charged(*store, 1), 10u);
  EXPECT_EQ(charged(*store, 2), 0u) << "a charge its callers were told failed came back";
}

TEST(VoucherLogSyncFailure, CommitsAfterAFailedFlushAreDurable) {
  TempDir dir;
  ASSERT_EQ(crash_after(dir.file(), [](ChannelStore& store) {
              if (!store.commit_and_wait(channel(1, 10))) return 1;
              fail_next_log_syncs(1);
              if (store.commit_and_wait(channel(2, 20))) return 2;
              if (!store.commit_and_wait(channel(3, 30)) || !store.commit_and_wait(channel(2, 25))) return 3;
              return 0;
            }),
            0);
  auto store = *ChannelStore::open(dir.file());
  EXPECT_EQ(charged(*store, 1), 10u);
  EXPECT_EQ(charged(*store, 2), 25u);
  EXPECT_EQ(charged(*store, 3), 30u);
}

// A fold wrote SQLite, then emptying its segment failed to flush the new header: the segment
// rewrites the header before its next frame, and nothing is lost either way.
TEST(VoucherLogSyncFailure, AFailedResetAfterAFoldLosesNothing) {
  TempDir dir;
  ASSERT_EQ(crash_after(dir.file(), [](ChannelStore& store) {
              if (!store.commit_and_wait(channel(1, 10))) return 1;
              fail_next_log_syncs(1);
              if (charged(store, 1) != 10 || log_syncs_failed() != 1) return 2;  // the read folds
              if (!store.commit_and_wait(channel(2, 20)) || charged(store, 2) != 20) return 3;
              // After the second fold the writer appends to the segment whose reset failed.
              return store.commit_and_wait(channel(1, 30)) ? 0 : 4;
            }),
            0);
  auto store = *ChannelStore::open(dir.file());
  EXPECT_EQ(charged(*store, 1), 30u);
  EXPECT_EQ(charged(*store, 2), 20u);
}

}  // namespace
}  // namespace paychan::persistence
