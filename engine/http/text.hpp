// Text as HTTP reads it: ASCII case folding (methods, field names, tokens) and percent-escapes
// (paths, query strings, form bodies). No Beast: the pure layers and the fuzz targets use them.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace paychan::engine::http {

[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
[[nodiscard]] constexpr char ascii_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// Equal in any ASCII case, as header names and methods compare (bytes above 0x7F exactly).
[[nodiscard]] constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// Whether `text` starts with `prefix` in any ASCII case (a URL's scheme).
[[nodiscard]] constexpr bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// A Host value's characters: host[:port], a reg-name, an IPv4 address or a bracketed IP literal,
// and digits (RFC 9110 §7.2, RFC 3986 §3.2.2). Empty is allowed (a target without authority).
[[nodiscard]] constexpr bool valid_host(std::string_view host) noexcept {
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-._~!$&'()*+,;=%:[]").find(c) != std::string_view::npos;
  });
}

// The first place `needle` occurs in `text` in any ASCII case, or npos.
[[nodiscard]] std::size_t ifind(std::string_view text, std::string_view needle, std::size_t from = 0) noexcept;

// "%41" → "A" for every escape of two hex digits; '+' → ' ' too when `plus_is_space` (a form's
// encoding). Invalid escapes stay as they are, as most servers take them literally.
[[nodiscard]] std::string percent_decode(std::string_view s, bool plus_is_space = false);

// Calls `f` with each segment of `path` (decoded already), split at '/' and at '\' (as some
// servers read one), with its ";params" dropped (as servlet containers do); empty ones too. `f`
// returns false to stop the walk.
template <typename F>
void for_each_path_segment(std::string_view path, F f) {
  for (std::size_t start = 0; start <= path.size();) {
    const auto end = path.find_first_of("/\\", start);
    const std::string_view segment = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!f(segment.substr(0, segment.find(';')))) return;
    if (end == std::string_view::npos) return;
    start = end + 1;
  }
}

}  // namespace paychan::engine::http
