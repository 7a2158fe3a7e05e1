#include "engine/evm/rpc_client.hpp"


#include "channel/hex.hpp"
#include "engine/chain/abi.hpp"

namespace paychan::engine::evm {
namespace {

constexpr auto kReadFailed = ErrorCode::invalid_batch_settlement_evm_rpc_read_failed;
constexpr Uint128 kDefaultPriorityFee = 1'000'000'000;  // 1 gwei, when the node has no opinion

Failure read_failed(std::string_view method, std::string_view detail) {
  return fail(kReadFailed, std::string(method) + ": " + std::string(detail));
}

// A node's error object: a revert (JSON-RPC code 3, or geth's/anvil's "execution reverted"
// message) carries the contract's reason; anything else is the node refusing the call.
Failure node_error(std::string_view method, const chain::RpcError& e) {
  if (e.code == 3 || e.message.find("revert") != std::string::npos)
    return fail(ErrorCode::invalid_batch_settlement_evm_transaction_reverted,
                e.revertData.empty() ? e.message : chain::describe_revert(e.revertData));
  return read_failed(method, "node error " + std::to_string(e.code) + ": " + e.message);
}

Result<std::uint64_t> small(const Result<U256>& q, std::string_view what) {
  if (!q) return q.failure();
  const auto v = q->to_uint128();
  if (!v || *v > UINT64_MAX) return fail(kReadFailed, std::string(what) + " out of range");
  return static_cast<std::uint64_t>(*v);
}

Result<Uint128> fee(const U256& v, std::string_view what) {
  const auto f = v.to_uint128();
  if (!f) return fail(kReadFailed, std::string(what) + " above 2^128");
  return *f;
}

// A reply's result; the node's error object as an Error.
Result<std::string> result_of(std::string_view method, chain::RpcReply reply) {
  if (reply.error) return node_error(method, *reply.error);
  return std::move(reply.result);
}

// A reply's result as bytes (eth_call, eth_getCode); the node's error object as an Error.
Result<Bytes> data_of(std::string_view method, chain::RpcReply reply) {
  auto result = result_of(method, std::move(reply));
  if (!result) return result.failure();
  return chain::read_data(*result);
}

// The params of a read of `account` at "latest" (eth_getCode, eth_getBalance).
std::string account_params(const Address& account) {
  return "[" + chain::quote(to_hex(account.bytes)) + R"(,"latest"])";
}

// A batch is answered with an array; a node that takes no batches answers with one object.
bool starts_array(std::string_view body) {
  const auto first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && body[first] == '[';
}

// The transaction object of eth_estimateGas: {"from","to"?,"data","value"}.
std::string tx_object(const Address& from, const std::optional<Address>& to, ByteView data, const U256& value) {
  std::string out = R"({"from":)" + chain::quote(to_hex(from.bytes));
  if (to) out += R"(,"to":)" + chain::quote(to_hex(to->bytes));
  out += R"(,"data":)" + chain::quote(to_hex(data)) + R"(,"value":)" + chain::quote(chain::to_quantity(value)) + "}";
  return out;
}

}  // namespace

RpcClient::RpcClient(std::string url, http::ClientOptions options) : url_(std::move(url)), http_(options) {}

http::Awaitable<Result<std::string>> RpcClient::post(std::string_view what, std::string body) {
  auto response = co_await http_.request(http::ClientRequest::post(url_, std::move(body)));
  if (!response) co_return read_failed(what, response.error().to_string());
  if (response->status != 200) co_return read_failed(what, "HTTP status " + std::to_string(response->status));
  co_return std::move(response->body);
}

http::Awaitable<Result<chain::RpcReply>> RpcClient::request(std::string_view method, std::string_view params_json) {
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  auto body = co_await post(method, chain::rpc_request(id, method, params_json));
  if (!body) co_return body.failure();
  auto reply = chain::parse_rpc_reply(*body, id);
  if (!reply) co_return read_failed(method, reply.error().detail);
  co_return std::move(*reply);
}

http::Awaitable<Result<std::string>> RpcClient::raw(std::string_view method, std::string_view params_json) {
  auto reply = co_await request(method, params_json);
  if (!reply) co_return reply.failure();
  co_return result_of(method, std::move(*reply));
}

http::Awaitable<Result<std::uint64_t>> RpcClient::chain_id() {
  auto result = co_await raw("eth_chainId", "[]");
  if (!result) co_return result.failure();
  co_return small(chain::read_quantity(*result), "chain id");
}

http::Awaitable<Result<std::uint64_t>> RpcClient::block_number() {
  auto result = co_await raw("eth_blockNumber", "[]");
  if (!result) co_return result.failure();
  co_return small(chain::read_quantity(*result), "block number");
}

http::Awaitable<Result<chain::Block>> RpcClient::latest_block() {
  auto result = co_await raw("eth_getBlockByNumber", R"(["latest",false])");
  if (!result) co_return result.failure();
  co_return chain::read_block(*result);
}

http::Awaitable<Result<Bytes>> RpcClient::call(const Address& to, ByteView data, std::optional<Address> from,
                                               std::optional<std::uint64_t> gas) {
  auto result = co_await raw("eth_call", chain::call_params(to, data, "latest", from, gas));
  if (!result) co_return result.failure();
  co_return chain::read_data(*result);
}

http::Awaitable<Result<std::vector<chain::RpcReply>>> RpcClient::batch(std::string_view what,
                                                                       std::vector<chain::RpcCall> calls) {
  if (!batches_refused_.load(std::memory_order_relaxed)) {
    const std::uint64_t first = next_id_.fetch_add(calls.size(), std::memory_order_relaxed);
    auto body = co_await post(what, chain::rpc_batch_request(first, calls));
    if (!body) co_return body.failure();
    if (starts_array(*body)) {
      auto replies = chain::parse_rpc_batch_reply(*body, first, calls.size());
      if (!replies) co_return read_failed(what, replies.error().detail);
      co_return std::move(*replies);
    }
    batches_refused_.store(true, std::memory_order_relaxed);
  }
  std::vector<chain::RpcReply> replies;
  for (const chain::RpcCall& c : calls) {
    auto reply = co_await request(c.method, c.params_json);
    if (!reply) co_return reply.failure();
    replies.push_back(std::move(*reply));
  }
  co_return replies;
}

http::Awaitable<Result<std::vector<Bytes>>> RpcClient::calls(const Address& to, std::vector<Bytes> data) {
  std::vector<chain::RpcCall> requests;
  for (const Bytes& d : data) requests.push_back({"eth_call", chain::call_params(to, d)});
  auto replies = co_await batch("eth_call batch", std::move(requests));
  if (!replies) co_return replies.failure();
  std::vector<Bytes> out;
  for (auto& reply : *replies) {
    auto bytes = data_of("eth_call", std::move(reply));
    if (!bytes) co_return bytes.failure();
    out.push_back(std::move(*bytes));
  }
  co_return out;
}

http::Awaitable<Result<RpcClient::CodeAndCall>> RpcClient::code_and_call(const Address& account, ByteView data) {
  std::vector<chain::RpcCall> requests;
  requests.push_back({"eth_getCode", account_params(account)});
  requests.push_back({"eth_call", chain::call_params(account, data)});
  auto replies = co_await batch("eth_getCode and eth_call batch", std::move(requests));
  if (!replies) co_return replies.failure();
  auto code = data_of("eth_getCode", std::move((*replies)[0]));
  if (!code) co_return code.failure();
  co_return CodeAndCall{std::move(*code), data_of("eth_call", std::move((*replies)[1]))};
}

http::Awaitable<Result<std::uint64_t>> RpcClient::estimate_gas(const Address& from, const std::optional<Address>& to,
                                                             ByteView data, const U256& value) {
  auto result = co_await raw("eth_estimateGas", "[" + tx_object(from, to, data, value) + "]");
  if (!result) co_return result.failure();
  co_return small(chain::read_quantity(*result), "gas estimate");
}

http::Awaitable<Result<FeeQuote>> RpcClient::fee_quote() {
  Uint128 priority = kDefaultPriorityFee;
  // Some nodes do not implement eth_maxPriorityFeePerGas; then 1 gwei is the tip.
  if (auto tip = co_await raw("eth_maxPriorityFeePerGas", "[]")) {
    auto q = chain::read_quantity(*tip);
    if (!q) co_return q.failure();
    auto p = fee(*q, "priority fee");
    if (!p) co_return p.failure();
    priority = *p;
  }
  auto block = co_await latest_block();
  if (!block) co_return block.failure();
  auto base = fee(block->baseFeePerGas, "base fee");
  if (!base) co_return base.failure();
  // Twice the base fee: the transaction stays includable through six full blocks in a row
  // (each raises the base fee by at most 12.5 %).
  const auto doubled = checked_add(*base, *base);
  const auto max_fee = doubled ? checked_add(*doubled, priority) : std::nullopt;
  if (!max_fee) co_return fail(kReadFailed, "fee quote overflows");
  FeeQuote quote{U256{*max_fee}, U256{priority}};
  co_return quote;
}

http::Awaitable<Result<std::uint64_t>> RpcClient::transaction_count(const Address& account, std::string_view block) {
  auto result = co_await raw("eth_getTransactionCount",
                             "[" + chain::quote(to_hex(account.bytes)) + "," + chain::quote(block) + "]");
  if (!result) co_return result.failure();
  co_return small(chain::read_quantity(*result), "transaction count");
}

http::Awaitable<Result<Bytes32>> RpcClient::send_raw_transaction(ByteView raw_tx) {
  auto result = co_await raw("eth_sendRawTransaction", "[" + chain::quote(to_hex(raw_tx)) + "]");
  if (!result) co_return result.failure();
  co_return chain::read_hash(*result);
}

http::Awaitable<Result<std::optional<chain::Receipt>>> RpcClient::receipt(const Bytes32& txHash) {
  auto result = co_await raw("eth_getTransactionReceipt", "[" + chain::quote(to_hex(txHash)) + "]");
  if (!result) co_return result.failure();
  co_return chain::read_receipt(*result);
}

http::Awaitable<Result<std::vector<chain::Log>>> RpcClient::logs(const LogFilter& filter) {
  std::string params = "[{";
  if (filter.address) params += R"("address":)" + chain::quote(to_hex(filter.address->bytes)) + ",";
  params += R"("topics":[)";
  for (std::size_t i = 0; i < filter.topics.size(); ++i) {
    if (i > 0) params += ',';
    params += filter.topics[i] ? chain::quote(to_hex(*filter.topics[i])) : "null";
  }
  params += R"(],"fromBlock":)" + chain::quote(chain::to_quantity(U256{filter.fromBlock})) + R"(,"toBlock":)" +
            chain::quote(filter.toBlock ? chain::to_quantity(U256{*filter.toBlock}) : "latest") + "}]";
  auto result = co_await raw("eth_getLogs", params);
  if (!result) co_return result.failure();
  co_return chain::read_logs(*result);
}

http::Awaitable<Result<Bytes>> RpcClient::code(const Address& account) {
  auto result = co_await raw("eth_getCode", account_params(account));
  if (!result) co_return result.failure();
  co_return chain::read_data(*result);
}

http::Awaitable<Result<U256>> RpcClient::balance(const Address& account) {
  auto result = co_await raw("eth_getBalance", account_params(account));
  if (!result) co_return result.failure();
  co_return chain::read_quantity(*result);
}

}  // namespace paychan::engine::evm
