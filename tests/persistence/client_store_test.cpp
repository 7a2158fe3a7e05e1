// The agent's store on a real SQLite file: every field of a channel comes back as written; a store
// from before heldCeiling existed (schema version 2) is migrated with its channels intact and their
// providers' holdings unknown, and one from before unservedCharges (version 3) with none counted.
#include "persistence/client_store.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

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
  c.unservedCharges = 2;
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

// Writes sample() to a new store at `path`, then turns the file back into what schema `version`
// left: without the columns added since (`dropped`, newest first), and at that user_version.
void store_as_version(const std::string& path, int version, std::initializer_list<const char*> dropped) {
  ASSERT_TRUE((*ClientStore::open(path))->put(sample()));
  auto db = open_wal(path, true);
  ASSERT_TRUE(db);
  for (const char* column : dropped)
    ASSERT_TRUE(db->exec(std::string("ALTER TABLE client_channels DROP COLUMN ") + column));
  ASSERT_TRUE(db->exec("PRAGMA user_version = " + std::to_string(version)));
}

TEST(ClientStore, AStoreFromBeforeTheHeldCeilingIsMigratedWithItUnknown) {
  paychan::test::TempDir dir;
  const auto path = dir.file("agent.sqlite");
  store_as_version(path, 2, {"unserved_charges", "held_ceiling"});
  const auto read = (*ClientStore::open(path))->get(sample().channelId);
  ASSERT_TRUE(read && *read);
  auto expected = sample();
  expected.heldCeiling = kUint128Max;
  expected.unservedCharges = 0;
  EXPECT_EQ(**read, expected);
}

TEST(ClientStore, AStoreFromBeforeTheUnservedCountIsMigratedWithNoneCounted) {
  paychan::test::TempDir dir;
  const auto path = dir.file("agent.sqlite");
  store_as_version(path, 3, {"unserved_charges"});
  const auto read = (*ClientStore::open(path))->get(sample().channelId);
  ASSERT_TRUE(read && *read);
  auto expected = sample();
  expected.unservedCharges = 0;
  EXPECT_EQ(**read, expected);
}

}  // namespace
}  // namespace paychan::persistence
