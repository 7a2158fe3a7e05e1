#include "protocol/claim_batch.hpp"

#include <vector>

#include "channel/eip712.hpp"

namespace paychan::protocol {

Bytes32 claim_batch_digest(const Bytes32& domainSeparator, std::span<const VoucherClaimRow> rows) {
  std::vector<ClaimEntry> entries;
  entries.reserve(rows.size());
  for (const VoucherClaimRow& row : rows)
    entries.push_back(ClaimEntry{channel_id(domainSeparator, row.channel), row.maxClaimableAmount, row.totalClaimed});
  return paychan::claim_batch_digest(domainSeparator, entries);
}

}  // namespace paychan::protocol
