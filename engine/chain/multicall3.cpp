#include "engine/chain/multicall3.hpp"

#include <string>

#include "engine/chain/abi.hpp"

namespace paychan::engine::chain {

const Address kMulticall3Address = [] {
  Address a;
  constexpr std::uint8_t bytes[20] = {0xcA, 0x11, 0xbd, 0xe0, 0x59, 0x77, 0xb3, 0x63, 0x11, 0x67,
                                      0x02, 0x88, 0x62, 0xbE, 0x2a, 0x17, 0x39, 0x76, 0xCA, 0x11};
  for (std::size_t i = 0; i < 20; ++i) a.bytes[i] = bytes[i];
  return a;
}();

Bytes aggregate3_call(std::span<const Call3> calls) {
  std::vector<AbiValue> encoded;
  encoded.reserve(calls.size());
  for (const auto& call : calls)
    encoded.push_back(AbiValue::tuple(
        {AbiValue::address(call.target), AbiValue::boolean(call.allowFailure), AbiValue::bytes(call.callData)}));
  return encode_call("aggregate3((address,bool,bytes)[])", {AbiValue::array(std::move(encoded))});
}

Result<std::vector<Call3Outcome>> decode_aggregate3(ByteView returned, std::size_t calls) {
  // abi.encode(Result[]): the array's offset; at it, the length, then one offset per element
  // (counted from the first of them), each to a (bool, offset of bytes) tuple.
  PAYCHAN_ASSIGN(const AbiReader array, AbiReader{returned}.tail(0));
  PAYCHAN_ASSIGN(const std::uint64_t length, array.uint64(0));
  if (length != calls)
    return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed,
                "aggregate3 answered " + std::to_string(length) + " outcomes for " + std::to_string(calls) + " calls");
  PAYCHAN_ASSIGN(const AbiReader elements, array.from_word(1));
  std::vector<Call3Outcome> out(calls);
  for (std::size_t i = 0; i < calls; ++i) {
    PAYCHAN_ASSIGN(const AbiReader result, elements.tail(i));
    PAYCHAN_ASSIGN(out[i].success, result.boolean(0));
    PAYCHAN_ASSIGN(const ByteView data, result.bytes(1));
    out[i].returnData.assign(data.begin(), data.end());
  }
  return out;
}

}  // namespace paychan::engine::chain
