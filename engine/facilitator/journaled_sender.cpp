#include "engine/facilitator/journaled_sender.hpp"

#include <unistd.h>

#include <algorithm>

#include "channel/hex.hpp"
#include "channel/unix_time.hpp"
#include "engine/chain/transaction.hpp"
#include "engine/evm/tx_sender.hpp"
#include "engine/http/beast.hpp"
#include "engine/http/sleep.hpp"

namespace paychan::engine::facilitator {
JournaledSender::JournaledSender(persistence::TxJournal& journal, PrivateKey signer, SenderOptions options)
    : journal_(journal), signer_(std::move(signer)), options_(std::move(options)) {}

void JournaledSender::cap(chain::Eip1559Transaction& tx) const {
  if (!options_.maxFeePerGas) return;
  tx.maxFeePerGas = std::min(tx.maxFeePerGas, *options_.maxFeePerGas);
  tx.maxPriorityFeePerGas = std::min(tx.maxPriorityFeePerGas, tx.maxFeePerGas);
}

http::Awaitable<Result<persistence::JournalEntry>> JournaledSender::send(ChainView& chain, const TxPlan& plan) {
  auto fees = co_await chain.rpc().fee_quote();
  if (!fees) co_return fees.failure();
  // Above the ceiling a node would not take it, and it would hold a nonce every later send reuses.
  if (options_.maxFeePerGas && fees->maxFeePerGas > *options_.maxFeePerGas)
    co_return fail(ErrorCode::facilitator_unavailable,
                   "the network asks " + fees->maxFeePerGas.to_decimal() + " wei per gas, above maxFeePerGasGwei; retry later");

  auto& nonce = chain.nonce_state();
  auto held = co_await nonce.lock.lock();
  if (!nonce.next) {
    auto count = co_await chain.rpc().transaction_count(signer_.address(), "pending");
    if (!count) co_return count.failure();
    nonce.next = *count;
  }
  chain::Eip1559Transaction tx;
  tx.chainId = chain.chain_id();
  tx.nonce = *nonce.next;
  tx.maxPriorityFeePerGas = fees->maxPriorityFeePerGas;
  tx.maxFeePerGas = fees->maxFeePerGas;  // within the ceiling (above)
  tx.gas = plan.gas;
  tx.to = plan.to;
  tx.data = plan.data;
  const chain::SignedTransaction signed_tx = chain::sign_transaction(tx, signer_);

  persistence::JournalEntry entry;
  entry.key = plan.key;
  entry.network = chain.network();
  entry.request = plan.request;
  entry.from = signer_.address();
  entry.nonce = tx.nonce;
  entry.rawTransaction = signed_tx.raw;
  entry.transactionHash = signed_tx.hash;
  entry.sentAt = unix_now();
  entry.to = plan.to;
  entry.data = plan.data;
  entry.gas = plan.gas;
  entry.maxFeePerGas = tx.maxFeePerGas;
  entry.maxPriorityFeePerGas = tx.maxPriorityFeePerGas;
  if (Status recorded = journal_.record_sent(entry); !recorded) co_return recorded.failure();
  // Test-only crash point (PAYCHAN_FACILITATOR_FAULT): journaled, never broadcast.
  if (options_.fault == Fault::exit_after_journal) _exit(kFaultExitStatus);

  auto sent = co_await chain.rpc().send_raw_transaction(entry.rawTransaction);
  if (sent) {
    nonce.next = *nonce.next + 1;
    // Test-only crash point: broadcast, receipt unknown.
    if (options_.fault == Fault::exit_after_broadcast) _exit(kFaultExitStatus);
  } else {
    // The node may or may not hold it: ask it for the count again next time. resolve() settles
    // this transaction's fate (rebroadcast, or dropped once its nonce is used by another).
    nonce.next.reset();
  }
  co_return entry;
}

Status JournaledSender::reread(persistence::JournalEntry& entry) {
  auto latest = journal_.find(entry.key);
  if (!latest) return latest.failure();
  if (*latest && (*latest)->nonce == entry.nonce && (*latest)->from == entry.from) entry = std::move(**latest);
  return {};
}

http::Awaitable<Result<std::optional<chain::Receipt>>> JournaledSender::mined_version(
    evm::RpcClient& rpc, const persistence::JournalEntry& entry) {
  auto receipt = co_await rpc.receipt(entry.transactionHash);
  for (std::size_t i = 0; i < entry.replacedHashes.size() && receipt && !*receipt; ++i)
    receipt = co_await rpc.receipt(entry.replacedHashes[i]);
  co_return receipt;
}

http::Awaitable<Result<bool>> JournaledSender::pooled_version(evm::RpcClient& rpc,
                                                             const persistence::JournalEntry& entry) {
  for (const Bytes32& hash : entry.replacedHashes) {
    auto known = co_await rpc.raw("eth_getTransactionByHash", "[" + chain::quote(to_hex(hash)) + "]");
    if (!known) co_return known.failure();
    if (*known != "null") co_return true;
  }
  co_return false;
}

http::Awaitable<Status> JournaledSender::reprice(ChainView& chain, persistence::JournalEntry& entry) {
  if (entry.gas == 0 || unix_now() < entry.sentAt + static_cast<std::uint64_t>(options_.repriceAfter.count()))
    co_return Status{};
  auto quote = co_await chain.rpc().fee_quote();
  if (!quote) co_return quote.failure();
  if (quote->maxFeePerGas <= entry.maxFeePerGas && quote->maxPriorityFeePerGas <= entry.maxPriorityFeePerGas)
    co_return Status{};  // it offers what the market asks: wait

  chain::Eip1559Transaction tx;
  tx.chainId = chain.chain_id();
  tx.nonce = entry.nonce;
  tx.maxFeePerGas = entry.maxFeePerGas;
  tx.maxPriorityFeePerGas = entry.maxPriorityFeePerGas;
  tx.gas = entry.gas;
  tx.to = entry.to;
  tx.data = entry.data;
  const chain::Eip1559Transaction least = evm::with_bumped_fees(tx);  // what a node takes as a replacement
  tx = evm::with_replacement_fees(tx, *quote);
  cap(tx);
  // Held at the ceiling, it may no longer outbid itself by what a node asks of a replacement.
  if (tx.maxFeePerGas < least.maxFeePerGas || tx.maxPriorityFeePerGas < least.maxPriorityFeePerGas) co_return Status{};
  const chain::SignedTransaction signed_tx = chain::sign_transaction(tx, signer_);
  persistence::JournalEntry replacement = entry;
  replacement.rawTransaction = signed_tx.raw;
  replacement.transactionHash = signed_tx.hash;
  replacement.sentAt = unix_now();
  replacement.maxFeePerGas = tx.maxFeePerGas;
  replacement.maxPriorityFeePerGas = tx.maxPriorityFeePerGas;
  replacement.replacedHashes.push_back(entry.transactionHash);
  auto recorded = journal_.record_replacement(entry, replacement);
  if (!recorded) co_return recorded.failure();
  // Another request replaced it (or resolved it) first: carry on with what the journal holds.
  if (!*recorded) co_return reread(entry);
  entry = std::move(replacement);
  if (options_.fault == Fault::exit_after_replacement_journal) _exit(kFaultExitStatus);
  // Refused (say, a node asking for a larger bump): the earlier versions stay valid, and a node
  // that does not know the latest is given it again by resolve().
  (void)co_await chain.rpc().send_raw_transaction(entry.rawTransaction);
  co_return Status{};
}

http::Awaitable<Result<Fate>> JournaledSender::resolve(ChainView& chain, const persistence::JournalEntry& journaled,
                                                       std::chrono::milliseconds timeout,
                                                       std::chrono::milliseconds poll) {
  evm::RpcClient& rpc = chain.rpc();
  persistence::JournalEntry entry = journaled;  // its latest version, once replaced
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Whether the node knows the transaction is asked now and then, not on every poll.
  constexpr unsigned kKnownEvery = 20;
  constexpr unsigned kDroppedChecks = 3;
  for (unsigned round = 0;; ++round) {
    auto receipt = co_await mined_version(rpc, entry);
    if (!receipt) co_return receipt.failure();
    if (*receipt) co_return Fate{std::move(*receipt), false, {}, std::move(entry)};

    if (round % kKnownEvery == 0) {
      // Another request resolving the same entry may have replaced it: follow its latest version.
      if (Status read = reread(entry); !read) co_return read.failure();
      auto known = co_await rpc.raw("eth_getTransactionByHash", "[" + chain::quote(to_hex(entry.transactionHash)) + "]");
      if (!known) co_return known.failure();
      if (*known != "null") {
        if (Status repriced = co_await reprice(chain, entry); !repriced) co_return repriced.failure();
      } else {
        // Never received, or forgotten (a restarted node, an evicted pool entry): the same bytes
        // again, so the action stays exactly this transaction.
        auto rebroadcast = co_await rpc.send_raw_transaction(entry.rawTransaction);
        if (!rebroadcast) {
          auto mined_count = co_await rpc.transaction_count(entry.from, "latest");
          if (!mined_count) co_return mined_count.failure();
          if (*mined_count <= entry.nonce) {
            // Refused, its nonce still free: often its fee cap fell below the base fee (a node
            // evicts such transactions). A replacement with the new quote's fees may be taken.
            const Bytes32 before = entry.transactionHash;
            if (Status repriced = co_await reprice(chain, entry); !repriced) co_return repriced.failure();
            if (entry.transactionHash != before) continue;  // the replacement was sent: poll for it
            // A refused replacement leaves an earlier version in the pool, which may still be mined.
            auto earlier = co_await pooled_version(rpc, entry);
            if (!earlier) co_return earlier.failure();
            if (!*earlier)
              co_return Fate{std::nullopt, false, "the node refuses the transaction: " + rebroadcast.error().detail,
                             std::move(entry)};
          }
          // The nonce is used. Ours, if its receipt shows up: a node may count the nonce a moment
          // before it serves the receipt, so "another transaction" is concluded only after
          // kDroppedChecks polls that all found none.
          // "Another" means none of the versions the journal holds now: a version another request
          // journaled meanwhile may be the one mined.
          for (unsigned check = 0; check < kDroppedChecks; ++check) {
            if (check > 0) co_await http::sleep_for(poll);
            if (Status read = reread(entry); !read) co_return read.failure();
            auto again = co_await mined_version(rpc, entry);
            if (!again) co_return again.failure();
            if (*again) co_return Fate{std::move(*again), false, {}, std::move(entry)};
          }
          co_return Fate{std::nullopt, true, "nonce " + std::to_string(entry.nonce) + " was used by another transaction",
                         std::move(entry)};
        }
      }
    }
    if (std::chrono::steady_clock::now() >= deadline)
      co_return Fate{std::nullopt, false, "no receipt within " + std::to_string(timeout.count()) + " ms", std::move(entry)};
    co_await http::sleep_for(poll);
  }
}

}  // namespace paychan::engine::facilitator
