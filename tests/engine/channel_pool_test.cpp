// The pool's write-back: progress reaches the store at flush(), and flush() returns only the part of
// a reservation that no run can have signed.
#include <gtest/gtest.h>

#include "engine/client/channel_pool.hpp"
#include "persistence/sqlite.hpp"
#include "temp_dir.hpp"

namespace paychan::engine::client {
namespace {

persistence::ClientChannel channel(std::uint8_t id, Uint128 signedMax, Uint128 reserved) {
  persistence::ClientChannel c;
  c.channelId[0] = id;
  c.network = "eip155:31337";
  c.charged = c.signedMax = signedMax;
  c.reserved = reserved;
  return c;
}

class ChannelPoolTest : public ::testing::Test {
 protected:
  // `c` as a request finds it: in the store, leased, and known to the pool.
  void lease_from_store(const persistence::ClientChannel& c) {
    ASSERT_TRUE(store->put(c));
    ASSERT_TRUE(pool.try_lease(c.channelId));
    pool.saved(c);
  }

  paychan::test::TempDir dir;
  std::unique_ptr<persistence::ClientStore> store = std::move(*persistence::ClientStore::open(dir.file("agent.sqlite")));
  ChannelPool pool;
};

TEST_F(ChannelPoolTest, FlushWritesProgressAndReturnsOnlyThisRunsUnusedReservation) {
  // Found in the store with a reservation an earlier run made (it may have signed up to 500).
  auto earlier = channel(1, 100, 500);
  ASSERT_NO_FATAL_FAILURE(lease_from_store(earlier));
  earlier.charged = earlier.signedMax = 200;  // this run signs within it
  pool.release(earlier);

  // Opened by this run (written before its first voucher), which reserved up to 900 and signed up to 300.
  auto mine = channel(2, 0, 0);
  ASSERT_NO_FATAL_FAILURE(lease_from_store(mine));
  mine.reserved = 900;
  ASSERT_TRUE(store->put(mine));
  pool.saved(mine);
  mine.charged = mine.signedMax = 300;
  pool.release(mine);

  EXPECT_EQ((*store->get(earlier.channelId))->charged, 100u) << "progress waits for flush()";
  ASSERT_TRUE(pool.flush(*store));
  const auto e = **store->get(earlier.channelId);
  EXPECT_EQ(e.charged, 200u);
  EXPECT_EQ(e.reserved, 500u) << "an earlier run's reservation is kept";
  const auto m = **store->get(mine.channelId);
  EXPECT_EQ(m.charged, 300u);
  EXPECT_EQ(m.reserved, 300u) << "this run's unused reservation is returned to the budget";
  EXPECT_FALSE(pool.admitted(mine.channelId)) << "the next voucher reserves again";
}

TEST_F(ChannelPoolTest, FlushLeavesAChannelInUseToItsRequest) {
  auto c = channel(3, 0, 0);
  ASSERT_NO_FATAL_FAILURE(lease_from_store(c));
  c.charged = c.signedMax = 40;
  pool.release(c);
  ASSERT_TRUE(pool.lease_held([](const persistence::ClientChannel&) { return true; }));  // a request takes it again
  ASSERT_TRUE(pool.flush(*store));
  EXPECT_EQ((*store->get(c.channelId))->charged, 0u) << "the request in flight owns its state";
  pool.release(c);
  ASSERT_TRUE(pool.flush(*store));
  EXPECT_EQ((*store->get(c.channelId))->charged, 40u);
}

// The highest voucher a provider may hold starts as the store says; the lease holder makes it
// exact as the provider answers, and flush() lowers the store's to it, never raises it.
TEST_F(ChannelPoolTest, FlushLowersTheStoresHeldCeilingToWhatTheProviderMayHold) {
  auto c = channel(1, 300, 900);
  c.heldCeiling = 900;
  ASSERT_NO_FATAL_FAILURE(lease_from_store(c));
  EXPECT_EQ(pool.held_ceiling(c.channelId), 900u);
  pool.set_held_ceiling(c.channelId, 300);  // the provider answered the voucher for 300
  pool.release(c);
  ASSERT_TRUE(pool.flush(*store));
  EXPECT_EQ((*store->get(c.channelId))->heldCeiling, 300u);

  auto d = channel(2, 300, 900);
  d.heldCeiling = 300;
  ASSERT_NO_FATAL_FAILURE(lease_from_store(d));
  pool.set_held_ceiling(d.channelId, 400);  // by a caller that broke the rule: the store's wins
  pool.release(d);
  ASSERT_TRUE(pool.flush(*store));
  EXPECT_EQ((*store->get(d.channelId))->heldCeiling, 300u);
  EXPECT_EQ(pool.held_ceiling(Bytes32{0x33}), kUint128Max) << "a channel the pool has not seen";
}

// A flush whose write fails leaves the channel's bounds as the store has them: the next voucher
// must still see the store's heldCeiling (and reserve, writing, before it goes above it).
TEST_F(ChannelPoolTest, AFailedFlushLowersNothing) {
  auto c = channel(1, 300, 900);
  c.heldCeiling = 900;
  ASSERT_NO_FATAL_FAILURE(lease_from_store(c));
  pool.set_held_ceiling(c.channelId, 300);
  pool.release(c);
  {
    auto db = persistence::open_wal(dir.file("agent.sqlite"), true);
    ASSERT_TRUE(db && db->exec("CREATE TRIGGER full BEFORE INSERT ON client_channels BEGIN SELECT RAISE(ABORT, 'disk full'); END"));
  }
  ASSERT_FALSE(pool.flush(*store));
  EXPECT_EQ(pool.held(c.channelId)->heldCeiling, 900u);
  EXPECT_EQ(pool.held(c.channelId)->reserved, 900u);
  {
    auto db = persistence::open_wal(dir.file("agent.sqlite"), true);
    ASSERT_TRUE(db && db->exec("DROP TRIGGER full"));
  }
  ASSERT_TRUE(pool.flush(*store));
  EXPECT_EQ(pool.held(c.channelId)->heldCeiling, 300u);
  EXPECT_EQ((*store->get(c.channelId))->heldCeiling, 300u);
}

}  // namespace
}  // namespace paychan::engine::client
