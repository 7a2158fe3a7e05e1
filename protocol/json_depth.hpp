// A guard to run before building a RapidJSON DOM from untrusted text. RapidJSON's iterative parser
// does not recurse, but its DOM's destructor and its Writer do, one stack frame per nesting level:
// a reply of 100,000 '[' would overflow the stack after parsing. x402 and JSON-RPC messages are
// shallow, so anything deeper than a small limit is refused before it is parsed.
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <string_view>

namespace paychan::protocol {

inline constexpr std::size_t kMaxJsonDepth = 32;

// True when no array/object in `json` nests deeper than `limit` (brackets inside strings,
// including escaped quotes, are not counted). Malformed text may pass: the parser rejects it.
[[nodiscard]] bool json_depth_within(std::string_view json, std::size_t limit = kMaxJsonDepth) noexcept;

}  // namespace paychan::protocol
