// A 20-byte EVM address with its EIP-55 checksummed text form.
// Thread-safety: plain values and pure functions.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "channel/bytes.hpp"
#include "channel/result.hpp"

namespace paychan {

struct Address {
  FixedBytes<20> bytes{};

  [[nodiscard]] bool is_zero() const noexcept;
  friend constexpr auto operator<=>(const Address&, const Address&) = default;
};

// "0x" + 40 hex digits. All-lower or all-upper case is accepted as is; mixed case must carry a
// valid EIP-55 checksum (as viem's isAddress does). Errors: malformed_address.
[[nodiscard]] Result<Address> parse_address(std::string_view text);
// EIP-55 mixed-case checksum form.
[[nodiscard]] std::string to_checksum_hex(const Address& a);

}  // namespace paychan
