// The voucher log when the disk's flush fails (failing_fdatasync.hpp: a double). A
// failed commit's callers are told so; a crash after it must not bring its charge back, and the
// store must go on taking commits without losing one it acknowledged.
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "failed_commit.hpp"
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
  test::expect_failed_commit_not_replayed([] { fail_next_log_syncs(1); });
}

// Queues `states` channels' states for one flusher, flushes once, and returns how many times the
// voucher log was flushed until all were durable.
int log_syncs_for_one_pass(int states) {
  TempDir dir;
  auto store = *ChannelStore::open(dir.file(), owner());
  const int io_thread = 0;  // the flusher: any address
  std::atomic<int> durable{0};
  std::promise<void> all;
  const int before = test::log_syncs();
  for (int i = 1; i <= states; ++i) {
    (void)store->enqueue(
        channel(static_cast<std::uint8_t>(i), 10),
        [&](const Status& s) {
          if (s && ++durable == states) all.set_value();
        },
        &io_thread);
  }
  store->flush(&io_thread);
  all.get_future().wait();
  const int syncs = test::log_syncs() - before;
  for (int i = 1; i <= states; ++i) EXPECT_EQ(charged(*store, static_cast<std::uint8_t>(i)), 10u) << i;
  return syncs;
}

// Group commit: the states many requests queued before a flush become durable with one flush of
// the log, not one each (the gate's I/O thread flushes once per pass over what was ready).
TEST(VoucherLogSyncs, ManyQueuedStatesShareOneFlush) {
  // 31: below the state at which a pass is split (kSplitPassFrom, channel_store.cpp).
  EXPECT_EQ(log_syncs_for_one_pass(31), 1) << "a pass shorter than the split point is one flush";
}

// A long pass is let go to the writer at its 32nd state, so it costs one flush or two (two when the
// writer took its first half before the flush), never one per state.
TEST(VoucherLogSyncs, ALongPassCostsAtMostTwoFlushes) {
  const int syncs = log_syncs_for_one_pass(100);
  EXPECT_GE(syncs, 1);
  EXPECT_LE(syncs, 2);
}

TEST(VoucherLogSyncFailure, CommitsAfterAFailedFlushAreDurable) {
  test::expect_commits_after_a_failure_durable([] { fail_next_log_syncs(1); });
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
