#include "engine/http/text.hpp"

#include "channel/hex.hpp"

namespace paychan::engine::http {

std::size_t ifind(std::string_view text, std::string_view needle, std::size_t from) noexcept {
  if (needle.empty()) return from <= text.size() ? from : std::string_view::npos;
  const char first = ascii_lower(needle.front());
  for (std::size_t i = from; i + needle.size() <= text.size(); ++i)
    if (ascii_lower(text[i]) == first && iequals(text.substr(i, needle.size()), needle)) return i;
  return std::string_view::npos;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int high = hex_digit_value(s[i + 1]), low = hex_digit_value(s[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += plus_is_space && s[i] == '+' ? ' ' : s[i];
  }
  return out;
}

}  // namespace paychan::engine::http
