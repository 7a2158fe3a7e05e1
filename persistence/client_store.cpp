#include "persistence/client_store.hpp"

#include "channel/hex.hpp"
#include "persistence/channel_record.hpp"

namespace paychan::persistence {
namespace {

constexpr std::string_view kMigrations[] = {
    R"sql(
      CREATE TABLE client_channels (
        channel_id BLOB PRIMARY KEY,
        config BLOB NOT NULL,
        network TEXT NOT NULL,
        method TEXT NOT NULL,
        url TEXT NOT NULL,
        offer TEXT NOT NULL,
        deposited BLOB NOT NULL,
        pending_deposit BLOB NOT NULL,
        balance BLOB NOT NULL,
        charged BLOB NOT NULL,
        signed_max BLOB NOT NULL,
        reserved BLOB NOT NULL,
        suspended TEXT NOT NULL,
        closed INTEGER NOT NULL
      ) WITHOUT ROWID;
    )sql",
    R"sql(
      ALTER TABLE client_channels ADD COLUMN withdraw_amount BLOB NOT NULL DEFAULT x'00000000000000000000000000000000';
      ALTER TABLE client_channels ADD COLUMN withdraw_initiated_at INTEGER NOT NULL DEFAULT 0;
    )sql",
    // A store from before the column: what its channels' providers may hold is unknown.
    R"sql(
      ALTER TABLE client_channels ADD COLUMN held_ceiling BLOB NOT NULL DEFAULT x'ffffffffffffffffffffffffffffffff';
    )sql",
    R"sql(
      ALTER TABLE client_channels ADD COLUMN unserved_charges INTEGER NOT NULL DEFAULT 0;
    )sql",
    R"sql(
      ALTER TABLE client_channels ADD COLUMN deposits_on_word INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE client_channels ADD COLUMN on_word_renews_at BLOB NOT NULL DEFAULT x'00000000000000000000000000000000';
    )sql",
};

constexpr std::string_view kColumns =
    "channel_id, config, network, method, url, offer, deposited, pending_deposit, balance, charged, "
    "signed_max, reserved, suspended, closed, withdraw_amount, withdraw_initiated_at, held_ceiling, unserved_charges, "
    "deposits_on_word, on_word_renews_at";

// A small count the agent keeps (a corrupt file must not make it wrap).
Result<unsigned> read_count(const Statement& s, int column, std::string_view what) {
  const std::int64_t n = s.integer(column);
  if (n < 0 || n > 1'000'000) return fail(ErrorCode::invalid_payload, "stored count of " + std::string{what} + " is out of range");
  return static_cast<unsigned>(n);
}

Result<ClientChannel> read_channel(const Statement& s) {
  ClientChannel c;
  const ByteView id = s.blob(0);
  if (id.size() != 32) return fail(ErrorCode::invalid_payload, "stored client channel has a bad id");
  std::copy(id.begin(), id.end(), c.channelId.begin());
  PAYCHAN_ASSIGN(c.config, decode_config(s.blob(1)));
  c.network = s.text(2);
  c.method = s.text(3);
  c.url = s.text(4);
  c.offer = s.text(5);
  PAYCHAN_ASSIGN(c.deposited, decode_u128(s.blob(6)));
  PAYCHAN_ASSIGN(c.pendingDeposit, decode_u128(s.blob(7)));
  PAYCHAN_ASSIGN(c.balance, decode_u128(s.blob(8)));
  PAYCHAN_ASSIGN(c.charged, decode_u128(s.blob(9)));
  PAYCHAN_ASSIGN(c.signedMax, decode_u128(s.blob(10)));
  PAYCHAN_ASSIGN(c.reserved, decode_u128(s.blob(11)));
  c.suspended = s.text(12);
  c.closed = s.integer(13) != 0;
  PAYCHAN_ASSIGN(c.withdrawAmount, decode_u128(s.blob(14)));
  if (s.integer(15) < 0) return fail(ErrorCode::invalid_payload, "stored withdrawal time is negative");
  c.withdrawInitiatedAt = static_cast<std::uint64_t>(s.integer(15));
  PAYCHAN_ASSIGN(c.heldCeiling, decode_u128(s.blob(16)));
  PAYCHAN_ASSIGN(c.unservedCharges, read_count(s, 17, "unserved charges"));
  PAYCHAN_ASSIGN(c.depositsOnWord, read_count(s, 18, "deposits on the server's word"));
  PAYCHAN_ASSIGN(c.onWordRenewsAt, decode_u128(s.blob(19)));
  return c;
}

}  // namespace

Status check_payer(const ClientChannel& channel, const Address& payer) {
  if (channel.config.payer == payer) return {};
  return fail(ErrorCode::invalid_payload, "channel " + to_hex(channel.channelId) + " is payer " +
                                              to_checksum_hex(channel.config.payer) + "'s, not this key's");
}

Result<std::unique_ptr<ClientStore>> ClientStore::open(const std::string& path) {
  auto db = open_wal(path, true, &kAgentStoreFile);
  if (!db) return db.failure();
  PAYCHAN_TRY(migrate(*db, kMigrations));
  return std::unique_ptr<ClientStore>(new ClientStore(std::move(*db)));
}

Status ClientStore::put(const ClientChannel& c, bool durable) {
  std::lock_guard lock(mutex_);
  PAYCHAN_TRY(db_.exec(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
  auto s = db_.prepare("INSERT OR REPLACE INTO client_channels (" + std::string{kColumns} +
                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)");
  if (!s) return s.failure();
  s->bind(1, c.channelId).bind(2, encode_config(c.config)).bind_text(3, c.network).bind_text(4, c.method);
  s->bind_text(5, c.url).bind_text(6, c.offer).bind(7, encode_u128(c.deposited));
  s->bind(8, encode_u128(c.pendingDeposit)).bind(9, encode_u128(c.balance)).bind(10, encode_u128(c.charged));
  s->bind(11, encode_u128(c.signedMax)).bind(12, encode_u128(c.reserved)).bind_text(13, c.suspended);
  s->bind(14, std::int64_t{c.closed ? 1 : 0}).bind(15, encode_u128(c.withdrawAmount));
  s->bind(16, static_cast<std::int64_t>(c.withdrawInitiatedAt)).bind(17, encode_u128(c.heldCeiling));
  s->bind(18, static_cast<std::int64_t>(c.unservedCharges)).bind(19, static_cast<std::int64_t>(c.depositsOnWord));
  s->bind(20, encode_u128(c.onWordRenewsAt));
  return s->run();
}

Result<std::vector<ClientChannel>> ClientStore::list() {
  std::lock_guard lock(mutex_);
  auto s = db_.prepare("SELECT " + std::string{kColumns} + " FROM client_channels");
  if (!s) return s.failure();
  std::vector<ClientChannel> out;
  Result<bool> row = true;
  while ((row = s->step()) && *row) {
    PAYCHAN_ASSIGN(auto c, read_channel(*s));
    out.push_back(std::move(c));
  }
  if (!row) return row.failure();
  return out;
}

Result<std::optional<ClientChannel>> ClientStore::get(const Bytes32& channelId) {
  std::lock_guard lock(mutex_);
  PAYCHAN_ASSIGN(auto query, db_.prepare("SELECT " + std::string{kColumns} + " FROM client_channels WHERE channel_id = ?1"));
  query.bind(1, channelId);
  PAYCHAN_ASSIGN(const bool row, query.step());
  if (!row) return std::optional<ClientChannel>{};
  PAYCHAN_ASSIGN(auto channel, read_channel(query));
  return std::optional<ClientChannel>{std::move(channel)};
}

}  // namespace paychan::persistence
