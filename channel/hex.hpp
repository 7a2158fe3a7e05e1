// Hex codecs for the x402 wire: "0x"-prefixed, even length. Decoders are strict (no whitespace,
// no missing prefix) and accept either case; encoders write lower case.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "channel/bytes.hpp"
#include "channel/result.hpp"

namespace paychan {

// The value of hex digit `c` (either case), or -1 for any other character.
[[nodiscard]] int hex_digit_value(char c) noexcept;

// "0x" + 2 lower-case hex digits per byte.
[[nodiscard]] std::string to_hex(ByteView bytes);
// The same written at `out`, which has room for its 2 + 2 * bytes.size() characters.
void write_hex(ByteView bytes, char* out) noexcept;
template <std::size_t N>
[[nodiscard]] std::string to_hex(const FixedBytes<N>& bytes) {
  return to_hex(ByteView{bytes});
}

// Any-length "0x…" hex → bytes. Errors: malformed_hex (prefix, odd length, non-hex digit),
// input_too_large (more than max_bytes).
[[nodiscard]] Result<Bytes> bytes_from_hex(std::string_view hex, std::size_t max_bytes = 1 << 20);

// Exactly N bytes; anything else is malformed_hex (and leaves `out` unspecified).
[[nodiscard]] Status fixed_from_hex(std::string_view hex, std::uint8_t* out, std::size_t n);
template <std::size_t N>
[[nodiscard]] Result<FixedBytes<N>> fixed_from_hex(std::string_view hex) {
  FixedBytes<N> out{};
  PAYCHAN_TRY(fixed_from_hex(hex, out.data(), N));
  return out;
}

}  // namespace paychan
