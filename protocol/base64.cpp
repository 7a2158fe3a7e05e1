#include "protocol/base64.hpp"

#include <array>

namespace paychan::protocol {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> kValues = [] {
  std::array<std::int8_t, 256> v{};
  v.fill(-1);
  for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return v;
}();

}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.resize((in.size() + 2) / 3 * 4);
  std::size_t o = 0;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out[o++] = kAlphabet[n >> 18];
    out[o++] = kAlphabet[(n >> 12) & 63];
    out[o++] = kAlphabet[(n >> 6) & 63];
    out[o++] = kAlphabet[n & 63];
  }
  if (const std::size_t rest = in.size() - i; rest != 0) {
    const std::uint32_t n = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out[o++] = kAlphabet[n >> 18];
    out[o++] = kAlphabet[(n >> 12) & 63];
    out[o++] = rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text, std::size_t max_decoded) {
  if (text.size() % 4 != 0) return fail(ErrorCode::malformed_base64, "length is not a multiple of 4");
  if (text.size() / 4 * 3 > max_decoded + 2)
    return fail(ErrorCode::input_too_large, "decodes to more than " + std::to_string(max_decoded) + " bytes");
  if (text.empty()) return std::string{};
  const std::size_t pad = (text.back() == '=') + (text[text.size() - 2] == '=');
  std::string out(text.size() / 4 * 3 - pad, '\0');
  if (out.size() > max_decoded)
    return fail(ErrorCode::input_too_large, "decodes to more than " + std::to_string(max_decoded) + " bytes");
  auto value = [&](std::size_t k) { return static_cast<std::int32_t>(kValues[static_cast<unsigned char>(text[k])]); };
  // Every quad but the last: four table lookups; any invalid character makes the OR negative.
  const std::size_t full = text.size() - 4;
  std::size_t o = 0;
  std::int32_t invalid = 0;
  for (std::size_t i = 0; i < full; i += 4) {
    const std::int32_t a = value(i), b = value(i + 1), c = value(i + 2), d = value(i + 3);
    invalid |= a | b | c | d;
    const std::uint32_t n = static_cast<std::uint32_t>(a) << 18 | static_cast<std::uint32_t>(b) << 12 |
                            static_cast<std::uint32_t>(c) << 6 | static_cast<std::uint32_t>(d);
    out[o++] = static_cast<char>(n >> 16);
    out[o++] = static_cast<char>(n >> 8);
    out[o++] = static_cast<char>(n);
  }
  if (invalid < 0) return fail(ErrorCode::malformed_base64, "invalid base64 character");
  // The last quad: '=' only as its final one or two characters, and the bits it drops are zero.
  std::uint32_t n = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    std::int32_t v = value(full + k);
    if (text[full + k] == '=' && k >= 4 - pad) v = 0;
    if (v < 0) return fail(ErrorCode::malformed_base64, "invalid base64 character");
    n = n << 6 | static_cast<std::uint32_t>(v);
  }
  if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0))
    return fail(ErrorCode::malformed_base64, "non-zero padding bits");
  const char last[3] = {static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
  for (std::size_t k = 0; k < 3 - pad; ++k) out[o++] = last[k];
  return out;
}

}  // namespace paychan::protocol
