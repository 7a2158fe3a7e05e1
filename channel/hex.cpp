#include "channel/hex.hpp"

#include <array>

namespace paychan {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// Each character's nibble value, or -1 for a character that is not a hex digit.
constexpr std::array<std::int8_t, 256> kNibbles = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'A' + 10);
  return t;
}();

Status check_prefix(std::string_view hex) {
  if (hex.size() < 2 || hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X'))
    return fail(ErrorCode::malformed_hex, "missing 0x prefix");
  if (hex.size() % 2 != 0) return fail(ErrorCode::malformed_hex, "odd number of hex digits");
  return {};
}

Status decode_into(std::string_view digits, std::uint8_t* out) {
  int invalid = 0;  // any -1 nibble makes this negative; checked once, after the loop
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const int hi = kNibbles[static_cast<unsigned char>(digits[i])];
    const int lo = kNibbles[static_cast<unsigned char>(digits[i + 1])];
    invalid |= hi | lo;
    out[i / 2] = static_cast<std::uint8_t>((hi & 0xf) << 4 | (lo & 0xf));
  }
  if (invalid < 0) return fail(ErrorCode::malformed_hex, "non-hex digit");
  return {};
}

}  // namespace

int hex_digit_value(char c) noexcept { return kNibbles[static_cast<unsigned char>(c)]; }

void write_hex(ByteView bytes, char* out) noexcept {
  out[0] = '0';
  out[1] = 'x';
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 + 2 * i] = kDigits[bytes[i] >> 4];
    out[3 + 2 * i] = kDigits[bytes[i] & 0xf];
  }
}

std::string to_hex(ByteView bytes) {
  std::string s(2 + bytes.size() * 2, '\0');
  write_hex(bytes, s.data());
  return s;
}

Result<Bytes> bytes_from_hex(std::string_view hex, std::size_t max_bytes) {
  PAYCHAN_TRY(check_prefix(hex));
  const std::size_t n = (hex.size() - 2) / 2;
  if (n > max_bytes) return fail(ErrorCode::input_too_large, "hex value too long");
  Bytes out(n);
  PAYCHAN_TRY(decode_into(hex.substr(2), out.data()));
  return out;
}

Status fixed_from_hex(std::string_view hex, std::uint8_t* out, std::size_t n) {
  PAYCHAN_TRY(check_prefix(hex));
  if ((hex.size() - 2) / 2 != n)
    return fail(ErrorCode::malformed_hex, "expected " + std::to_string(n) + " bytes");
  return decode_into(hex.substr(2), out);
}

}  // namespace paychan
