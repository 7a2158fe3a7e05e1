// The facilitator's transaction journal: one SQLite file (WAL, synchronous=FULL) holding every
// transaction the facilitator has signed, keyed by WHAT it settles (a deposit's channel and
// ERC-3009 nonce, a claim's rows, a settle's receiver/token/claimed and settled totals, a refund's
// channel and refund nonce) rather than by request, so a retried or concurrent request for the
// same action finds the first one's transaction instead of submitting a second.
//
// Life of an entry:
//   record_sent     before the signed bytes leave for the node (on disk when it returns): a crash
//                   from here on leaves the raw transaction to rebroadcast or to find mined;
//   record_outcome  once its receipt is known: the SettlementResponse (JSON) every later request
//                   with the same key is answered with;
//   record_replacement  the transaction waited too long for its fee: the same nonce, to, data and
//                   gas again with higher fees (on disk before it is sent). Either version may be
//                   mined, never both (one nonce): the entry remembers every hash it had;
//   forget          the transaction can never be mined (its nonce went to another transaction), or
//                   it was mined and reverted: nothing happened on chain under this key, which may
//                   be attempted afresh (by a new transaction: entries are removed by key and hash).
// An entry without an outcome is pending (pending()): resolved by its receipt at start-up.
//
// Thread-safety: every member may be called from any thread (one connection under a mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/result.hpp"
#include "persistence/sqlite.hpp"

namespace paychan::persistence {

struct JournalEntry {
  std::string key;      // what the transaction settles, e.g. "eip155:31337/claim/0x…"
  std::string network;  // CAIP-2
  std::string request;  // the facilitator request (JSON) that asked for it: the outcome is built from it
  Address from;         // the signer
  std::uint64_t nonce = 0;
  Bytes rawTransaction;  // exactly the bytes sent (and rebroadcast): the latest version
  Bytes32 transactionHash{};
  std::uint64_t sentAt = 0;            // unix seconds, of the latest version
  std::optional<std::string> outcome;  // the SettlementResponse (JSON) once the receipt is known
  // What a replacement signs again (EIP-1559 fields besides chain id and nonce). gas 0: an entry
  // journaled by a build that did not keep them, which is never replaced.
  Address to;
  Bytes data;
  std::uint64_t gas = 0;
  U256 maxFeePerGas;
  U256 maxPriorityFeePerGas;
  std::vector<Bytes32> replacedHashes;  // earlier versions, oldest first: any one may be the one mined

  friend bool operator==(const JournalEntry&, const JournalEntry&) = default;
};

class TxJournal {
 public:
  // Opens or creates the file, migrating its schema. `durable` false only for benchmarks: the
  // journal's whole point is surviving a crash. Errors: invalid_payload, SQLite's.
  [[nodiscard]] static Result<std::unique_ptr<TxJournal>> open(const std::string& path, bool durable = true);

  // Records a signed transaction before it is sent; on disk when it returns. An existing entry for
  // the key is never replaced (that would be a second submission): invalid_payload.
  [[nodiscard]] Status record_sent(const JournalEntry& entry);
  // Makes `replacement` (same key, nonce and transaction; higher fees) the entry's latest version,
  // `current`'s hash joining its replaced hashes; on disk when it returns. False, changing nothing,
  // when `current` is no longer the latest version (another request replaced it first: read it
  // again) or has an outcome. Errors: SQLite's.
  [[nodiscard]] Result<bool> record_replacement(const JournalEntry& current, const JournalEntry& replacement);
  // Records the final outcome of `entry`'s transaction. The first outcome stays: a later call for
  // it changes nothing. Error: invalid_payload when the journal does not hold that transaction.
  // Matched by key and any of its versions' hashes: whichever version was mined.
  [[nodiscard]] Status record_outcome(const JournalEntry& entry, std::string_view outcome);
  // Removes `entry` (its transaction can never be mined, or was mined and reverted), with its
  // replaced hashes. Matched by key and the latest version's hash: a request that learns late of
  // an old transaction's fate, or holds an older version of this one, never removes a newer
  // transaction (or version) sent for the same key since. True when it removed the entry, false
  // when there was nothing of `entry` left to remove.
  [[nodiscard]] Result<bool> forget(const JournalEntry& entry);

  [[nodiscard]] Result<std::optional<JournalEntry>> find(std::string_view key);
  // Entries sent without an outcome yet, in the order they were sent.
  [[nodiscard]] Result<std::vector<JournalEntry>> pending();
  // How many there are (one count from the index of pending entries).
  [[nodiscard]] Result<std::size_t> pending_count();

 private:
  explicit TxJournal(Database db) : db_(std::move(db)) {}
  [[nodiscard]] Result<std::vector<JournalEntry>> select(std::string_view where, std::string_view key);
  std::mutex mutex_;
  Database db_;
};

}  // namespace paychan::persistence
