#include "protocol/base64.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PAYCHAN_BASE64_AVX2 1
#endif

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

#ifdef PAYCHAN_BASE64_AVX2
// 32 characters at a time into 24 bytes, on CPUs with AVX2 (chosen at run time: the build targets
// any x86-64). A PAYMENT-SIGNATURE's ~1.8 KB took ~6,600 instructions in the table loop below, a
// paid request's largest cost after the signature check and the digest. Stops before a block
// holding a character outside the alphabet, and where fewer than 32 characters, or fewer than 32
// bytes of room (each block stores 32), remain: the table loop goes on from there, and finds the
// error if there is one. Returns how many characters it decoded (a multiple of 32).
//
// A character is told by its two nibbles. Its high nibble names a row of the ASCII table (2: "+/",
// 3: digits, 4-5: upper case, 6-7: lower case, any other: none of the alphabet), one bit each in
// `row`; `invalid_in[low nibble]` has the bits of the rows where that low nibble is no alphabet
// character. The value is the character plus an offset that depends on its row alone, but for
// '/', which shares row 2 with '+': `offset` is indexed by the high nibble, less one for '/'.
__attribute__((target("avx2"))) std::size_t decode_blocks_avx2(const unsigned char* in, std::size_t n, char* out,
                                                               std::size_t room) noexcept {
  constexpr char kNone = 0x40, k2 = 0x01, k3 = 0x02, k4 = 0x04, k5 = 0x08, k6 = 0x10, k7 = 0x20;
  const __m256i row = _mm256_setr_epi8(kNone, kNone, k2, k3, k4, k5, k6, k7, kNone, kNone, kNone, kNone, kNone,
                                       kNone, kNone, kNone, kNone, kNone, k2, k3, k4, k5, k6, k7, kNone, kNone,
                                       kNone, kNone, kNone, kNone, kNone, kNone);
  // Low nibble 0: '@' and '`' are not letters; 1-9 all rows but 2; A (':' in row 3); B ('+', and
  // '[' and '{'); C-E; F ('/', and '?', '_', DEL).
  constexpr char kLow0 = kNone | k2 | k4 | k6, kLow1to9 = kNone | k2, kLowA = kNone | k2 | k3,
                 kLowB = kNone | k3 | k5 | k7, kLowCtoE = kNone | k2 | k3 | k5 | k7, kLowF = kNone | k3 | k5 | k7;
  const __m256i invalid_in = _mm256_setr_epi8(
      kLow0, kLow1to9, kLow1to9, kLow1to9, kLow1to9, kLow1to9, kLow1to9, kLow1to9, kLow1to9, kLow1to9, kLowA, kLowB,
      kLowCtoE, kLowCtoE, kLowCtoE, kLowF, kLow0, kLow1to9, kLow1to9, kLow1to9, kLow1to9, kLow1to9, kLow1to9, kLow1to9,
      kLow1to9, kLow1to9, kLowA, kLowB, kLowCtoE, kLowCtoE, kLowCtoE, kLowF);
  // By high nibble: 1 is '/' (2 less one), 2 '+', 3 digits, 4-5 upper case, 6-7 lower case.
  const __m256i offset = _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                          0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i slash = _mm256_set1_epi8('/');
  // Pairs of 6-bit values into 12 bits, pairs of those into 24 (one per 32-bit lane), then each
  // lane's three bytes in big-endian order, packed: 12 bytes per 128-bit half, 24 in all.
  const __m256i pair6 = _mm256_set1_epi32(0x01400140);
  const __m256i pair12 = _mm256_set1_epi32(0x00011000);
  const __m256i order = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,  //
                                         2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i gather = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  std::size_t done = 0;
  for (; n - done >= 32 && room - done / 4 * 3 >= 32; done += 32) {
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + done));
    const __m256i high = _mm256_and_si256(_mm256_srli_epi32(c, 4), nibble);
    const __m256i low = _mm256_and_si256(c, nibble);
    if (!_mm256_testz_si256(_mm256_shuffle_epi8(row, high), _mm256_shuffle_epi8(invalid_in, low))) break;
    const __m256i values =
        _mm256_add_epi8(c, _mm256_shuffle_epi8(offset, _mm256_add_epi8(high, _mm256_cmpeq_epi8(c, slash))));
    const __m256i lanes = _mm256_madd_epi16(_mm256_maddubs_epi16(values, pair6), pair12);
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(lanes, order), gather);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + done / 4 * 3), bytes);
  }
  return done;
}

// Asked once; __builtin_cpu_init first, as this may run before libgcc's own initializer.
const bool kHasAvx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();
#endif

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
  std::size_t i = 0;
#ifdef PAYCHAN_BASE64_AVX2
  if (kHasAvx2) {
    i = decode_blocks_avx2(in, full, dst, out.size());
    dst += i / 4 * 3;
  }
#endif
  for (; i < full; i += 4, dst += 3) {
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
