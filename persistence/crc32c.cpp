#include "persistence/crc32c.hpp"

#include <array>
#include <cstring>

namespace paychan::persistence {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78u;  // CRC-32C, bits reversed

constexpr std::array<std::uint32_t, 256> kTable = [] {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) != 0 ? kPolynomial : 0);
    t[i] = c;
  }
  return t;
}();

std::uint32_t by_table(std::uint32_t crc, const std::uint8_t* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
// A batch of 512 states is ~200 KB of frame: the instruction checks 8 bytes a step, the table one.
__attribute__((target("sse4.2"))) std::uint32_t by_instruction(std::uint32_t crc, const std::uint8_t* p,
                                                               std::size_t n) noexcept {
  std::uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
  }
  return by_table(static_cast<std::uint32_t>(c), p, n);
}

const bool kHasInstruction = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

std::uint32_t crc32c(std::span<const std::uint8_t> bytes) noexcept {
  std::uint32_t crc = 0xFFFFFFFFu;
#if defined(__x86_64__)
  if (kHasInstruction) return ~by_instruction(crc, bytes.data(), bytes.size());
#endif
  return ~by_table(crc, bytes.data(), bytes.size());
}

}  // namespace paychan::persistence
