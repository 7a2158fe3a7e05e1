// Internal to protocol/: compact JSON output in the field order the reference writes, with the
// scheme's value spellings (EIP-55 addresses, decimal-string amounts, lower-case hex).
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <string>
#include <string_view>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/hex.hpp"
#include "channel/wallet_signature.hpp"
#include "protocol/json.hpp"

namespace paychan::protocol {

class JsonWriter {
 public:
  JsonWriter& begin() { w_.StartObject(); return *this; }
  JsonWriter& end() { w_.EndObject(); return *this; }
  JsonWriter& begin_array(std::string_view k) { key(k); w_.StartArray(); return *this; }
  JsonWriter& end_array() { w_.EndArray(); return *this; }
  // A member object, or (with an empty key) an object value, e.g. an array element or the root.
  JsonWriter& object(std::string_view k) {
    if (!k.empty()) key(k);
    w_.StartObject();
    return *this;
  }
  JsonWriter& key(std::string_view k) { w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); return *this; }

  JsonWriter& str(std::string_view k, std::string_view v) { key(k); return value(v); }
  JsonWriter& value(std::string_view v) { w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size())); return *this; }
  JsonWriter& number(std::string_view k, std::uint64_t v) { key(k); w_.Uint64(v); return *this; }
  JsonWriter& boolean(std::string_view k, bool v) { key(k); w_.Bool(v); return *this; }
  JsonWriter& address(std::string_view k, const Address& a) { return str(k, to_checksum_hex(a)); }
  JsonWriter& amount(std::string_view k, Uint128 v) { return str(k, to_decimal(v)); }
  JsonWriter& amount(std::string_view k, const U256& v) { return str(k, v.to_decimal()); }
  template <std::size_t N>
  JsonWriter& hex(std::string_view k, const FixedBytes<N>& b) {
    std::array<char, 2 + 2 * N> text;  // a channel id's 66 characters: no heap string each time
    write_hex(b, text.data());
    return str(k, {text.data(), text.size()});
  }
  JsonWriter& hex(std::string_view k, const WalletSignature& s) {
    if (const Signature* ecdsa = s.ecdsa()) return hex(k, *ecdsa);
    return str(k, to_hex(s.bytes()));
  }
  // A value kept opaque (Json), written back exactly as it arrived.
  JsonWriter& raw(std::string_view k, const Json& j) { key(k); return raw(j); }
  JsonWriter& raw(const Json& j) {
    w_.RawValue(j.text().data(), j.text().size(), rapidjson::kObjectType);
    return *this;
  }

  [[nodiscard]] std::string take() { return {buf_.GetString(), buf_.GetSize()}; }

 private:
  // Room for a PAYMENT-RESPONSE (~450 bytes) from the start: the default 256 bytes grow by half
  // each time, a reallocation and a copy every time they do.
  rapidjson::StringBuffer buf_{nullptr, 1024};
  rapidjson::Writer<rapidjson::StringBuffer> w_{buf_};
};

}  // namespace paychan::protocol
