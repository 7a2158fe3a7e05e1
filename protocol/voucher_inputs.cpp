#include "protocol/voucher_inputs.hpp"

#include <variant>

#include "protocol/codec_parts.hpp"
#include "protocol/headers.hpp"

namespace paychan::protocol {

Result<VoucherRequest> decode_voucher_request(std::string_view json) {
  return decode_with(json, ErrorCode::invalid_payload, "", [&](const Fields& f) -> Result<VoucherRequest> {
    PAYCHAN_TRY(f.is_object());
    // A person's input, not the wire: a stray member (a misspelt one, a "price") is refused, not ignored.
    PAYCHAN_TRY(f.only({"channelConfig", "channelId", "maxClaimableAmount"}));
    VoucherRequest r;
    if (f.has("channelConfig")) {
      PAYCHAN_ASSIGN(r.channelConfig, read_channel_config(f.object("channelConfig")));
    }
    if (f.has("channelId") || !r.channelConfig) {
      PAYCHAN_ASSIGN(r.channelId, f.bytes32("channelId"));
    }
    PAYCHAN_ASSIGN(r.maxClaimableAmount, f.uint128("maxClaimableAmount"));
    return r;
  });
}

Result<VoucherCheck> decode_voucher_check(std::string_view text) {
  if (!text.empty() && text.front() != '{') {
    auto payload = decode_payment_signature(text);
    if (!payload) return payload.failure();
    const auto* batch = batch_payload(*payload);
    if (batch == nullptr) return fail(ErrorCode::invalid_batch_settlement_evm_scheme, "not a batch-settlement payment");
    return std::visit(
        [](const auto& p) -> Result<VoucherCheck> {
          if constexpr (requires { p.voucher; p.channelConfig; }) {
            return VoucherCheck{p.channelConfig, p.voucher};
          } else {
            return fail(ErrorCode::invalid_batch_settlement_evm_payload_type, "this payload carries no voucher");
          }
        },
        *batch);
  }
  return decode_with(text, ErrorCode::invalid_payload, "", [&](const Fields& f) -> Result<VoucherCheck> {
    PAYCHAN_TRY(f.is_object());
    VoucherCheck c;
    if (f.has("channelConfig")) {
      PAYCHAN_ASSIGN(c.channelConfig, read_channel_config(f.object("channelConfig")));
    }
    PAYCHAN_ASSIGN(c.voucher, read_voucher(f.object("voucher")));
    return c;
  });
}

}  // namespace paychan::protocol
