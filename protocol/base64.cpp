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
  const std::size_t pad = text.empty() ? 0 : (text.back() == '=') + (text.size() > 1 && text[text.size() - 2] == '=');
  std::string out;
  out.resize(text.size() / 4 * 3 - pad);
  std::size_t o = 0;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      std::int32_t v = kValues[static_cast<unsigned char>(c)];
      if (c == '=' && last && k >= 4 - pad) v = 0;  // padding only at the very end
      if (v < 0) return fail(ErrorCode::malformed_base64, "invalid base64 character");
      n = n << 6 | static_cast<std::uint32_t>(v);
    }
    const char bytes[3] = {static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
    const std::size_t count = last ? 3 - pad : 3;
    // Canonical form: the bits that padding discards must be zero.
    if (last && pad != 0 && (pad == 1 ? (n & 0xff) != 0 : (n & 0xffff) != 0))
      return fail(ErrorCode::malformed_base64, "non-zero padding bits");
    for (std::size_t k = 0; k < count; ++k) out[o++] = bytes[k];
  }
  if (out.size() > max_decoded)
    return fail(ErrorCode::input_too_large, "decodes to more than " + std::to_string(max_decoded) + " bytes");
  return out;
}

}  // namespace paychan::protocol
