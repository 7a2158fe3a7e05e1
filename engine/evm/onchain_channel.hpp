// One channel as the batch-settlement contract holds it, read with its three views —
// channels(id), refundNonce(id), pendingWithdrawals(id) — in one JSON-RPC batch. Shared by the
// facilitator (its snapshots), the agent (withdrawal, recovery) and the settle job's watchtower.
// Thread-safety: as RpcClient.
#pragma once

#include "channel/channel_state.hpp"
#include "engine/chain/batch_settlement_calls.hpp"
#include "engine/evm/rpc_client.hpp"

namespace paychan::engine::evm {

struct OnchainChannel {
  Uint128 balance = 0;
  Uint128 totalClaimed = 0;
  U256 refundNonce;
  chain::PendingWithdrawal pendingWithdrawal;  // initiatedAt 0: none pending

  // Ever funded: a channel with nothing in it and nothing claimed is indistinguishable from one
  // never opened (a full refund or withdrawal of an unclaimed channel ends there too).
  [[nodiscard]] bool used() const noexcept { return balance != 0 || totalClaimed != 0; }
  // What the payer could still take back; the contract keeps balance ≥ totalClaimed.
  [[nodiscard]] Uint128 unclaimed() const noexcept { return balance > totalClaimed ? balance - totalClaimed : 0; }
  // As the scheme's rules take it.
  [[nodiscard]] OnchainChannelState state() const {
    return OnchainChannelState{balance, totalClaimed, pendingWithdrawal.initiatedAt, refundNonce};
  }
};

// Errors: rpc_read_failed (node or reply), transaction_reverted (no contract at `contract`).
[[nodiscard]] http::Awaitable<Result<OnchainChannel>> read_channel(RpcClient& rpc, const Address& contract,
                                                                   const Bytes32& channelId);

}  // namespace paychan::engine::evm
