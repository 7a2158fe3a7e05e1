// keccak256 over nettle's Keccak-f[1600] permutation. Nettle's sha3_256 pads with the FIPS-202
// domain bits (0x06); Ethereum uses the original Keccak padding (0x01), so the sponge is ours.
#include "channel/keccak.hpp"

#include <nettle/sha3.h>

#include <bit>
#include <cstring>

namespace paychan {
namespace {

constexpr std::size_t kRate = 136;  // (1600 - 2·256) / 8 bytes absorbed per permutation

// XORs a block of little-endian lanes into the state (x86-64 and every target Debian builds are
// little-endian, which the static_assert below pins).
void absorb(sha3_state& st, const std::uint8_t* block) noexcept {
  for (std::size_t i = 0; i < kRate / 8; ++i) {
    std::uint64_t lane;
    std::memcpy(&lane, block + 8 * i, 8);
    st.a[i] ^= lane;
  }
}

}  // namespace

static_assert(std::endian::native == std::endian::little, "keccak lanes are read little-endian");

Bytes32 keccak256(ByteView data) noexcept {
  sha3_state st{};
  const std::uint8_t* p = data.data();
  std::size_t n = data.size();
  for (; n >= kRate; p += kRate, n -= kRate) {
    absorb(st, p);
    nettle_sha3_permute(&st);
  }
  std::uint8_t last[kRate] = {};
  if (n != 0) std::memcpy(last, p, n);
  last[n] ^= 0x01;
  last[kRate - 1] ^= 0x80;
  absorb(st, last);
  nettle_sha3_permute(&st);
  Bytes32 out;
  std::memcpy(out.data(), st.a, out.size());
  return out;
}

}  // namespace paychan
