// Internal to protocol/: compact JSON output in the field order the reference writes, with the
// scheme's value spellings (EIP-55 addresses, decimal-string amounts, lower-case hex).
#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>

#include "channel/address.hpp"
#include "channel/amount.hpp"
#include "channel/hex.hpp"
#include "channel/wallet_signature.hpp"
#include "protocol/json.hpp"

namespace paychan::protocol {

// A compact writer of our own rather than rapidjson's: it appends to the string take() hands over
// (no copy), and copies each run of characters that need no escape at once. It writes what
// rapidjson's Writer<StringBuffer> writes, byte for byte (json_writer_test checks it against
// rapidjson): the escapes \" \\ \b \f \n \r \t and \u00XX (upper-case hex) for the other
// control characters, every other byte as it is. A PAYMENT-RESPONSE is written on every paid
// request: rapidjson's copy into its own buffer and out again, and its check of every character,
// were more than half of its cost.
class JsonWriter {
 public:
  JsonWriter() { out_.reserve(kStartCapacity); }

  JsonWriter& begin() { return open('{'); }
  JsonWriter& end() { return close('}'); }
  JsonWriter& begin_array(std::string_view k) { key(k); return open('['); }
  JsonWriter& end_array() { return close(']'); }
  // A member object, or (with an empty key) an object value, e.g. an array element or the root.
  JsonWriter& object(std::string_view k) {
    if (!k.empty()) key(k);
    return open('{');
  }
  JsonWriter& key(std::string_view k) {
    separate();
    quoted(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  JsonWriter& str(std::string_view k, std::string_view v) { key(k); return value(v); }
  JsonWriter& value(std::string_view v) {
    separate();
    quoted(v);
    return *this;
  }
  JsonWriter& number(std::string_view k, std::uint64_t v);
  JsonWriter& boolean(std::string_view k, bool v) {
    key(k);
    separate();
    out_ += v ? "true" : "false";
    return *this;
  }
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
    separate();
    out_ += j.text();
    return *this;
  }

  // The text written, moved out: the writer's last call.
  [[nodiscard]] std::string take() { return std::move(out_); }

 private:
  // Room for a PAYMENT-RESPONSE (~450 bytes) from the start.
  static constexpr std::size_t kStartCapacity = 512;

  // A comma before every member or element but the first of its object or array; none after a key.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ == 0) return;
    const std::uint64_t bit = std::uint64_t{1} << (depth_ - 1);
    if ((started_ & bit) != 0) out_ += ',';
    started_ |= bit;
  }
  // What paychan writes nests 7 deep at most (a facilitator request's Permit2 deposit), fixed by
  // the code: a Json value is copied as text. started_ has room for 64.
  JsonWriter& open(char bracket) {
    assert(depth_ < 64);
    separate();
    out_ += bracket;
    ++depth_;
    started_ &= ~(std::uint64_t{1} << (depth_ - 1));
    return *this;
  }
  JsonWriter& close(char bracket) {
    --depth_;
    out_ += bracket;
    return *this;
  }
  void quoted(std::string_view text);

  std::string out_;
  std::uint64_t started_ = 0;  // bit d-1: the object or array open at depth d has a member
  unsigned depth_ = 0;
  bool after_key_ = false;
};

}  // namespace paychan::protocol
