#include "engine/gate/route_key.hpp"

#include <vector>

#include "channel/hex.hpp"
#include "engine/http/message.hpp"

namespace paychan::engine::gate {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// "http://host:port/p" → "/p": the router of a server given an absolute-form target routes its path.
std::string_view without_authority(std::string_view path) noexcept {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!http::istarts_with(path, scheme)) continue;
    const auto slash = path.find('/', scheme.size());
    return slash == std::string_view::npos ? std::string_view{"/"} : path.substr(slash);
  }
  return path;
}

// Invalid escapes stay as they are (a server either refuses them or takes them literally).
std::string decode_escapes(std::string_view s) {
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
    out += s[i];
  }
  return out;
}

}  // namespace

std::string route_key(std::string_view path, KeyReading reading) {
  path = without_authority(path);
  if (reading.cut_fragment) path = path.substr(0, path.find('#'));
  const std::string decoded = decode_escapes(path);
  std::vector<std::string_view> segments;
  const std::string_view text = decoded;
  for (std::size_t start = 0; start <= text.size();) {
    const auto end = text.find_first_of("/\\", start);
    std::string_view segment = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    segment = segment.substr(0, segment.find(';'));
    if (reading.resolve_dots && segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && !(reading.resolve_dots && segment == ".")) {
      segments.push_back(segment);
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  std::string key;
  key.reserve(decoded.size() + 1);
  for (std::string_view segment : segments) {
    key += '/';
    for (char c : segment) key += lower(c);
  }
  return key.empty() ? "/" : key;
}

bool is_route_key(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/') return false;
  if (path == "/") return true;
  if (path.back() == '/') return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%' || c == ';' || c == '\\' || c == '#' || (c >= 'A' && c <= 'Z')) return false;
    // A segment that is empty or starts with '.' (".", "..", or merely ".well-known": the slow
    // path is exact for those too).
    if (c == '/' && (i + 1 == path.size() || path[i + 1] == '/' || path[i + 1] == '.')) return false;
  }
  return true;
}

std::vector<std::string> route_keys(std::string_view path) {
  std::vector<std::string> keys;
  for (const bool resolve_dots : {true, false})
    for (const bool cut_fragment : {true, false}) keys.push_back(route_key(path, KeyReading{resolve_dots, cut_fragment}));
  return keys;
}

}  // namespace paychan::engine::gate
