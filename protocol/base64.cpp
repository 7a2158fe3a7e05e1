#include "protocol/base64.hpp"

#include <array>
#include <cstring>

namespace paychan::protocol {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> kValues = [] {
  std::array<std::int8_t, 256> v{};
  v.fill(-1);
  for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return v;
}();

// The hot loop's tables: the value of a character already shifted to its place in a quad's 24
// bits (kShifted[k] for the k-th character), or kInvalid. A quad is four loads and three ORs, and
// one OR-accumulated bit says whether any character was outside the alphabet. A PAYMENT-SIGNATURE
// is ~1.8 KB of base64, decoded once per paid request.
constexpr std::uint32_t kInvalid = 0x80000000u;
constexpr std::array<std::array<std::uint32_t, 256>, 4> kShifted = [] {
  std::array<std::array<std::uint32_t, 256>, 4> t{};
  for (int k = 0; k < 4; ++k) {
    for (int c = 0; c < 256; ++c) {
      const std::int8_t v = kValues[static_cast<std::size_t>(c)];
      t[static_cast<std::size_t>(k)][static_cast<std::size_t>(c)] =
          v < 0 ? kInvalid : static_cast<std::uint32_t>(v) << (18 - 6 * k);
    }
  }
  return t;
}();

// Two characters for each 12 bits: a group of three bytes is two lookups and two stores. A
// PAYMENT-RESPONSE (~600 characters) is encoded on every paid request.
constexpr std::array<std::array<char, 2>, 4096> kPairs = [] {
  std::array<std::array<char, 2>, 4096> t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = {kAlphabet[i >> 6], kAlphabet[i & 63]};
  return t;
}();

}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out((in.size() + 2) / 3 * 4, '\0');
  char* o = out.data();
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3, o += 4) {
    const std::uint32_t n = std::uint32_t{p[i]} << 16 | std::uint32_t{p[i + 1]} << 8 | p[i + 2];
    std::memcpy(o, kPairs[n >> 12].data(), 2);
    std::memcpy(o + 2, kPairs[n & 0xfff].data(), 2);
  }
  if (const std::size_t rest = in.size() - i; rest != 0) {
    const std::uint32_t n = std::uint32_t{p[i]} << 16 | (rest == 2 ? std::uint32_t{p[i + 1]} << 8 : 0);
    o[0] = kAlphabet[n >> 18];
    o[1] = kAlphabet[(n >> 12) & 63];
    o[2] = rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    o[3] = '=';
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
  // Every quad but the last.
  const std::size_t full = text.size() - 4;
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  char* dst = out.data();
  std::uint32_t invalid = 0;
  for (std::size_t i = 0; i < full; i += 4, dst += 3) {
    const std::uint32_t n = kShifted[0][in[i]] | kShifted[1][in[i + 1]] | kShifted[2][in[i + 2]] | kShifted[3][in[i + 3]];
    invalid |= n;
    dst[0] = static_cast<char>(n >> 16);
    dst[1] = static_cast<char>(n >> 8);
    dst[2] = static_cast<char>(n);
  }
  if ((invalid & kInvalid) != 0) return fail(ErrorCode::malformed_base64, "invalid base64 character");
  std::size_t o = full / 4 * 3;
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
