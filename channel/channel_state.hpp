// The server's per-channel state (spec: "Server: State & Forwarding" → "Per-Channel State").
// The server is its sole owner; the on-chain fields are a mirror refreshed from the facilitator.
// Thread-safety: plain value; callers serialize access per channel.
#pragma once

#include <cstdint>

#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "channel/types.hpp"

namespace paychan {

// The chain's view of a channel, as returned by the facilitator in every /verify and /settle.
struct OnchainChannelState {
  Uint128 balance = 0;
  Uint128 totalClaimed = 0;
  std::uint64_t withdrawRequestedAt = 0;  // unix seconds, 0 if no timed withdrawal is pending
  U256 refundNonce;

  friend bool operator==(const OnchainChannelState&, const OnchainChannelState&) = default;
};

struct ChannelState {
  Bytes32 channelId{};
  ChannelConfig config;
  Uint128 chargedCumulativeAmount = 0;
  Uint128 signedMaxClaimable = 0;  // maxClaimableAmount of the latest client-signed voucher
  WalletSignature signature;       // the client's signature of that voucher
  OnchainChannelState onchain;
  std::uint64_t onchainSyncedAt = 0;       // local unix seconds of the last mirror refresh
  std::uint64_t lastRequestTimestamp = 0;  // unix seconds of the last paid request

  friend bool operator==(const ChannelState&, const ChannelState&) = default;
};

// A refund the server asked the facilitator to execute whose outcome it does not know (asked and
// no answer yet, no reply, or its transaction still unmined): it may land later, taking `amount`
// from the balance with the refund nonce `nonce`. Until the chain's refund nonce moves, the server
// must not count on that money (vouchers served on it could not be claimed once it lands).
struct PendingRefund {
  U256 nonce;
  Uint128 amount = 0;

  friend bool operator==(const PendingRefund&, const PendingRefund&) = default;
};

}  // namespace paychan
