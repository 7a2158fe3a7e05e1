// The agent's store on a real SQLite file: every field of a channel comes back as written; a store
// from before heldCeiling existed (schema version 2) is migrated with its channels intact and their
// providers' holdings unknown, one from before unservedCharges (version 3) with none counted, and
// one from before the allowance of deposits on the server's word was kept (version 4) with it full.
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
  c.depositsOnWord = 1;
  c.onWordRenewsAt = 80'000;
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

void migrated_from_before_the_allowance(ClientChannel& c) {
  c.depositsOnWord = 0;
  c.onWordRenewsAt = 0;
}

TEST(ClientStore, AStoreFromBeforeTheHeldCeilingIsMigratedWithItUnknown) {
  paychan::test::TempDir dir;
  const auto path = dir.file("agent.sqlite");
  store_as_version(path, 2, {"on_word_renews_at", "deposits_on_word", "unserved_charges", "held_ceiling"});
  const auto read = (*ClientStore::open(path))->get(sample().channelId);
  ASSERT_TRUE(read && *read);
  auto expected = sample();
  expected.heldCeiling = kUint128Max;
  expected.unservedCharges = 0;
  migrated_from_before_the_allowance(expected);
  EXPECT_EQ(**read, expected);
}

TEST(ClientStore, AStoreFromBeforeTheUnservedCountIsMigratedWithNoneCounted) {
  paychan::test::TempDir dir;
  const auto path = dir.file("agent.sqlite");
  store_as_version(path, 3, {"on_word_renews_at", "deposits_on_word", "unserved_charges"});
  const auto read = (*ClientStore::open(path))->get(sample().channelId);
  ASSERT_TRUE(read && *read);
  auto expected = sample();
  expected.unservedCharges = 0;
  migrated_from_before_the_allowance(expected);
  EXPECT_EQ(**read, expected);
}

TEST(ClientStore, AStoreFromBeforeTheDepositAllowanceWasKeptIsMigratedWithItFull) {
  paychan::test::TempDir dir;
  const auto path = dir.file("agent.sqlite");
  store_as_version(path, 4, {"on_word_renews_at", "deposits_on_word"});
  const auto read = (*ClientStore::open(path))->get(sample().channelId);
  ASSERT_TRUE(read && *read);
  auto expected = sample();
  migrated_from_before_the_allowance(expected);
  EXPECT_EQ(**read, expected);
}

}  // namespace
}  // namespace paychan::persistence
