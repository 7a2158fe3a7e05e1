// Which channels the settle job claims, and in which batches: a pure function of the gate's stored
// channels, a policy and the time (spec: "Server" → claims; PROTOCOL.md §3 rule 6).
//
// A channel is claimable when the store has charged more than was claimed on chain. It is claimed
// when its unclaimed amount reaches the policy's threshold, or — always, first, and whatever the
// threshold — when a timed withdrawal is pending (the watchtower duty: an unclaimed voucher is lost
// once the withdrawal finalizes). Claim rows carry totalClaimed = chargedCumulativeAmount, the
// voucher the client signed (maxClaimableAmount ≥ charged) and its signature. The gate may have
// checked that signature against a known key, which does not check v (see verify_signature): the
// row carries the v under which the chain recovers the payerAuthorizer, one recovery per claim
// instead of one per request.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "channel/channel_state.hpp"
#include "protocol/payment_payload.hpp"

namespace paychan::engine::settlement {

struct ClaimPolicy {
  Uint128 minUnclaimed = 1;        // claim a channel once this much (atomic units) is unclaimed
  std::size_t maxBatchSize = 100;  // claim rows per transaction
  // Signature bytes per transaction: smart wallets' signatures run to kilobytes, and a node refuses
  // a transaction over 128 KiB (geth's pool). A hundred EOA rows carry 6.5 KB; a row over the
  // budget goes alone.
  std::size_t maxBatchSignatureBytes = 64 * 1024;
  // A pending withdrawal finalizing within this many seconds gets a warning: the claim may not land.
  std::uint64_t withdrawalWarningSeconds = 900;
};

struct PlannedClaim {
  Bytes32 channelId{};
  protocol::VoucherClaimRow row;
  Uint128 amount = 0;                 // newly claimed: min(charged, balance) − totalClaimed
  std::uint64_t withdrawalDeadline = 0;  // unix seconds the withdrawal can finalize; 0 if none pending
};

struct ClaimPlan {
  std::vector<std::vector<PlannedClaim>> batches;  // pending withdrawals first, soonest deadline first
  std::vector<std::string> warnings;               // thin watchtower margins, for the operator
  std::size_t skipped = 0;                         // claimable but below the threshold
};

// `domainSeparator`: the batch-settlement contract's, for the voucher digests.
[[nodiscard]] ClaimPlan plan_claims(std::span<const ChannelState> channels, const ClaimPolicy& policy,
                                    const Bytes32& domainSeparator, std::uint64_t now);

}  // namespace paychan::engine::settlement
