#include "engine/evm/tx_sender.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "channel/hex.hpp"
#include "engine/http/asio.hpp"
#include "engine/http/sleep.hpp"
#include "engine/http/text.hpp"

namespace paychan::engine::evm {
namespace {

constexpr auto kWaitFailed = ErrorCode::invalid_batch_settlement_evm_wait_for_receipt_failed;
// How long a used-up nonce must go without a receipt of ours before wait() blames another transaction.
constexpr std::chrono::milliseconds kNonceTakenGrace{1'000};

// What a node answered to eth_sendRawTransaction, in the words of geth, reth and anvil.
enum class SendOutcome { accepted, nonce_taken, refused };

bool says(std::string_view message, std::string_view phrase) {
  return http::ifind(message, phrase) != std::string_view::npos;
}

SendOutcome classify(const chain::RpcError& e) {
  // The node already holds these exact bytes (a resend): accepted earlier.
  if (says(e.message, "already known") || says(e.message, "already imported")) return SendOutcome::accepted;
  if (says(e.message, "nonce too low") || says(e.message, "underpriced")) return SendOutcome::nonce_taken;
  return SendOutcome::refused;
}

Uint128 bump(Uint128 fee) {
  const Uint128 step = std::max<Uint128>(fee / 8, 1);
  return saturating_add(fee, step);
}

U256 bump(const U256& fee) {
  const auto f = fee.to_uint128();
  return f ? U256{bump(*f)} : fee;  // a fee above 2^128 wei is already beyond any market
}

}  // namespace

chain::Eip1559Transaction with_bumped_fees(const chain::Eip1559Transaction& tx) {
  chain::Eip1559Transaction out = tx;
  out.maxPriorityFeePerGas = bump(tx.maxPriorityFeePerGas);
  out.maxFeePerGas = bump(tx.maxFeePerGas);
  return out;
}

chain::Eip1559Transaction with_replacement_fees(const chain::Eip1559Transaction& tx, const FeeQuote& quote) {
  chain::Eip1559Transaction out = with_bumped_fees(tx);
  out.maxFeePerGas = std::max(out.maxFeePerGas, quote.maxFeePerGas);
  out.maxPriorityFeePerGas = std::max(out.maxPriorityFeePerGas, quote.maxPriorityFeePerGas);
  return out;
}

TransactionSender::TransactionSender(RpcClient& rpc, PrivateKey key, std::uint64_t chainId)
    : rpc_(rpc), key_(std::move(key)), chainId_(chainId) {}

http::Awaitable<Result<std::uint64_t>> TransactionSender::take_nonce() {
  if (!nextNonce_) {
    auto count = co_await rpc_.transaction_count(address(), "pending");
    if (!count) co_return count.failure();
    nextNonce_ = *count;
  }
  co_return (*nextNonce_)++;
}

http::Awaitable<Result<SentTransaction>> TransactionSender::submit(TxRequest request) {
  std::uint64_t gas = 0;
  if (request.gas) {
    gas = *request.gas;
  } else {
    auto estimate = co_await rpc_.estimate_gas(address(), request.to, request.data, request.value);
    if (!estimate) co_return estimate.failure();
    gas = *estimate + *estimate / 5;  // state may change between estimate and inclusion
  }
  auto fees = co_await rpc_.fee_quote();
  if (!fees) co_return fees.failure();

  SentTransaction sent;
  sent.tx.chainId = chainId_;
  sent.tx.maxPriorityFeePerGas = fees->maxPriorityFeePerGas;
  sent.tx.maxFeePerGas = fees->maxFeePerGas;
  sent.tx.gas = gas;
  sent.tx.to = request.to;
  sent.tx.value = request.value;
  sent.tx.data = std::move(request.data);
  auto sending = co_await sending_.lock();
  for (int attempt = 0;; ++attempt) {
    auto nonce = co_await take_nonce();
    if (!nonce) co_return nonce.failure();
    sent.tx.nonce = sent.nonce = *nonce;
    const chain::SignedTransaction signed_tx = chain::sign_transaction(sent.tx, key_);
    sent.hash = signed_tx.hash;
    auto reply = co_await rpc_.request("eth_sendRawTransaction", "[" + chain::quote(to_hex(signed_tx.raw)) + "]");
    const SendOutcome outcome = !reply ? SendOutcome::refused
                                : reply->error ? classify(*reply->error)
                                               : SendOutcome::accepted;
    if (outcome == SendOutcome::accepted) {
      if (!reply->error) {
        auto hash = chain::read_hash(reply->result);
        if (!hash) co_return hash.failure();
        if (*hash != sent.hash)
          co_return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed,
                         "eth_sendRawTransaction: the node names another hash than the transaction's");
      }
      co_return sent;
    }
    // Not accepted: the nonce is not consumed (no other was taken meanwhile), and the counter steps
    // back. A failed send: the node may or may not hold the transaction; a later nonce conflict
    // will tell.
    nextNonce_ = sent.nonce;
    if (!reply) co_return reply.failure();
    if (outcome == SendOutcome::nonce_taken && attempt < kNonceRetries) {
      // Taken only if the node's pending count is past it: "underpriced" is also a fee below the
      // pool's floor, the nonce free; the refusal is then the node's, as below.
      auto count = co_await rpc_.transaction_count(address(), "pending");
      if (!count) co_return count.failure();
      if (*count > sent.nonce) {
        nextNonce_ = *count;
        continue;
      }
    }
    co_return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed,
                   "eth_sendRawTransaction: node error " + std::to_string(reply->error->code) + ": " +
                       reply->error->message);
  }
}

