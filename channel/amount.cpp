#include "channel/amount.hpp"

#include <algorithm>

namespace paychan {
namespace {

// The longest canonical decimals: 2^128-1 has 39 digits, 2^256-1 has 78.
constexpr std::size_t kMaxDigits128 = 39;
constexpr std::size_t kMaxDigits256 = 78;

Status check_canonical(std::string_view s, std::size_t max_digits) {
  if (s.empty()) return fail(ErrorCode::malformed_decimal, "empty number");
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return fail(ErrorCode::malformed_decimal, "not a decimal integer");
  if (s.size() > 1 && s[0] == '0') return fail(ErrorCode::malformed_decimal, "leading zero");
  if (s.size() > max_digits) return fail(ErrorCode::amount_overflow, "number too large");
  return {};
}

}  // namespace

Result<Uint128> parse_uint128(std::string_view s) {
  PAYCHAN_TRY(check_canonical(s, kMaxDigits128));
  // The bound is checked against constants: a 128-bit division is a library call (~60
  // instructions), and the voucher's amount is parsed on every paid request.
  constexpr Uint128 kMaxTens = kUint128Max / 10;
  constexpr unsigned kMaxLastDigit = static_cast<unsigned>(kUint128Max % 10);
  Uint128 v = 0;
  for (char c : s) {
    const auto digit = static_cast<unsigned>(c - '0');
    if (v > kMaxTens || (v == kMaxTens && digit > kMaxLastDigit)) return fail(ErrorCode::amount_overflow, "exceeds uint128");
    v = v * 10 + digit;
  }
  return v;
}

std::string to_decimal(Uint128 v) {
  // Written from the end. 64-bit divisions wherever the value fits in 64 bits (a 128-bit one is a
  // library call): above that, one 128-bit division by 10^19 yields 19 digits at a time.
  constexpr std::uint64_t kTen19 = 10'000'000'000'000'000'000ULL;
  char buf[kMaxDigits128];
  char* p = buf + sizeof buf;
  auto write = [&p](std::uint64_t x, std::size_t min_digits) {
    for (std::size_t n = 0; x != 0 || n < min_digits; ++n, x /= 10) *--p = static_cast<char>('0' + x % 10);
  };
  while (v >> 64 != 0) {
    const Uint128 rest = v / kTen19;
    write(static_cast<std::uint64_t>(v - rest * kTen19), 19);
    v = rest;
  }
  write(static_cast<std::uint64_t>(v), p == buf + sizeof buf ? 1 : 0);
  return {p, static_cast<std::size_t>(buf + sizeof buf - p)};
}

std::optional<Uint128> checked_add(Uint128 a, Uint128 b) noexcept {
  if (a > kUint128Max - b) return std::nullopt;
  return a + b;
}

std::optional<Uint128> checked_sub(Uint128 a, Uint128 b) noexcept {
  if (b > a) return std::nullopt;
  return a - b;
}

Result<U256> U256::parse(std::string_view s) {
  PAYCHAN_TRY(check_canonical(s, kMaxDigits256));
  U256 v;
  for (char c : s) {
    // v = v * 10 + digit, limb by limb; a carry out of the top limb is overflow.
    Uint128 carry = static_cast<Uint128>(c - '0');
    for (auto& limb : v.limbs_) {
      const Uint128 t = static_cast<Uint128>(limb) * 10 + carry;
      limb = static_cast<std::uint64_t>(t);
      carry = t >> 64;
    }
    if (carry != 0) return fail(ErrorCode::amount_overflow, "exceeds uint256");
  }
  return v;
}

U256 U256::from_be(const Bytes32& be) noexcept {
  U256 v;
  for (int limb = 0; limb < 4; ++limb) {
    std::uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x = x << 8 | be[static_cast<std::size_t>(24 - 8 * limb + i)];
    v.limbs_[static_cast<std::size_t>(limb)] = x;
  }
  return v;
}

Bytes32 U256::to_be() const noexcept {
  Bytes32 be{};
  for (int limb = 0; limb < 4; ++limb)
    for (int i = 0; i < 8; ++i)
      be[static_cast<std::size_t>(31 - 8 * limb - i)] =
          static_cast<std::uint8_t>(limbs_[static_cast<std::size_t>(limb)] >> (8 * i));
  return be;
}

std::string U256::to_decimal() const {
  if (auto small = to_uint128()) return paychan::to_decimal(*small);
  // Repeated division by 10^19 (fits a limb), most significant limb first.
  std::array<std::uint64_t, 4> n = limbs_;
  std::string out;
  constexpr std::uint64_t kChunk = 10'000'000'000'000'000'000ULL;
  while (std::any_of(n.begin(), n.end(), [](std::uint64_t x) { return x != 0; })) {
    Uint128 rem = 0;
    for (int i = 3; i >= 0; --i) {
      const Uint128 cur = rem << 64 | n[static_cast<std::size_t>(i)];
      n[static_cast<std::size_t>(i)] = static_cast<std::uint64_t>(cur / kChunk);
      rem = cur % kChunk;
    }
    std::string chunk = paychan::to_decimal(rem);
    const bool last = std::all_of(n.begin(), n.end(), [](std::uint64_t x) { return x == 0; });
    if (!last) chunk.insert(0, 19 - chunk.size(), '0');
    out.insert(0, chunk);
  }
  return out;
}

std::optional<Uint128> U256::to_uint128() const noexcept {
  if (limbs_[2] != 0 || limbs_[3] != 0) return std::nullopt;
  return static_cast<Uint128>(limbs_[1]) << 64 | limbs_[0];
}

std::optional<U256> U256::next() const noexcept {
  U256 v = *this;
  for (auto& limb : v.limbs_)
    if (++limb != 0) return v;
  return std::nullopt;
}

}  // namespace paychan
