// Multicall3's tryAggregate: several calls run in order within one eth_call or transaction. The
// facilitator uses it for a deposit from a smart wallet that is not deployed yet (ERC-6492): the
// wallet's factory call, then the deposit, so the token can ask the new wallet about the payer's
// signature. Multicall3 sits at one address on nearly every EVM chain; a local chain gets
// contracts/src/TestMulticall3.sol there (engine/evm/deployment.hpp).
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "channel/address.hpp"
#include "channel/bytes.hpp"
#include "channel/result.hpp"

namespace paychan::engine::chain {

// 0xcA11bde05977b3631167028862bE2a173976CA11
extern const Address kMulticall3Address;

// Multicall3.Call
struct MulticallCall {
  Address target;
  Bytes callData;
};

// Multicall3.Result
struct MulticallOutcome {
  bool success = false;
  Bytes returnData;  // the call's return data, or its revert data
};

// tryAggregate(bool requireSuccess, (address,bytes)[] calls): with requireSuccess, one failed
// call reverts them all.
[[nodiscard]] Bytes try_aggregate_call(bool requireSuccess, std::span<const MulticallCall> calls);

// tryAggregate's return data (untrusted: a node's reply), which must hold one outcome per call.
// Errors: rpc_read_failed (malformed, or another number of outcomes).
[[nodiscard]] Result<std::vector<MulticallOutcome>> decode_try_aggregate(ByteView returned, std::size_t calls);

}  // namespace paychan::engine::chain
