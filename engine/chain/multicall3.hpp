// Multicall3's aggregate3: several calls run in order within one eth_call or transaction, each
// allowed to fail or not. The facilitator uses it for a deposit from a smart wallet that is not
// deployed yet (ERC-6492): the wallet's factory call, then the deposit, so the token can ask the
// new wallet about the payer's signature. Multicall3 sits at one address on nearly every EVM chain;
// a local chain gets contracts/src/TestMulticall3.sol there (engine/evm/deployment.hpp).
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

// Multicall3.Call3: a call that fails reverts the whole unless `allowFailure`.
struct Call3 {
  Address target;
  bool allowFailure = false;
  Bytes callData;
};

// Multicall3.Result
struct Call3Outcome {
  bool success = false;
  Bytes returnData;  // the call's return data, or its revert data
};

// aggregate3((address,bool,bytes)[] calls)
[[nodiscard]] Bytes aggregate3_call(std::span<const Call3> calls);

// aggregate3's return data (untrusted: a node's reply), which must hold one outcome per call.
// Errors: rpc_read_failed (malformed, or another number of outcomes).
[[nodiscard]] Result<std::vector<Call3Outcome>> decode_aggregate3(ByteView returned, std::size_t calls);

}  // namespace paychan::engine::chain
