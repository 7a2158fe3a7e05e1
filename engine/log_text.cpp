#include "engine/log_text.hpp"

namespace paychan::engine {

std::string one_line(std::string_view text, std::size_t max) {
  std::string line;
  for (const char c : text.substr(0, max)) {
    const bool blank = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (!blank) line += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    else if (!line.empty() && line.back() != ' ') line += ' ';
  }
  if (text.size() > max) line += "…";
  return line;
}

}  // namespace paychan::engine
