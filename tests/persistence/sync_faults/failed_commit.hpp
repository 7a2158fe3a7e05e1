// The two scenarios every fault of the voucher log's append must pass, whatever the double that
// makes it (a failed flush, a failed direct write): in a gate's store that then dies (kill -9), a
// commit that failed is not replayed, and the commits after it are durable.
#pragma once

#include <gtest/gtest.h>

#include <functional>

#include "persistence/channel_store.hpp"
#include "persistence/store_test_support.hpp"
#include "temp_dir.hpp"

namespace paychan::persistence::test {

// Channel 1 charged 10, then `arm` makes the next append fail and channel 2's charge of 20 must
// fail with store_failed; the gate dies. Reopened, the store holds channel 1's and not channel 2's.
inline void expect_failed_commit_not_replayed(const std::function<void()>& arm) {
  paychan::test::TempDir dir;
  ASSERT_EQ(crash_after(dir.file(), [&](ChannelStore& store) {
              if (!store.commit_and_wait(channel(1, 10))) return 1;
              arm();
              const Status failed = store.commit_and_wait(channel(2, 20));
              return !failed && failed.error().code == ErrorCode::store_failed ? 0 : 2;
            }),
            0);
  auto store = *ChannelStore::open(dir.file());
  EXPECT_EQ(charged(*store, 1), 10u);
  EXPECT_EQ(charged(*store, 2), 0u) << "a charge its callers were told failed came back";
}

// The same failure, then more commits (channel 3 at 30, channel 2 again at 25) that must succeed,
// and `after` (checked in the gate before it dies) must hold. Reopened, the store holds them all.
inline void expect_commits_after_a_failure_durable(const std::function<void()>& arm,
                                                   const std::function<bool()>& after = [] { return true; }) {
  paychan::test::TempDir dir;
  ASSERT_EQ(crash_after(dir.file(), [&](ChannelStore& store) {
              if (!store.commit_and_wait(channel(1, 10))) return 1;
              arm();
              if (store.commit_and_wait(channel(2, 20))) return 2;
              if (!store.commit_and_wait(channel(3, 30)) || !store.commit_and_wait(channel(2, 25))) return 3;
              return after() ? 0 : 4;
            }),
            0);
  auto store = *ChannelStore::open(dir.file());
  EXPECT_EQ(charged(*store, 1), 10u);
  EXPECT_EQ(charged(*store, 2), 25u);
  EXPECT_EQ(charged(*store, 3), 30u);
}

}  // namespace paychan::persistence::test
