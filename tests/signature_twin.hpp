// The malleable twin of a low-s signature, (r, n − s, v ^ 1): the same signer, refused by the
// contract's ECDSA rules, taken by bare ecrecover. Computed here on its own, to test the code
// that maps it back (channel/ecdsa.hpp's with_low_s).
#pragma once

#include <algorithm>

#include "channel/ecdsa.hpp"
#include "channel/hex.hpp"

namespace paychan::test {

inline Signature high_s_twin(const Signature& sig) {
  const Bytes32 order = *fixed_from_hex<32>("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  Signature twin = sig;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    const int d = order[static_cast<std::size_t>(i)] - sig[32 + static_cast<std::size_t>(i)] - borrow;
    borrow = d < 0;
    twin[32 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(d + (borrow ? 256 : 0));
  }
  twin[64] = sig[64] == 27 ? 28 : 27;
  return twin;
}

}  // namespace paychan::test
