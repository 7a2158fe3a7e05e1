// Exact unsigned integers for money and for the scheme's uint fields. Never floating point.
//   Uint128: the contract's uint128 (maxClaimableAmount, balance, totalClaimed, deposit amount).
//   U256:    the uint256 fields (ERC-3009 value/validAfter/validBefore, refund nonce).
// Wire form is a canonical decimal string: digits only, no sign, no leading zero (except "0"),
// no whitespace; anything else is malformed_decimal, and values past the type are amount_overflow.
// Thread-safety: plain values and pure functions.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "channel/bytes.hpp"
#include "channel/result.hpp"

namespace paychan {

using Uint128 = unsigned __int128;
inline constexpr Uint128 kUint128Max = ~Uint128{0};

[[nodiscard]] Result<Uint128> parse_uint128(std::string_view decimal);
[[nodiscard]] std::string to_decimal(Uint128 v);
// Checked arithmetic: nullopt on overflow / underflow.
[[nodiscard]] std::optional<Uint128> checked_add(Uint128 a, Uint128 b) noexcept;
[[nodiscard]] std::optional<Uint128> checked_sub(Uint128 a, Uint128 b) noexcept;
// For bounds: a sum past the range is the range's top.
[[nodiscard]] inline Uint128 saturating_add(Uint128 a, Uint128 b) noexcept { return checked_add(a, b).value_or(kUint128Max); }
[[nodiscard]] inline Uint128 saturating_mul(Uint128 a, Uint128 b) noexcept {
  return b != 0 && a > kUint128Max / b ? kUint128Max : a * b;
}

class U256 {
 public:
  constexpr U256() = default;
  constexpr U256(Uint128 v) noexcept  // NOLINT: widening is lossless
      : limbs_{static_cast<std::uint64_t>(v), static_cast<std::uint64_t>(v >> 64), 0, 0} {}

  [[nodiscard]] static Result<U256> parse(std::string_view decimal);
  [[nodiscard]] static U256 from_be(const Bytes32& be) noexcept;
  [[nodiscard]] Bytes32 to_be() const noexcept;  // 32-byte big-endian (ABI word)
  [[nodiscard]] std::string to_decimal() const;
  // The value as Uint128, or nullopt if it does not fit.
  [[nodiscard]] std::optional<Uint128> to_uint128() const noexcept;
  // this + 1, or nullopt at 2^256-1.
  [[nodiscard]] std::optional<U256> next() const noexcept;

  friend constexpr bool operator==(const U256&, const U256&) = default;
  friend constexpr std::strong_ordering operator<=>(const U256& a, const U256& b) noexcept {
    for (int i = 3; i >= 0; --i)
      if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] <=> b.limbs_[i];
    return std::strong_ordering::equal;
  }

 private:
  std::array<std::uint64_t, 4> limbs_{};  // little-endian limb order
};

}  // namespace paychan
