// The agent's timed withdrawal (spec: the payer's exit without the server's cooperation): start
// it with initiateWithdraw for everything still unclaimed in a channel, stop signing on the
// channel, and after the channel's withdrawDelay take back with finalizeWithdraw whatever the
// provider has not claimed by then (the provider may still claim the vouchers it holds during the
// delay: that is what the delay is for).
//
// The chain is the journal: both steps first read the channel on chain, so a withdrawal already
// pending (sent by an earlier run that crashed or lost its answer) is adopted rather than sent
// twice, and a finalize that already happened is recognized. The local record is written before
// initiateWithdraw leaves (withdrawAmount set, withdrawInitiatedAt 0: "being initiated"), so no
// voucher is signed on the channel from then on.
// Thread-safety: as ClientStore and ChannelChain; one withdrawal step per channel at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/client/channel_chain.hpp"
#include "persistence/client_store.hpp"

namespace paychan::engine::client {

using StepLog = std::function<void(std::string_view)>;

struct WithdrawalStatus {
  Uint128 amount = 0;               // requested on chain (finalize pays at most what is still unclaimed)
  std::uint64_t initiatedAt = 0;    // block time
  std::uint64_t finalizableAt = 0;  // initiatedAt + withdrawDelay
  bool sent = false;                // this call sent initiateWithdraw (false: it was pending already)
};

struct FinalizedWithdrawal {
  Uint128 paidOut = 0;  // returned to the payer
  Uint128 balance = 0;  // left in the channel (claimed by the provider, not yet swept)
  Bytes32 transaction{};
};

// Initiates the withdrawal of everything unclaimed in `channelId` (a channel in `store`), or
// adopts the one already pending. Errors: invalid_payload (unknown channel), invalid_network (the
// node serves another chain), withdrawal_nothing_left (nothing unclaimed), ChannelChain's.
[[nodiscard]] Result<WithdrawalStatus> initiate_withdrawal(persistence::ClientStore& store, ChannelChain& chain,
                                                           const Bytes32& channelId, const StepLog& log = {});

// Finalizes the pending withdrawal of `channelId` once its delay has run out on chain.
// Errors: withdrawal_not_finalizable (detail: "finalizable at <UTC time>, in N s"),
// withdrawal_not_pending (nothing pending on chain; the local record is brought up to date),
// and as initiate_withdrawal.
[[nodiscard]] Result<FinalizedWithdrawal> finalize_withdrawal(persistence::ClientStore& store, ChannelChain& chain,
                                                              const Bytes32& channelId, const StepLog& log = {});

// "2025-05-01 12:00:00 UTC" for unix seconds.
[[nodiscard]] std::string utc_time(std::uint64_t unixSeconds);

}  // namespace paychan::engine::client
