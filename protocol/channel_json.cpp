#include "protocol/channel_json.hpp"

#include <rapidjson/prettywriter.h>

#include "protocol/codec_parts.hpp"

namespace paychan::protocol {

Result<ChannelConfig> decode_channel_config(std::string_view json) {
  return decode_with(json, ErrorCode::invalid_payload, "channelConfig", read_channel_config);
}

std::string encode_channel_config(const ChannelConfig& c) {
  JsonWriter w;
  write_channel_config(w, "", c);
  return w.take();
}

Result<SignedVoucher> decode_signed_voucher(std::string_view json) {
  return decode_with(json, ErrorCode::invalid_payload, "voucher", read_voucher);
}

std::string encode_signed_voucher(const SignedVoucher& v) {
  JsonWriter w;
  write_voucher(w, "", v);
  return w.take();
}

Result<std::string> pretty_json(std::string_view json) {
  auto doc = parse_untrusted(json, ErrorCode::malformed_json);
  if (!doc) return doc.failure();
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  doc->Accept(w);
  return std::string{buf.GetString(), buf.GetSize()};
}

}  // namespace paychan::protocol
