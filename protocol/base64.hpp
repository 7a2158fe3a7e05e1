// Standard base64 (RFC 4648 §4: alphabet +/, '=' padding), as the x402 HTTP headers use it.
// The decoder is strict like the reference: no base64url characters, no whitespace, no missing or
// misplaced padding, no non-zero bits in the padding.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "channel/bytes.hpp"
#include "channel/result.hpp"

namespace paychan::protocol {

[[nodiscard]] std::string base64_encode(std::string_view bytes);
// Errors: malformed_base64, input_too_large (decoded size above max_decoded).
[[nodiscard]] Result<std::string> base64_decode(std::string_view text, std::size_t max_decoded);

}  // namespace paychan::protocol
