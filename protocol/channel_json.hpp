// JSON forms of the scheme's building blocks on their own (the CLI reads and writes them): a
// channelConfig object and a signed voucher object, spelled as inside a PaymentPayload.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "channel/types.hpp"
#include "channel/result.hpp"

namespace paychan::protocol {

[[nodiscard]] Result<ChannelConfig> decode_channel_config(std::string_view json);
[[nodiscard]] std::string encode_channel_config(const ChannelConfig& c);
// {"channelId","maxClaimableAmount","signature"}
[[nodiscard]] Result<SignedVoucher> decode_signed_voucher(std::string_view json);
[[nodiscard]] std::string encode_signed_voucher(const SignedVoucher& v);
// Indented JSON for people. Errors: malformed_json.
[[nodiscard]] Result<std::string> pretty_json(std::string_view json);

}  // namespace paychan::protocol
