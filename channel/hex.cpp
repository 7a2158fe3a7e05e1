#include "channel/hex.hpp"

namespace paychan {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// -1 for a character that is not a hex digit.
constexpr int nibble(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status check_prefix(std::string_view hex) {
  if (hex.size() < 2 || hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X'))
    return fail(ErrorCode::malformed_hex, "missing 0x prefix");
  if (hex.size() % 2 != 0) return fail(ErrorCode::malformed_hex, "odd number of hex digits");
  return {};
}

Status decode_into(std::string_view digits, std::uint8_t* out) {
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const int hi = nibble(digits[i]);
    const int lo = nibble(digits[i + 1]);
    if (hi < 0 || lo < 0) return fail(ErrorCode::malformed_hex, "non-hex digit");
    out[i / 2] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return {};
}

}  // namespace

std::string to_hex(ByteView bytes) {
  std::string s(2 + bytes.size() * 2, '0');
  s[1] = 'x';
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    s[2 + 2 * i] = kDigits[bytes[i] >> 4];
    s[3 + 2 * i] = kDigits[bytes[i] & 0xf];
  }
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