http::Awaitable<Result<SentTransaction>> TransactionSender::replace(const SentTransaction& sent) {
  SentTransaction next = sent;
  auto quote = co_await rpc_.fee_quote();
  next.tx = quote ? with_replacement_fees(sent.tx, *quote) : with_bumped_fees(sent.tx);
  const chain::SignedTransaction signed_tx = chain::sign_transaction(next.tx, key_);
  next.hash = signed_tx.hash;
  auto reply = co_await rpc_.request("eth_sendRawTransaction", "[" + chain::quote(to_hex(signed_tx.raw)) + "]");
  if (!reply) co_return reply.failure();
  if (reply->error && classify(*reply->error) != SendOutcome::accepted)
    co_return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed,
                   "replacing nonce " + std::to_string(sent.nonce) + ": node error " +
                       std::to_string(reply->error->code) + ": " + reply->error->message);
  co_return next;
}

http::Awaitable<Result<chain::Receipt>> TransactionSender::wait(SentTransaction sent, WaitOptions options) {
  using clock = std::chrono::steady_clock;
  std::vector<Bytes32> hashes{sent.hash};  // the original and each replacement: any may be mined
  std::string last_error;
  const auto start = clock::now();
  auto last_send = start;

  // The receipt of whichever version was mined, if one was.
  auto find_receipt = [&]() -> http::Awaitable<std::optional<chain::Receipt>> {
    for (const auto& hash : hashes) {
      auto receipt = co_await rpc_.receipt(hash);
      if (!receipt) {
        last_error = receipt.error().to_string();
      } else if (*receipt) {
        co_return std::move(**receipt);
      }
    }
    co_return std::nullopt;
  };

  std::optional<clock::time_point> nonce_used_at;
  for (;;) {
    if (auto receipt = co_await find_receipt()) co_return std::move(*receipt);
    // None of ours is mined. If the nonce stays used up all the same, another transaction from
    // this key took it: no receipt will ever come. A node may count the nonce as used a moment
    // before it serves the receipt of our own transaction (anvil does, under load), so the verdict
    // waits for kNonceTakenGrace of polls that all find no receipt.
    const auto now = clock::now();
    if (auto mined = co_await rpc_.transaction_count(address(), "latest"); mined && *mined > sent.nonce) {
      if (!nonce_used_at) nonce_used_at = now;
      if (now - *nonce_used_at >= kNonceTakenGrace)
        co_return fail(kWaitFailed, "nonce " + std::to_string(sent.nonce) + " was mined by another transaction");
    }
    if (now - start >= options.timeout)
      co_return fail(kWaitFailed, "no receipt for " + to_hex(sent.hash) + " after " +
                                      std::to_string(options.timeout.count()) + " ms" +
                                      (last_error.empty() ? "" : " (last error: " + last_error + ")"));
    if (options.replace_after.count() > 0 && now - last_send >= options.replace_after) {
      auto next = co_await replace(sent);
      if (next) {
        sent = std::move(*next);
        hashes.push_back(sent.hash);
      } else {
        last_error = next.error().to_string();
      }
      last_send = now;
    }
    const auto remaining = options.timeout - std::chrono::duration_cast<std::chrono::milliseconds>(now - start);
    co_await http::sleep_for(std::min(options.poll, remaining));
  }
}

}  // namespace paychan::engine::evm
