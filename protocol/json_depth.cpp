#include "protocol/json_depth.hpp"

#include <cstring>

namespace paychan::protocol {
namespace {

// The index of the quote that closes the string opened at `open`, or npos. Strings are most of an
// x402 message (hex, addresses), so they are skipped with memchr rather than byte by byte.
std::size_t string_end(std::string_view json, std::size_t open) noexcept {
  std::size_t from = open + 1;
  while (from < json.size()) {
    const void* hit = std::memchr(json.data() + from, '"', json.size() - from);
    if (hit == nullptr) return std::string_view::npos;
    const std::size_t quote = static_cast<std::size_t>(static_cast<const char*>(hit) - json.data());
    std::size_t backslashes = 0;
    while (quote - backslashes > open + 1 && json[quote - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return quote;  // not escaped
    from = quote + 1;
  }
  return std::string_view::npos;
}

}  // namespace

bool json_depth_within(std::string_view json, std::size_t limit) noexcept {
  std::size_t depth = 0;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') {
      i = string_end(json, i);
      if (i == std::string_view::npos) return true;  // unterminated: the parser rejects it
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

}  // namespace paychan::protocol
