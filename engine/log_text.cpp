#include "engine/log_text.hpp"

#include <algorithm>

namespace paychan::engine {

std::string one_line(std::string_view text, std::size_t max) {
  // Cut where a character begins: not inside a UTF-8 sequence (its continuation bytes are 10xxxxxx).
  std::size_t kept = std::min(max, text.size());
  while (kept < text.size() && kept > 0 && (static_cast<unsigned char>(text[kept]) & 0xC0) == 0x80) --kept;
  std::string line;
  for (const char c : text.substr(0, kept)) {
    const bool blank = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (!blank) line += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    else if (!line.empty() && line.back() != ' ') line += ' ';
  }
  if (text.size() > max) line += "…";
  return line;
}

}  // namespace paychan::engine
