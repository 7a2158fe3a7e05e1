#include "engine/settlement/claim_plan.hpp"

#include <algorithm>

#include "channel/hex.hpp"
#include "channel/server_rules.hpp"

namespace paychan::engine::settlement {
namespace {

std::uint64_t withdrawal_deadline(const ChannelState& c) {
  if (c.onchain.withdrawRequestedAt == 0) return 0;
  return c.onchain.withdrawRequestedAt + c.config.withdrawDelay;
}

std::string thin_margin_warning(const PlannedClaim& p, std::uint64_t now) {
  const std::string channel = to_hex(p.channelId).substr(0, 18);
  if (p.withdrawalDeadline <= now)
    return "channel " + channel + ": withdrawal may already be finalizable; claiming " + to_decimal(p.amount) +
           " now, it is lost if the payer finalizes first";
  return "channel " + channel + ": withdrawal finalizable in " + std::to_string(p.withdrawalDeadline - now) +
         " s; claiming " + to_decimal(p.amount) + " first";
}

}  // namespace

std::size_t claim_row_calldata_bytes(const protocol::VoucherClaimRow& row) noexcept {
  constexpr std::size_t kWord = 32;
  const std::size_t signature = row.signature.bytes().size();
  return kWord * (1 + 8 + 1 + 1 + 1) + (signature + kWord - 1) / kWord * kWord;
}

ClaimPlan plan_claims(std::span<const ChannelState> channels, const ClaimPolicy& policy, const Bytes32& domainSeparator,
                      std::uint64_t now) {
  ClaimPlan plan;
  std::vector<PlannedClaim> chosen;
  for (const ChannelState& c : channels) {
    if (c.chargedCumulativeAmount <= c.onchain.totalClaimed) continue;
    // The store keeps the latest voucher, which covers every charge (charged ≤ signed); a row that
    // breaks this would revert the whole batch on chain, so it is never planned.
    if (c.signedMaxClaimable < c.chargedCumulativeAmount) continue;
    // The contract claims no more than the channel holds, and one row above that reverts the whole
    // batch: a channel charged beyond its balance (its payer withdrew what was unclaimed) is
    // claimed up to it, and the rest is reported lost.
    const Uint128 claimable = std::min(c.chargedCumulativeAmount, c.onchain.balance);
    if (claimable < c.chargedCumulativeAmount)
      plan.warnings.push_back("channel " + to_hex(c.channelId).substr(0, 18) + ": charged " +
                              to_decimal(c.chargedCumulativeAmount) + " but holds " + to_decimal(c.onchain.balance) +
                              "; " + to_decimal(c.chargedCumulativeAmount - claimable) + " cannot be claimed");
    if (claimable <= c.onchain.totalClaimed) continue;
    PlannedClaim p{c.channelId, protocol::VoucherClaimRow{c.config, c.signedMaxClaimable, {}, claimable},
                   claimable - c.onchain.totalClaimed, withdrawal_deadline(c)};
    if (p.withdrawalDeadline == 0 && p.amount < policy.minUnclaimed) {
      ++plan.skipped;
      continue;
    }
    const auto signature = stored_voucher_signature(domainSeparator, c);
    if (!signature) {  // not the payer's under either v: the store was altered; the row would revert
      plan.warnings.push_back("channel " + to_hex(c.channelId).substr(0, 18) +
                              ": its stored voucher is not signed by the payerAuthorizer; not claimed");
      continue;
    }
    p.row.signature = *signature;
    if (p.withdrawalDeadline != 0 && p.withdrawalDeadline < now + policy.withdrawalWarningSeconds)
      plan.warnings.push_back(thin_margin_warning(p, now));
    chosen.push_back(std::move(p));
  }
  // Urgent first: pending withdrawals by deadline; then the largest amounts, so that a run cut
  // short (gas budget, failure) has claimed what matters most.
  std::stable_sort(chosen.begin(), chosen.end(), [](const PlannedClaim& a, const PlannedClaim& b) {
    const bool au = a.withdrawalDeadline != 0, bu = b.withdrawalDeadline != 0;
    if (au != bu) return au;
    if (au && a.withdrawalDeadline != b.withdrawalDeadline) return a.withdrawalDeadline < b.withdrawalDeadline;
    return a.amount > b.amount;
  });
  const std::size_t size = std::max<std::size_t>(policy.maxBatchSize, 1);
  std::vector<PlannedClaim> batch;
  std::size_t calldata = 0;
  for (PlannedClaim& p : chosen) {
    const std::size_t bytes = claim_row_calldata_bytes(p.row);
    if (!batch.empty() && (batch.size() == size || calldata + bytes > policy.maxBatchCalldataBytes)) {
      plan.batches.push_back(std::move(batch));
      batch.clear();
      calldata = 0;
    }
    calldata += bytes;
    batch.push_back(std::move(p));
  }
  if (!batch.empty()) plan.batches.push_back(std::move(batch));
  return plan;
}

}  // namespace paychan::engine::settlement
