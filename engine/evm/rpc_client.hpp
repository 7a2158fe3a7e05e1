// RpcClient: an Ethereum node over JSON-RPC (HTTP POST), as coroutines. Request and reply
// encoding is engine/chain/json_rpc (pure); this adds the transport, ids and typed results.
// Every reply is untrusted input: a malformed, oversized or mismatched reply becomes
// invalid_batch_settlement_evm_rpc_read_failed, a node's error object the same code with its
// message, and an execution revert invalid_batch_settlement_evm_transaction_reverted with the
// decoded reason (describe_revert) — never a crash or an escaped exception. A node that cannot be
// reached or does not answer in time is rpc_read_failed too; the detail names the HTTP cause.
// Thread-safety: calls may run concurrently from coroutines on any executor.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/result.hpp"
#include "engine/chain/json_rpc.hpp"
#include "engine/http/client.hpp"

namespace paychan::engine::evm {

// What a transaction should pay per gas (EIP-1559).
struct FeeQuote {
  U256 maxFeePerGas;
  U256 maxPriorityFeePerGas;
};

struct LogFilter {
  std::optional<Address> address;
  std::vector<std::optional<Bytes32>> topics;  // positional; nullopt matches anything
  std::uint64_t fromBlock = 0;
  std::optional<std::uint64_t> toBlock;  // nullopt: "latest"
};

class RpcClient {
 public:
  // `url`: http://host:port[/path] of the node.
  explicit RpcClient(std::string url, http::ClientOptions options = {});

  [[nodiscard]] const std::string& url() const noexcept { return url_; }

  // Any method, params as raw JSON text; returns the result's JSON text (for anvil_* and tools).
  [[nodiscard]] http::Awaitable<Result<std::string>> raw(std::string_view method, std::string_view params_json);
  // As raw(), but a node's error object is returned as data (reply.error) instead of an Error, for
  // callers that act on what the node said (the sender's "nonce too low").
  [[nodiscard]] http::Awaitable<Result<chain::RpcReply>> request(std::string_view method,
                                                                std::string_view params_json);

  [[nodiscard]] http::Awaitable<Result<std::uint64_t>> chain_id();
  [[nodiscard]] http::Awaitable<Result<std::uint64_t>> block_number();
  [[nodiscard]] http::Awaitable<Result<chain::Block>> latest_block();
  // eth_call at "latest", with at most `gas` if given. A revert:
  // invalid_batch_settlement_evm_transaction_reverted, detail = reason.
  [[nodiscard]] http::Awaitable<Result<Bytes>> call(const Address& to, ByteView data,
                                                   std::optional<Address> from = std::nullopt,
                                                   std::optional<std::uint64_t> gas = std::nullopt);
  // Several eth_calls at "latest" to `to` in one JSON-RPC batch, so one round trip; the results in
  // order, each as call() gives it (the first failure is the batch's). A node that answers a batch
  // with one object (it takes no batches) gets the calls one by one.
  [[nodiscard]] http::Awaitable<Result<std::vector<Bytes>>> calls(const Address& to, std::vector<Bytes> data);
  // `account`'s code and an eth_call to it at "latest" in one JSON-RPC batch (one round trip; one
  // by one for a node that takes no batches). The call's own outcome, a revert say, is kept apart:
  // whether it matters depends on the code.
  struct CodeAndCall {
    Bytes code;
    Result<Bytes> call;
  };
  [[nodiscard]] http::Awaitable<Result<CodeAndCall>> code_and_call(const Address& account, ByteView data);
  // eth_estimateGas; a revert as call().
  [[nodiscard]] http::Awaitable<Result<std::uint64_t>> estimate_gas(const Address& from, const std::optional<Address>& to,
                                                                  ByteView data, const U256& value = {});
  // maxPriorityFeePerGas from eth_maxPriorityFeePerGas (fallback 1 gwei), maxFeePerGas =
  // 2 × the latest base fee + priority.
  [[nodiscard]] http::Awaitable<Result<FeeQuote>> fee_quote();
  // eth_getTransactionCount at `block` ("pending" or "latest").
  [[nodiscard]] http::Awaitable<Result<std::uint64_t>> transaction_count(const Address& account,
                                                                       std::string_view block = "pending");
  [[nodiscard]] http::Awaitable<Result<Bytes32>> send_raw_transaction(ByteView raw);
  // nullopt while not mined.
  [[nodiscard]] http::Awaitable<Result<std::optional<chain::Receipt>>> receipt(const Bytes32& txHash);
  [[nodiscard]] http::Awaitable<Result<std::vector<chain::Log>>> logs(const LogFilter& filter);
  [[nodiscard]] http::Awaitable<Result<Bytes>> code(const Address& account);
  [[nodiscard]] http::Awaitable<Result<U256>> balance(const Address& account);

 private:
  // POSTs `body`; the reply's body when the node answered 200. `what` names it in errors.
  http::Awaitable<Result<std::string>> post(std::string_view what, std::string body);
  // The replies to `calls`, in their order, from one JSON-RPC batch; one request each for a node
  // that takes no batches (it answers a batch with one object), and from then on without asking it
  // again. `what` names it in errors.
  http::Awaitable<Result<std::vector<chain::RpcReply>>> batch(std::string_view what, std::vector<chain::RpcCall> calls);

  std::string url_;
  http::HttpClient http_;
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> batches_refused_{false};  // the node answered a batch with one object
};

}  // namespace paychan::engine::evm
