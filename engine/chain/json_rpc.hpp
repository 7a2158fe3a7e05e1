// Ethereum JSON-RPC messages: building requests and reading replies, apart from the transport.
// Every reply is untrusted input: sizes are capped, every field is type- and range-checked, and a
// node's error object becomes an Error carrying its message (and revert reason when present).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/result.hpp"

namespace paychan::engine::chain {

// A request body: {"jsonrpc":"2.0","id":ID,"method":METHOD,"params":PARAMS}; params is raw JSON.
[[nodiscard]] std::string rpc_request(std::uint64_t id, std::string_view method, std::string_view params_json);

// JSON for the params of common calls.
// `gas`: the most the call may use (else the node's own cap, often tens of millions).
[[nodiscard]] std::string call_params(const Address& to, ByteView data, std::string_view block = "latest",
                                      const std::optional<Address>& from = std::nullopt,
                                      std::optional<std::uint64_t> gas = std::nullopt);
[[nodiscard]] std::string quote(std::string_view s);  // a JSON string literal of a hex/ASCII value
// A quantity as nodes spell it: "0x" + hex digits without leading zeros ("0x0" for zero).
[[nodiscard]] std::string to_quantity(const U256& v);

// The raw JSON of "result" from a reply, checked for id and for an "error" member.
// Errors: invalid_batch_settlement_evm_rpc_read_failed (malformed, oversized, wrong id, node error).
struct RpcError {
  std::int64_t code = 0;
  std::string message;
  Bytes revertData;  // error.data when the node returned revert bytes
};
struct RpcReply {
  std::string result;  // compact JSON of the result member
  std::optional<RpcError> error;
};
[[nodiscard]] Result<RpcReply> parse_rpc_reply(std::string_view body, std::uint64_t expected_id);

// A JSON-RPC batch: several requests in one body, answered in one reply (one round trip).
struct RpcCall {
  std::string method;
  std::string params_json;
};
// [request, …] with ids first_id, first_id + 1, … in the calls' order.
[[nodiscard]] std::string rpc_batch_request(std::uint64_t first_id, std::span<const RpcCall> calls);
// The replies in the requests' order, whichever order the node sent them in; each as
// parse_rpc_reply gives it. Errors: rpc_read_failed (not an array, not `count` replies, an id
// missing, repeated or not asked).
[[nodiscard]] Result<std::vector<RpcReply>> parse_rpc_batch_reply(std::string_view body, std::uint64_t first_id,
                                                                  std::size_t count);

// Typed readers for results (the `result` JSON text of RpcReply).
[[nodiscard]] Result<U256> read_quantity(std::string_view result_json);  // "0x1a"
[[nodiscard]] Result<Bytes> read_data(std::string_view result_json, std::size_t max_bytes = 1 << 20);  // "0x…"
[[nodiscard]] Result<Bytes32> read_hash(std::string_view result_json);

struct Log {
  Address address;
  std::vector<Bytes32> topics;
  Bytes data;
  std::uint64_t blockNumber = 0;  // 0 when the node gives none (a pending log)
  Bytes32 transactionHash{};      // zero when the node gives none
};
struct Receipt {
  bool success = false;  // status 0x1
  Bytes32 transactionHash{};
  std::uint64_t blockNumber = 0;
  std::uint64_t gasUsed = 0;
  U256 effectiveGasPrice;
  std::vector<Log> logs;
};
// eth_getTransactionReceipt's result; nullopt when the node returns null (not yet mined).
[[nodiscard]] Result<std::optional<Receipt>> read_receipt(std::string_view result_json);

// eth_getLogs's result: an array of logs, at most `max_logs` of them.
[[nodiscard]] Result<std::vector<Log>> read_logs(std::string_view result_json, std::size_t max_logs = 100'000);

struct Block {
  std::uint64_t number = 0;
  std::uint64_t timestamp = 0;
  U256 baseFeePerGas;
};
[[nodiscard]] Result<Block> read_block(std::string_view result_json);

}  // namespace paychan::engine::chain
