#include "channel/address.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "channel/hex.hpp"
#include "channel/keccak.hpp"

namespace paychan {
namespace {

constexpr char kLowerDigits[] = "0123456789abcdef";

// The 40 lower-case hex digits of an address, on the stack.
std::array<char, 40> lower_hex(const Address& a) noexcept {
  std::array<char, 40> out{};
  for (std::size_t i = 0; i < 20; ++i) {
    out[2 * i] = kLowerDigits[a.bytes[i] >> 4];
    out[2 * i + 1] = kLowerDigits[a.bytes[i] & 0xf];
  }
  return out;
}

// EIP-55: hex digit i is upper case iff nibble i of keccak256(lower-case hex) is ≥ 8.
std::array<char, 40> checksum_case(const Address& a) noexcept {
  std::array<char, 40> out = lower_hex(a);
  const Bytes32 h = keccak256(ByteView{reinterpret_cast<const std::uint8_t*>(out.data()), out.size()});
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int nibble = (i % 2 == 0) ? h[i / 2] >> 4 : h[i / 2] & 0xf;
    if (out[i] >= 'a' && nibble >= 8) out[i] = static_cast<char>(out[i] - 'a' + 'A');
  }
  return out;
}

// Payloads repeat the same few addresses (a provider's receiver, authorizer and token; a payer
// named twice), and an EIP-55 checksum costs a keccak. Checksums computed on this thread are
// remembered, keyed by the address: a pure function's memo, invisible to callers.
class ChecksumMemo {
 public:
  const std::array<char, 40>& of(const Address& a) noexcept {
    Entry& e = slots_[slot(a)];
    if (!e.valid || e.address != a) {
      e.address = a;
      e.digits = checksum_case(a);
      e.valid = true;
    }
    return e.digits;
  }

 private:
  struct Entry {
    Address address;
    std::array<char, 40> digits{};
    bool valid = false;
  };
  static std::size_t slot(const Address& a) noexcept {
    std::uint32_t h;
    std::memcpy(&h, a.bytes.data(), sizeof h);
    return h % kSlots;
  }
  static constexpr std::size_t kSlots = 1024;
  std::array<Entry, kSlots> slots_{};
};

const std::array<char, 40>& checksum_digits(const Address& a) noexcept {
  thread_local ChecksumMemo memo;
  return memo.of(a);
}

bool checksum_matches(const Address& a, std::string_view digits) noexcept {
  return std::string_view{checksum_digits(a).data(), 40} == digits;
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
  if (has_lower && has_upper && !checksum_matches(a, digits))
    return fail(ErrorCode::malformed_address, "mixed-case address with an invalid EIP-55 checksum");
  return a;
}

std::string to_checksum_hex(const Address& a) {
  const auto& digits = checksum_digits(a);
  std::string out = "0x";
  out.append(digits.data(), digits.size());
  return out;
}

}  // namespace paychan
