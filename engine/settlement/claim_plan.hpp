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
  // Calldata per transaction (claim_row_calldata_bytes summed): a node refuses a transaction over
  // 128 KiB (geth's pool), and smart wallets' signatures run to kilobytes. A hundred EOA rows take
  // 48 KB; a row over the budget goes alone.
  std::size_t maxBatchCalldataBytes = 96 * 1024;
  // A pending withdrawal finalizing within this many seconds gets a warning: the claim may not land.
  std::uint64_t withdrawalWarningSeconds = 900;
};

// A row's share of a claim / claimWithSignature call's calldata: its offset in the array, the
// VoucherClaim's head (the voucher's 8 words, the signature's offset, totalClaimed), the signature's
// length word and its bytes padded to words. 480 bytes for an EOA's 65-byte signature.
[[nodiscard]] std::size_t claim_row_calldata_bytes(const protocol::VoucherClaimRow& row) noexcept;

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
