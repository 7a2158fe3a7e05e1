#include "engine/facilitator/journaled_sender.hpp"

#include <unistd.h>

#include "channel/hex.hpp"
#include "channel/unix_time.hpp"
#include "engine/chain/transaction.hpp"
#include "engine/http/beast.hpp"
#include "engine/http/sleep.hpp"

namespace paychan::engine::facilitator {
JournaledSender::JournaledSender(persistence::TxJournal& journal, PrivateKey signer, Fault fault)
    : journal_(journal), signer_(std::move(signer)), fault_(fault) {}

http::Awaitable<Result<persistence::JournalEntry>> JournaledSender::send(ChainView& chain, const TxPlan& plan) {
  auto fees = co_await chain.rpc().fee_quote();
  if (!fees) co_return fees.failure();

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
  tx.maxFeePerGas = fees->maxFeePerGas;
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
  if (Status recorded = journal_.record_sent(entry); !recorded) co_return recorded.failure();
  // Test-only crash point (PAYCHAN_FACILITATOR_FAULT): journaled, never broadcast.
  if (fault_ == Fault::exit_after_journal) _exit(kFaultExitStatus);

  auto sent = co_await chain.rpc().send_raw_transaction(entry.rawTransaction);
  if (sent) {
    nonce.next = *nonce.next + 1;
    // Test-only crash point: broadcast, receipt unknown.
    if (fault_ == Fault::exit_after_broadcast) _exit(kFaultExitStatus);
  } else {
    // The node may or may not hold it: ask it for the count again next time. resolve() settles
    // this transaction's fate (rebroadcast, or dropped once its nonce is used by another).
    nonce.next.reset();
  }
  co_return entry;
}

http::Awaitable<Result<Fate>> JournaledSender::resolve(ChainView& chain, const persistence::JournalEntry& entry,
                                                       std::chrono::milliseconds timeout,
                                                       std::chrono::milliseconds poll) {
  evm::RpcClient& rpc = chain.rpc();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string by_hash = "[" + chain::quote(to_hex(entry.transactionHash)) + "]";
  // Whether the node knows the transaction is asked now and then, not on every poll.
  constexpr unsigned kKnownEvery = 20;
  constexpr unsigned kDroppedChecks = 3;
  for (unsigned round = 0;; ++round) {
    auto receipt = co_await rpc.receipt(entry.transactionHash);
    if (!receipt) co_return receipt.failure();
    if (*receipt) co_return Fate{std::move(*receipt), false, {}};

    if (round % kKnownEvery == 0) {
      auto known = co_await rpc.raw("eth_getTransactionByHash", by_hash);
      if (!known) co_return known.failure();
      if (*known == "null") {
        // Never received, or forgotten (a restarted node, an evicted pool entry): the same bytes
        // again, so the action stays exactly this transaction.
        auto rebroadcast = co_await rpc.send_raw_transaction(entry.rawTransaction);
        if (!rebroadcast) {
          auto mined_count = co_await rpc.transaction_count(entry.from, "latest");
          if (!mined_count) co_return mined_count.failure();
          if (*mined_count <= entry.nonce)
            co_return Fate{std::nullopt, false, "the node refuses the transaction: " + rebroadcast.error().detail};
          // The nonce is used. Ours, if its receipt shows up: a node may count the nonce a moment
          // before it serves the receipt, so "another transaction" is concluded only after
          // kDroppedChecks polls that all found none.
          for (unsigned check = 0; check < kDroppedChecks; ++check) {
            if (check > 0) co_await http::sleep_for(poll);
            auto again = co_await rpc.receipt(entry.transactionHash);
            if (!again) co_return again.failure();
            if (*again) co_return Fate{std::move(*again), false, {}};
          }
          co_return Fate{std::nullopt, true, "nonce " + std::to_string(entry.nonce) + " was used by another transaction"};
        }
      }
    }
    if (std::chrono::steady_clock::now() >= deadline)
      co_return Fate{std::nullopt, false, "no receipt within " + std::to_string(timeout.count()) + " ms"};
    co_await http::sleep_for(poll);
  }
}

}  // namespace paychan::engine::facilitator
