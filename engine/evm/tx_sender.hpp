// TransactionSender: signs and submits EIP-1559 transactions from one account, with a nonce
// manager for concurrent submissions, receipt waiting with a timeout, and fee-bumped replacement
// of a transaction that stays unmined.
//
// Nonces: taken from a local counter initialised from eth_getTransactionCount("pending"). A
// reply that may mean the nonce is taken ("nonce too low", "replacement transaction underpriced")
// is checked against the node's pending count: past the nonce, the counter moves up to it and the
// transaction is signed again with the next nonce (at most kNonceRetries times); not past it (a
// fee below the node's floor is "underpriced" too), the refusal is returned. A nonce is consumed
// only when the node accepted the transaction: after any refusal the counter steps back.
// Transactions are sent in nonce order: from taking a nonce until the node answered its send, no
// other submit takes one. Sent concurrently, a later nonce could reach the node first: a node
// holds such a transaction as "queued", and some refuse it ("nonce too high"). Estimates and fee
// quotes still run concurrently.
// Thread-safety: submit/wait may run concurrently from coroutines; the counter is under `sending_`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "channel/ecdsa.hpp"
#include "engine/chain/json_rpc.hpp"
#include "engine/chain/transaction.hpp"
#include "engine/async_mutex.hpp"
#include "engine/evm/rpc_client.hpp"

namespace paychan::engine::evm {

struct TxRequest {
  std::optional<Address> to;  // nullopt: contract creation
  Bytes data;
  U256 value;
  std::optional<std::uint64_t> gas;  // nullopt: estimate_gas × 1.2
};

struct SentTransaction {
  Bytes32 hash{};
  std::uint64_t nonce = 0;
  chain::Eip1559Transaction tx;  // as signed (for replacement)
};

struct WaitOptions {
  std::chrono::milliseconds timeout{60'000};
  std::chrono::milliseconds poll{100};
  // Unmined after this long: resend with fees raised 12.5 % (same nonce); 0 disables.
  std::chrono::milliseconds replace_after{0};
};

// The same transaction priced for replacement: both fees raised by 12.5 % (at least 1 wei), above
// the 10 % that nodes require of a replacement.
[[nodiscard]] chain::Eip1559Transaction with_bumped_fees(const chain::Eip1559Transaction& tx);
// with_bumped_fees, raised further to `quote` where the market asks more: a stuck transaction is
// often one the base fee has outgrown.
[[nodiscard]] chain::Eip1559Transaction with_replacement_fees(const chain::Eip1559Transaction& tx, const FeeQuote& quote);

class TransactionSender {
 public:
  static constexpr int kNonceRetries = 3;

  TransactionSender(RpcClient& rpc, PrivateKey key, std::uint64_t chainId);

  [[nodiscard]] const Address& address() const noexcept { return key_.address(); }

  // Signs and sends. A revert found by gas estimation: invalid_batch_settlement_evm_transaction_reverted.
  [[nodiscard]] http::Awaitable<Result<SentTransaction>> submit(TxRequest request);
  // Sends `sent` again with the same nonce, priced with_bumped_fees or at the current fee quote,
  // whichever is higher. The node keeps whichever of the two gets mined.
  [[nodiscard]] http::Awaitable<Result<SentTransaction>> replace(const SentTransaction& sent);
  // Waits for the receipt of `sent` (or of a replacement of it). Errors:
  // invalid_batch_settlement_evm_wait_for_receipt_failed on timeout (the detail carries the last
  // RPC error, if any: polling goes on through a node's hiccups) or when the nonce was mined by
  // a transaction that is none of ours (another process using the key; decided after a second of
  // polls without our receipt, as a node may count the nonce before it serves the receipt).
  // A mined but reverted transaction is a receipt with success = false, not an error.
  [[nodiscard]] http::Awaitable<Result<chain::Receipt>> wait(SentTransaction sent, WaitOptions options = {});

 private:
  // Only under `sending_`.
  [[nodiscard]] http::Awaitable<Result<std::uint64_t>> take_nonce();

  RpcClient& rpc_;
  PrivateKey key_;
  std::uint64_t chainId_;
  AsyncMutex sending_;  // held from taking a nonce until the node answered the send
  std::optional<std::uint64_t> nextNonce_;
};

}  // namespace paychan::engine::evm
