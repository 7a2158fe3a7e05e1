// The inputs of paychan's voucher tools, built from the wire's own objects:
//   a voucher request  {"channelId" | "channelConfig", "maxClaimableAmount"}
//   a voucher to check {"voucher", "channelConfig"?}, or a whole PAYMENT-SIGNATURE header value.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "channel/types.hpp"
#include "channel/result.hpp"

namespace paychan::protocol {

struct VoucherRequest {
  std::optional<ChannelConfig> channelConfig;  // when given, the channelId is derived from it
  std::optional<Bytes32> channelId;            // at least one of the two is given
  Uint128 maxClaimableAmount = 0;
};
[[nodiscard]] Result<VoucherRequest> decode_voucher_request(std::string_view json);

struct VoucherCheck {
  std::optional<ChannelConfig> channelConfig;
  SignedVoucher voucher;
};
// JSON when the text starts with '{', a PAYMENT-SIGNATURE header value otherwise.
[[nodiscard]] Result<VoucherCheck> decode_voucher_check(std::string_view text);

}  // namespace paychan::protocol
