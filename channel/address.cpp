#include "channel/address.hpp"

#include <algorithm>

#include "channel/hex.hpp"
#include "channel/keccak.hpp"

namespace paychan {
namespace {

// EIP-55: hex digit i is upper case iff nibble i of keccak256(lower-case hex) is ≥ 8.
std::string checksum_case(std::string_view lower40) {
  const Bytes32 h = keccak256(as_bytes(lower40));
  std::string out{lower40};
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int nibble = (i % 2 == 0) ? h[i / 2] >> 4 : h[i / 2] & 0xf;
    if (out[i] >= 'a' && out[i] <= 'f' && nibble >= 8) out[i] = static_cast<char>(out[i] - 'a' + 'A');
  }
  return out;
}

}  // namespace

bool Address::is_zero() const noexcept {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

Result<Address> parse_address(std::string_view text) {
  Address a;
  if (text.size() != 42 || !fixed_from_hex(text, a.bytes.data(), a.bytes.size()))
    return fail(ErrorCode::malformed_address, "an address is 0x followed by 40 hex digits");
  const std::string_view digits = text.substr(2);
  const bool has_lower = std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'a' && c <= 'f'; });
  const bool has_upper = std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'A' && c <= 'F'; });
  if (has_lower && has_upper && to_checksum_hex(a).substr(2) != digits)
    return fail(ErrorCode::malformed_address, "mixed-case address with an invalid EIP-55 checksum");
  return a;
}

std::string to_checksum_hex(const Address& a) {
  const std::string lower = to_hex(a.bytes);
  return "0x" + checksum_case(std::string_view{lower}.substr(2));
}

}  // namespace paychan
