#include "engine/chain/batch_settlement_events.hpp"

#include <algorithm>
#include <string_view>

#include "channel/keccak.hpp"
#include "engine/chain/abi.hpp"

namespace paychan::engine::chain {
namespace {

Bytes32 topic(std::string_view signature) { return keccak256(as_bytes(signature)); }

// The amount (first data word) of the first log from `contract` whose topics start with `topics`.
Result<std::optional<Uint128>> first_amount(std::span<const Log> logs, const Address& contract,
                                            std::initializer_list<Bytes32> topics) {
  for (const auto& log : logs) {
    if (log.address != contract || log.topics.size() < topics.size()) continue;
    if (!std::equal(topics.begin(), topics.end(), log.topics.begin())) continue;
    auto amount = AbiReader{log.data}.uint128(0);
    if (!amount)
      return fail(ErrorCode::invalid_batch_settlement_evm_rpc_read_failed, "malformed event data: " + amount.error().detail);
    return std::optional<Uint128>{*amount};
  }
  return std::optional<Uint128>{};
}

}  // namespace

Result<std::optional<Uint128>> settled_amount(std::span<const Log> logs, const Address& contract,
                                              const Address& receiver, const Address& token) {
  static const Bytes32 kSettled = topic("Settled(address,address,address,uint128)");
  return first_amount(logs, contract, {kSettled, address_word(receiver), address_word(token)});
}

Result<std::optional<Uint128>> refunded_amount(std::span<const Log> logs, const Address& contract,
                                               const Bytes32& channelId) {
  static const Bytes32 kRefunded = topic("Refunded(bytes32,address,uint128)");
  return first_amount(logs, contract, {kRefunded, channelId});
}

}  // namespace paychan::engine::chain
