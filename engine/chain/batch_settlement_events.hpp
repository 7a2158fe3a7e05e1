// Reading the batch-settlement contract's events out of a transaction receipt: what a settle swept
// and what a refund returned, as the contract itself reports it (the amounts it actually moved,
// after its own caps), rather than as requested.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <span>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "engine/chain/json_rpc.hpp"

namespace paychan::engine::chain {

// Settled(address indexed receiver, address indexed token, address indexed sender, uint128 amount)
// emitted by `contract` for (receiver, token). nullopt: no such event (settle of nothing).
// Error: invalid_batch_settlement_evm_rpc_read_failed for a matching log with malformed data.
[[nodiscard]] Result<std::optional<Uint128>> settled_amount(std::span<const Log> logs, const Address& contract,
                                                           const Address& receiver, const Address& token);
// Refunded(bytes32 indexed channelId, address indexed sender, uint128 amount) for `channelId`.
// nullopt: none (a refund capped to zero emits nothing). Error as above.
[[nodiscard]] Result<std::optional<Uint128>> refunded_amount(std::span<const Log> logs, const Address& contract,
                                                            const Bytes32& channelId);

}  // namespace paychan::engine::chain
