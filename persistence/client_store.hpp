// The agent's durable record of its channels: one SQLite file (WAL; a durable put() is on disk
// when it returns, the others survive a crash of the process but not of the machine). What an
// agent must never forget is written *before* it acts on it: a new channel (its salt, hence its
// id) and a deposit about to be sent are recorded first, so a crash can at worst leave a deposit
// whose outcome is unknown on a channel the agent knows — never a second funded channel it does
// not.
// Thread-safety: every member may be called from any thread (one connection under a mutex).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "channel/result.hpp"
#include "channel/types.hpp"
#include "persistence/sqlite.hpp"

namespace paychan::persistence {

struct ClientChannel {
  Bytes32 channelId{};
  ChannelConfig config;
  std::string network;       // CAIP-2
  std::string method;        // the request that opened the channel: refunds go to the same route
  std::string url;
  std::string offer;         // the PaymentRequirements JSON it pays under (echoed as `accepted`)
  Uint128 deposited = 0;     // confirmed deposits
  Uint128 pendingDeposit = 0;  // a deposit signed and possibly sent, not yet confirmed
  Uint128 balance = 0;       // the channel's balance as the server last reported it
  Uint128 charged = 0;       // chargedCumulativeAmount the client accepted
  Uint128 signedMax = 0;     // the highest voucher ceiling ever signed: what the provider could claim
  Uint128 reserved = 0;      // a durable bound on signedMax: vouchers up to it may be signed without a write
  // The highest voucher a provider's corrective 402 may present as the one it holds: every voucher
  // sent that the provider did not refuse is at most this, unless the provider has answered since.
  // Durable ahead of the vouchers like `reserved`; lowered to what the provider confirmed when the
  // channel's progress is flushed. kUint128Max: unknown (a channel recovered from chain).
  Uint128 heldCeiling = 0;
  // Charges taken up in a row from the provider's correctives for answers that never came (lost,
  // or a gateway's 502-504); reset by an accepted PAYMENT-RESPONSE that charged something
  // (payment_client.hpp).
  unsigned unservedCharges = 0;
  // Deposits sent on the server's word alone (no chain to check it) since the allowance last came
  // back, and, once one is confirmed, the running total at which it comes back: when the provider
  // has served that deposit's worth since (0: none confirmed).
  unsigned depositsOnWord = 0;
  Uint128 onWordRenewsAt = 0;
  std::string suspended;     // non-empty: why the client stopped signing on this channel
  bool closed = false;       // refunded or withdrawn in full
  // A timed withdrawal initiated on chain (amount 0: none). Nothing is signed on the channel while
  // it is pending; it is finalizable withdrawDelay seconds after withdrawInitiatedAt (block time).
  Uint128 withdrawAmount = 0;
  std::uint64_t withdrawInitiatedAt = 0;

  friend bool operator==(const ClientChannel&, const ClientChannel&) = default;
};

// Succeeds when `channel` is `payer`'s; otherwise invalid_payload naming its payer (several payer
// keys may share a store, and the chain refuses a channel's transactions from another key).
[[nodiscard]] Status check_payer(const ClientChannel& channel, const Address& payer);

class ClientStore {
 public:
  // Opens or creates the file, migrating its schema. Errors: invalid_payload, SQLite's.
  [[nodiscard]] static Result<std::unique_ptr<ClientStore>> open(const std::string& path);

  // durable: on disk when it returns (one fsync). Otherwise the write survives a crash of the
  // process but not of the machine (WAL, synchronous=NORMAL): for state the agent can recover.
  [[nodiscard]] Status put(const ClientChannel& channel, bool durable = true);
  [[nodiscard]] Result<std::vector<ClientChannel>> list();
  [[nodiscard]] Result<std::optional<ClientChannel>> get(const Bytes32& channelId);

 private:
  explicit ClientStore(Database db) : db_(std::move(db)) {}
  std::mutex mutex_;
  Database db_;
};

}  // namespace paychan::persistence
