// A fold that runs out of memory (failing_allocation.hpp: a double) fails like any failed fold:
// the read waiting for it gets store_failed, the process goes on, and the next fold writes
// everything, which a crash and a reopen then find.
#include <gtest/gtest.h>

#include "failing_allocation.hpp"
#include "persistence/channel_store.hpp"
#include "persistence/store_test_support.hpp"
#include "temp_dir.hpp"

namespace paychan::persistence {
namespace {

using paychan::test::TempDir;
using test::fail_next_fold_allocations;
using test::fold_allocations_failed;

TEST(VoucherLogFoldFailure, AFoldOutOfMemoryIsTriedAgainAndLosesNothing) {
  TempDir dir;
  ASSERT_EQ(crash_after(dir.file(), [](ChannelStore& store) {
              if (!store.commit_and_wait(channel(1, 10)) || !store.commit_and_wait(channel(2, 20))) return 1;
              fail_next_fold_allocations(1);
              const auto refused = store.get(channel(1, 0).channelId);  // a read folds first
              if (refused || refused.error().code != ErrorCode::store_failed) return 2;
              if (fold_allocations_failed() != 1) return 3;
              if (!store.commit_and_wait(channel(1, 30))) return 4;  // commits go on meanwhile
              return charged(store, 1) == 30 && charged(store, 2) == 20 ? 0 : 5;
            }),
            0);
  auto store = *ChannelStore::open(dir.file());
  EXPECT_EQ(charged(*store, 1), 30u);
  EXPECT_EQ(charged(*store, 2), 20u);
}

}  // namespace
}  // namespace paychan::persistence
