// The receiver authorizer's signature over a claim batch (claimWithSignature, and the claim that
// completes a refund): the EIP-712 ClaimBatch digest of the wire's claim rows.
// Thread-safety: pure functions.
#pragma once

#include <span>

#include "channel/bytes.hpp"
#include "protocol/payment_payload.hpp"

namespace paychan::protocol {

// ClaimBatch(ClaimEntry[] claims) over the rows, each entry's channelId computed from its config.
[[nodiscard]] Bytes32 claim_batch_digest(const Bytes32& domainSeparator, std::span<const VoucherClaimRow> rows);

}  // namespace paychan::protocol
