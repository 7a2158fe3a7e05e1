#include "engine/log_text.hpp"

#include <algorithm>
#include <cstdint>

namespace paychan::engine {
namespace {

// The length of the well-formed UTF-8 sequence at the start of `s` and its code point, or 0 when
// the bytes there are not one (a stray continuation byte, a truncated or overlong sequence).
std::size_t decode(std::string_view s, std::uint32_t& cp) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char lead = byte(0);
  std::size_t n = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || n > s.size()) return 0;
  cp = n == 1 ? lead : lead & (0x7F >> n);
  for (std::size_t i = 1; i < n; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i) & 0x3F);
  }
  static constexpr std::uint32_t kLeast[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kLeast[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// Code points that end a line or reorder it in a log viewer: C0 and C1 controls, DEL, the line and
// paragraph separators, and the bidirectional overrides and isolates ("Trojan Source").
bool forges_layout(std::uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string one_line(std::string_view text, std::size_t max) {
  // Cut where a character begins: not inside a UTF-8 sequence. Its continuation bytes are 10xxxxxx,
  // at most three after a lead byte 11xxxxxx; stray ones are not a character and may be cut anywhere.
  std::size_t kept = std::min(max, text.size());
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  std::size_t start = kept;
  while (kept < text.size() && start > 0 && kept - start < 3 && (byte(start) & 0xC0) == 0x80) --start;
  if (kept < text.size() && start < kept && (byte(start) & 0xC0) == 0xC0) kept = start;
  const std::string_view head = text.substr(0, kept);
  std::string line;
  for (std::size_t i = 0; i < head.size();) {
    const char c = head[i];
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      if (!line.empty() && line.back() != ' ') line += ' ';
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const std::size_t n = decode(head.substr(i), cp);
    if (n == 0 || forges_layout(cp)) line += '?';
    else line.append(head.substr(i, n));
    i += n == 0 ? 1 : n;
  }
  if (text.size() > max) line += "…";
  return line;
}

}  // namespace paychan::engine
