#include "engine/chain/json_rpc.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "channel/hex.hpp"
#include "protocol/json_depth.hpp"

namespace paychan::engine::chain {
namespace {

constexpr std::size_t kMaxReply = 16 << 20;  // a getLogs reply over 16 MiB is refused, not parsed

Failure rpc_fail(std::string detail) {
  return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, std::move(detail));
}

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

Result<rapidjson::Document> parse(std::string_view json) {
  if (json.size() > kMaxReply) return rpc_fail("reply exceeds " + std::to_string(kMaxReply) + " bytes");
  if (!protocol::json_depth_within(json)) return rpc_fail("reply nests too deeply");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag>(json.data(), json.size());
  if (doc.HasParseError()) return rpc_fail("reply is not JSON");
  return doc;
}

std::string_view string_of(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// Quantities are "0x" + up to 64 hex digits ("0x0" for zero). Leading zeros are tolerated: some
// nodes pad, and they change nothing.
Result<U256> quantity(const rapidjson::Value& v, std::string_view field) {
  if (!v.IsString()) return rpc_fail(std::string{field} + " is not a hex quantity");
  const std::string_view s = string_of(v);
  if (s.size() < 3 || s.size() > 66 || s[0] != '0' || s[1] != 'x')
    return rpc_fail(std::string{field} + " is not a hex quantity");
  std::string padded = "0x" + std::string(64 - (s.size() - 2), '0');
  padded.append(s.substr(2));
  auto be = fixed_from_hex<32>(padded);
  if (!be) return rpc_fail(std::string{field} + " is not a hex quantity");
  return U256::from_be(*be);
}

Result<std::uint64_t> small_quantity(const rapidjson::Value& v, std::string_view field) {
  auto q = quantity(v, field);
  if (!q) return q.failure();
  auto small = q->to_uint128();
  if (!small || *small > UINT64_MAX) return rpc_fail(std::string{field} + " out of range");
  return static_cast<std::uint64_t>(*small);
}

const rapidjson::Value* member(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  const auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

Result<Log> log_of(const rapidjson::Value& v) {
  const auto* address = member(v, "address");
  const auto* topics = member(v, "topics");
  const auto* data = member(v, "data");
  if (address == nullptr || !address->IsString() || topics == nullptr || !topics->IsArray() || data == nullptr ||
      !data->IsString() || topics->Size() > 4)
    return rpc_fail("malformed log");
  Log log;
  auto a = parse_address(string_of(*address));
  if (!a) return rpc_fail("malformed log address");
  log.address = *a;
  for (const auto& t : topics->GetArray()) {
    if (!t.IsString()) return rpc_fail("malformed log topic");
    auto topic = fixed_from_hex<32>(string_of(t));
    if (!topic) return rpc_fail("malformed log topic");
    log.topics.push_back(*topic);
  }
  auto bytes = bytes_from_hex(string_of(*data));
  if (!bytes) return rpc_fail("malformed log data");
  log.data = std::move(*bytes);
  // Pending logs carry null here; mined ones a block number and the transaction's hash.
  if (const auto* block = member(v, "blockNumber"); block != nullptr && !block->IsNull()) {
    auto n = small_quantity(*block, "log blockNumber");
    if (!n) return n.failure();
    log.blockNumber = *n;
  }
  if (const auto* hash = member(v, "transactionHash"); hash != nullptr && !hash->IsNull()) {
    if (!hash->IsString()) return rpc_fail("malformed log transactionHash");
    auto h = fixed_from_hex<32>(string_of(*hash));
    if (!h) return rpc_fail("malformed log transactionHash");
    log.transactionHash = *h;
  }
  return log;
}

// A reply object's id; 0 (never one paychan sends) when it has none or a malformed one.
std::uint64_t reply_id(const rapidjson::Value& reply) {
  const auto* id = member(reply, "id");
  return id != nullptr && id->IsUint64() ? id->GetUint64() : 0;
}

// A reply object's result, or the node's error object.
Result<RpcReply> reply_of(const rapidjson::Value& obj) {
  RpcReply reply;
  if (const auto* error = member(obj, "error")) {
    RpcError e;
    if (const auto* code = member(*error, "code"); code != nullptr && code->IsInt64()) e.code = code->GetInt64();
    if (const auto* msg = member(*error, "message"); msg != nullptr && msg->IsString())
      e.message = std::string{string_of(*msg)}.substr(0, 1024);
    if (const auto* data = member(*error, "data"); data != nullptr && data->IsString())
      if (auto bytes = bytes_from_hex(string_of(*data), 64 << 10)) e.revertData = std::move(*bytes);
    reply.error = std::move(e);
    return reply;
  }
  const auto* result = member(obj, "result");
  if (result == nullptr) return rpc_fail("reply has neither result nor error");
  reply.result = to_json(*result);
  return reply;
}

}  // namespace

std::string quote(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

std::string to_quantity(const U256& v) {
  const std::string full = to_hex(v.to_be());  // "0x" + 64 digits
  const auto first = full.find_first_not_of('0', 2);
  return first == std::string::npos ? "0x0" : "0x" + full.substr(first);
}

std::string rpc_request(std::uint64_t id, std::string_view method, std::string_view params_json) {
  std::string out = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":)" + quote(method) +
                    R"(,"params":)";
  out += params_json;
  out += '}';
  return out;
}

std::string call_params(const Address& to, ByteView data, std::string_view block, const std::optional<Address>& from,
                        std::optional<std::uint64_t> gas) {
  std::string out = "[{";
  if (from) out += R"("from":)" + quote(to_hex(from->bytes)) + ",";
  if (gas) out += R"("gas":)" + quote(to_quantity(U256{Uint128{*gas}})) + ",";
  out += R"("to":)" + quote(to_hex(to.bytes)) + R"(,"data":)" + quote(to_hex(data)) + "}," + quote(block) + "]";
  return out;
}

Result<RpcReply> parse_rpc_reply(std::string_view body, std::uint64_t expected_id) {
  auto doc = parse(body);
  if (!doc) return doc.failure();
  if (!doc->IsObject()) return rpc_fail("reply is not a JSON object");
  if (reply_id(*doc) != expected_id) return rpc_fail("reply id does not match");
  return reply_of(*doc);
}

std::string rpc_batch_request(std::uint64_t first_id, std::span<const RpcCall> calls) {
  std::string out = "[";
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (i > 0) out += ',';
    out += rpc_request(first_id + i, calls[i].method, calls[i].params_json);
  }
  out += ']';
  return out;
}

Result<std::vector<RpcReply>> parse_rpc_batch_reply(std::string_view body, std::uint64_t first_id, std::size_t count) {
  auto doc = parse(body);
  if (!doc) return doc.failure();
  if (!doc->IsArray()) return rpc_fail("batch reply is not a JSON array");
  if (doc->Size() != count) return rpc_fail("batch reply has " + std::to_string(doc->Size()) + " replies, not " +
                                            std::to_string(count));
  // Nodes may answer a batch in any order: each reply goes to the request its id names.
  std::vector<std::optional<RpcReply>> slots(count);
  for (const auto& item : doc->GetArray()) {
    if (!item.IsObject()) return rpc_fail("batch reply holds a non-object");
    const std::uint64_t id = reply_id(item);
    if (id < first_id || id - first_id >= count || slots[id - first_id])
      return rpc_fail("batch reply ids do not match the requests");
    auto reply = reply_of(item);
    if (!reply) return reply.failure();
    slots[id - first_id] = std::move(*reply);
  }
  std::vector<RpcReply> out;
  out.reserve(count);
  for (auto& slot : slots) out.push_back(std::move(*slot));
  return out;
}

Result<U256> read_quantity(std::string_view result_json) {
  auto doc = parse(result_json);
  if (!doc) return doc.failure();
  return quantity(*doc, "result");
}

Result<Bytes> read_data(std::string_view result_json, std::size_t max_bytes) {
  auto doc = parse(result_json);
  if (!doc) return doc.failure();
  if (!doc->IsString()) return rpc_fail("result is not hex data");
  auto bytes = bytes_from_hex(string_of(*doc), max_bytes);
  if (!bytes) return rpc_fail("result is not hex data: " + bytes.error().detail);
  return bytes;
}

Result<Bytes32> read_hash(std::string_view result_json) {
  auto doc = parse(result_json);
  if (!doc) return doc.failure();
  if (!doc->IsString()) return rpc_fail("result is not a hash");
  auto h = fixed_from_hex<32>(string_of(*doc));
  if (!h) return rpc_fail("result is not a 32-byte hash");
  return h;
}

Result<std::optional<Receipt>> read_receipt(std::string_view result_json) {
  auto doc = parse(result_json);
  if (!doc) return doc.failure();
  if (doc->IsNull()) return std::optional<Receipt>{};
  const auto* status = member(*doc, "status");
  const auto* hash = member(*doc, "transactionHash");
  const auto* block = member(*doc, "blockNumber");
  const auto* gas = member(*doc, "gasUsed");
  const auto* logs = member(*doc, "logs");
  if (status == nullptr || hash == nullptr || !hash->IsString() || block == nullptr || gas == nullptr ||
      logs == nullptr || !logs->IsArray())
    return rpc_fail("malformed receipt");
  Receipt r;
  auto s = small_quantity(*status, "status");
  auto b = small_quantity(*block, "blockNumber");
  auto g = small_quantity(*gas, "gasUsed");
  auto h = fixed_from_hex<32>(string_of(*hash));
  if (!s || !b || !g || !h) return rpc_fail("malformed receipt field");
  r.success = *s == 1;
  r.blockNumber = *b;
  r.gasUsed = *g;
  r.transactionHash = *h;
  if (const auto* price = member(*doc, "effectiveGasPrice")) {
    auto p = quantity(*price, "effectiveGasPrice");
    if (!p) return p.failure();
    r.effectiveGasPrice = *p;
  }
  for (const auto& l : logs->GetArray()) {
    auto log = log_of(l);
    if (!log) return log.failure();
    r.logs.push_back(std::move(*log));
  }
  return std::optional<Receipt>{std::move(r)};
}

Result<std::vector<Log>> read_logs(std::string_view result_json, std::size_t max_logs) {
  auto doc = parse(result_json);
  if (!doc) return doc.failure();
  if (!doc->IsArray()) return rpc_fail("logs result is not an array");
  if (doc->Size() > max_logs) return rpc_fail("more than " + std::to_string(max_logs) + " logs");
  std::vector<Log> logs;
  logs.reserve(doc->Size());
  for (const auto& l : doc->GetArray()) {
    auto log = log_of(l);
    if (!log) return log.failure();
    logs.push_back(std::move(*log));
  }
  return logs;
}

Result<Block> read_block(std::string_view result_json) {
  auto doc = parse(result_json);
  if (!doc) return doc.failure();
  const auto* number = member(*doc, "number");
  const auto* timestamp = member(*doc, "timestamp");
  if (number == nullptr || timestamp == nullptr) return rpc_fail("malformed block");
  auto n = small_quantity(*number, "number");
  auto t = small_quantity(*timestamp, "timestamp");
  if (!n || !t) return rpc_fail("malformed block field");
  Block block{*n, *t, U256{}};
  if (const auto* base = member(*doc, "baseFeePerGas")) {
    auto fee = quantity(*base, "baseFeePerGas");
    if (!fee) return fee.failure();
    block.baseFeePerGas = *fee;
  }
  return block;
}

}  // namespace paychan::engine::chain
