// The payer's approval of Permit2 for a token: what deposits by Permit2 need first.
//
// A provider whose token has no ERC-3009 offers deposits by Permit2 (extra.assetTransferMethod
// "permit2"). The payer then signs a permit for each deposit (payloads.hpp), and Permit2 moves the
// tokens only with such a permit; but Permit2 itself needs the payer's ERC-20 allowance, which only
// a transaction from the payer's account gives. Since every later transfer still needs a signed
// permit, the usual approval is the maximum, once per token and chain.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/client/channel_chain.hpp"
#include "engine/client/withdrawal.hpp"

namespace paychan::engine::client {

// 2^256 - 1: the allowance ERC-20 tokens treat as unlimited (never spent down).
[[nodiscard]] U256 max_allowance() noexcept;

struct Permit2Approval {
  U256 before;                        // Permit2's allowance of the token found on chain
  U256 after;                         // read back once done (`before` when it covered the amount)
  std::vector<Bytes32> transactions;  // sent and mined, in order (none when `before` covered the amount)
};

// Makes what Permit2 may move of `token` from the chain's sender (the payer) cover `amount`: sends
// nothing when it already does; otherwise approve(Permit2, amount), after approve(Permit2, 0)
// when an allowance short of it is left (tokens such as USDT refuse to change one non-zero
// allowance into another). The sender pays the gas. Asked for max_allowance(), an allowance of at
// least 2^96 - 1 covers it (tokens such as UNI hold no more). `log` hears each call before it is
// sent and its hash once mined. Errors: ChannelChain's (rpc_read_failed, transaction_reverted,
// wait_for_receipt_failed: the transaction may still be mined), the zeroing's hash named when the
// raise after it failed (running it again picks up from there); permit2_allowance_required when
// the token holds less than `amount` after its approve (a token that answers false).
[[nodiscard]] Result<Permit2Approval> approve_permit2(ChannelChain& chain, const Address& token, const U256& amount,
                                                      const StepLog& log = {});

}  // namespace paychan::engine::client
