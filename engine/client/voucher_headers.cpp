#include "engine/client/voucher_headers.hpp"

#include "channel/amount.hpp"
#include "channel/hex.hpp"
#include "protocol/base64.hpp"
#include "protocol/payment_payload.hpp"

namespace paychan::engine::client {
namespace {

// Values no offer or config can spell: 39 decimal digits, and 130 hex digits of one repeated byte.
constexpr Uint128 kAmountMarker = kUint128Max;
constexpr std::uint8_t kSignatureMarkerByte = 0xab;

}  // namespace

VoucherHeaders::VoucherHeaders(const ChosenOffer& offer, const ChannelConfig& config, const Bytes32& channelId)
    : requirements_(offer.requirements), channelId_(channelId) {
  Signature marker;
  marker.fill(kSignatureMarkerByte);
  const SignedVoucher marked{Voucher{channelId, kAmountMarker}, marker};
  protocol::PaymentPayload p;
  p.accepted = offer.requirements;
  p.payload = protocol::BatchSettlementPayload{protocol::VoucherPayload{config, marked}};
  json_ = protocol::encode_payment_payload(p);
  // The voucher is written after `accepted` (the only other place a long number could appear).
  const std::string amount = to_decimal(kAmountMarker);
  const std::string signature = to_hex(marker).substr(2);
  slots_ = {Slot{json_.rfind(amount), amount.size(), true}, Slot{json_.rfind(signature), signature.size(), false}};
  if (slots_[1].at < slots_[0].at) std::swap(slots_[0], slots_[1]);
}

bool VoucherHeaders::serve(const ChosenOffer& offer, const Bytes32& channelId) const {
  return channelId == channelId_ && offer.requirements == requirements_;
}

std::string VoucherHeaders::encode(const SignedVoucher& voucher) const {
  std::string json;
  json.reserve(json_.size());
  std::size_t from = 0;
  for (const Slot& slot : slots_) {
    json.append(json_, from, slot.at - from);
    if (slot.amount) {
      json.append(to_decimal(voucher.voucher.maxClaimableAmount));
    } else {
      json.append(to_hex(voucher.signature.bytes()), 2);  // the digits, after "0x"
    }
    from = slot.at + slot.length;
  }
  json.append(json_, from);
  return protocol::base64_encode(json);
}

}  // namespace paychan::engine::client
