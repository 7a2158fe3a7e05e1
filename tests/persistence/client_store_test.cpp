// The agent's store on a real SQLite file: every field of a channel comes back as written, and a
// store from before heldCeiling existed (schema version 2) is migrated with its channels intact and
// their providers' holdings unknown.
#include "persistence/client_store.hpp"

#include <gtest/gtest.h>

#include "channel/amount.hpp"
#include "persistence/sqlite.hpp"
#include "temp_dir.hpp"

namespace paychan::persistence {
namespace {

ClientChannel sample() {
  ClientChannel c;
  c.channelId.fill(0x42);
  c.config.salt.fill(0x07);
  c.network = "eip155:31337";
  c.method = "POST";
  c.url = "http://provider.test/v1/infer";
  c.offer = "{}";
  c.deposited = 50'000;
  c.balance = 50'000;
  c.charged = 30'000;
  c.signedMax = 30'000;
  c.reserved = 2'590'000;
  c.heldCeiling = 40'000;
  c.withdrawAmount = 20'000;
  c.withdrawInitiatedAt = 1'700'000'000;
  return c;
}

TEST(ClientStore, AChannelComesBackAsWritten) {
  paychan::test::TempDir dir;
  const auto path = dir.file("agent.sqlite");
  ASSERT_TRUE((*ClientStore::open(path))->put(sample()));
  const auto read = (*ClientStore::open(path))->get(sample().channelId);
  ASSERT_TRUE(read && *read);
  EXPECT_EQ(**read, sample());
}

TEST(ClientStore, AStoreFromBeforeTheHeldCeilingIsMigratedWithItUnknown) {
  paychan::test::TempDir dir;
  const auto path = dir.file("agent.sqlite");
  ASSERT_TRUE((*ClientStore::open(path))->put(sample()));
  {  // the file as schema version 2 left it
    auto db = open_wal(path, true);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("ALTER TABLE client_channels DROP COLUMN held_ceiling"));
    ASSERT_TRUE(db->exec("PRAGMA user_version = 2"));
  }
  const auto read = (*ClientStore::open(path))->get(sample().channelId);
  ASSERT_TRUE(read && *read);
  auto expected = sample();
  expected.heldCeiling = kUint128Max;
  EXPECT_EQ(**read, expected);
}

}  // namespace
}  // namespace paychan::persistence
