// The PAYMENT-SIGNATURE headers of vouchers on one channel under one offer. A voucher payload is
// about 1 KiB of JSON of which only the voucher's amount and signature change from one request to
// the next, so the payload is encoded once with marker values in those two places and each voucher
// fills them in (the agent's per-request encoding falls from ~33k to ~12k instructions, most of
// it the base64). The result is byte-for-byte what protocol::encode_payment_signature gives
// (tests/engine/voucher_headers_test.cpp).
// Thread-safety: const members may be called concurrently.
#pragma once

#include <array>
#include <string>

#include "channel/types.hpp"
#include "engine/client/policy.hpp"

namespace paychan::engine::client {

class VoucherHeaders {
 public:
  VoucherHeaders(const ChosenOffer& offer, const ChannelConfig& config, const Bytes32& channelId);

  // Whether these are the headers of vouchers on `channelId` under `offer`.
  [[nodiscard]] bool serve(const ChosenOffer& offer, const Bytes32& channelId) const;
  // The header of `voucher` (which must be on this channel).
  [[nodiscard]] std::string encode(const SignedVoucher& voucher) const;

 private:
  // Where a marker sits in json_: the amount's decimal digits, or the signature's hex after "0x".
  struct Slot {
    std::size_t at = 0;
    std::size_t length = 0;
    bool amount = false;
  };
  protocol::PaymentRequirements requirements_;
  Bytes32 channelId_;
  std::string json_;  // the payload with the markers
  std::array<Slot, 2> slots_;  // in the order they appear
};

}  // namespace paychan::engine::client
