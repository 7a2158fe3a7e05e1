// Sends the facilitator's transactions so that an action is never submitted twice and never
// forgotten: each is signed, recorded in the TxJournal (durably) and only then broadcast, and its
// fate is learned from the chain — the receipt, or proof that it can never be mined.
//
// Nonces: one signer per network, the next nonce taken from the node ("pending" count) and then
// counted locally under the network's lock, held from taking the nonce until the node accepted the
// transaction, so no gap opens between two sends. A refused broadcast drops the local count: the
// next send asks the node again (the journaled transaction then waits for a rebroadcast, or is
// proven dropped once its nonce is used by another).
//
// Fees: a transaction still unmined `repriceAfter` after it was sent, while the node's fee quote
// has risen above what it offers, is replaced: the same nonce, to, data and gas, signed again with
// the quote's fees (at least 12.5 % more than before, which nodes require of a replacement),
// journaled before it is broadcast. Whichever version is mined is the action's transaction. No
// fee cap, first or replacement, exceeds the operator's maxFeePerGas: a replacement held there
// waits for the market to come back, and no new transaction is sent while the market is above it.
//
// Fault injection for crash tests: Fault makes the process _exit at the instants a crash matters
// (entry journaled but not broadcast; broadcast but its receipt unknown; a replacement journaled
// but not broadcast).
// Thread-safety: send/resolve may run concurrently from coroutines on any executors.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "channel/ecdsa.hpp"
#include "engine/chain/transaction.hpp"
#include "engine/facilitator/chain_view.hpp"
#include "persistence/tx_journal.hpp"

namespace paychan::engine::facilitator {

enum class Fault {
  none,
  exit_after_journal,    // _exit right after the journal recorded the signed transaction
  exit_after_broadcast,  // _exit right after the node accepted it
  exit_after_replacement_journal,  // _exit right after the journal recorded a replacement, unsent
};
// The process exit status of an injected fault.
inline constexpr int kFaultExitStatus = 86;

// A transaction to send for an action.
struct TxPlan {
  std::string key;      // what it settles (see TxJournal)
  std::string request;  // the facilitator request (JSON) asking for it
  Address to;
  Bytes data;
  std::uint64_t gas = 0;
};

// What became of a journaled transaction.
struct Fate {
  std::optional<chain::Receipt> receipt;  // mined (successfully or reverted)
  bool dropped = false;  // can never be mined: its nonce was used by another transaction
  std::string detail;    // why it is neither, for the answer (e.g. the node's refusal)
  persistence::JournalEntry latest;  // the entry as last read: its latest version (see replacement)
};

struct SenderOptions {
  Fault fault = Fault::none;
  std::chrono::seconds repriceAfter{60};
  std::optional<U256> maxFeePerGas;  // wei; nullopt: no ceiling
};

class JournaledSender {
 public:
  JournaledSender(persistence::TxJournal& journal, PrivateKey signer, SenderOptions options = {});

  [[nodiscard]] const Address& address() const noexcept { return signer_.address(); }

  // Signs `plan` with the signer's next nonce on `chain`, records it, then broadcasts it. The
  // returned entry is journaled even when the broadcast failed (its detail says why): resolve()
  // decides its fate. Errors (nothing journaled, nothing sent): the node's fee or nonce read,
  // the journal's (e.g. the key already has a transaction).
  [[nodiscard]] http::Awaitable<Result<persistence::JournalEntry>> send(ChainView& chain, const TxPlan& plan);

  // Waits up to `timeout` (polling every `poll`) for the receipt of any version of the entry's
  // transaction; a transaction the node does not know is rebroadcast with the same bytes, and one
  // left behind by the fees is replaced (see above). Errors: failed chain reads.
  [[nodiscard]] http::Awaitable<Result<Fate>> resolve(ChainView& chain, const persistence::JournalEntry& entry,
                                                      std::chrono::milliseconds timeout,
                                                      std::chrono::milliseconds poll);

 private:
  // `entry` as the journal holds it now: another request may have replaced it. Unchanged when the
  // key's entry is gone or is another transaction (another nonce).
  [[nodiscard]] Status reread(persistence::JournalEntry& entry);
  // The receipt of whichever version of `entry` was mined, or nullopt.
  [[nodiscard]] http::Awaitable<Result<std::optional<chain::Receipt>>> mined_version(evm::RpcClient& rpc,
                                                                                      const persistence::JournalEntry& entry);
  // Whether the node still holds an earlier version of `entry` in its pool.
  [[nodiscard]] http::Awaitable<Result<bool>> pooled_version(evm::RpcClient& rpc, const persistence::JournalEntry& entry);
  // Replaces `entry` when it has waited repriceAfter and the fee quote is above what it offers;
  // `entry` becomes the latest version (also one another request journaled meanwhile).
  [[nodiscard]] http::Awaitable<Status> reprice(ChainView& chain, persistence::JournalEntry& entry);

  // `tx`'s fee cap (and tip) held to the ceiling.
  void cap(chain::Eip1559Transaction& tx) const;

  persistence::TxJournal& journal_;
  PrivateKey signer_;
  SenderOptions options_;
};

}  // namespace paychan::engine::facilitator
