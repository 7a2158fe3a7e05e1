#include "engine/gate/route_key.hpp"

#include <vector>

#include "engine/http/text.hpp"

namespace paychan::engine::gate {
namespace {

// "http://host:port/p" → "/p": the router of a server given an absolute-form target routes its path.
std::string_view without_authority(std::string_view path) noexcept {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!http::istarts_with(path, scheme)) continue;
    const auto slash = path.find('/', scheme.size());
    return slash == std::string_view::npos ? std::string_view{"/"} : path.substr(slash);
  }
  return path;
}

// `s` without the spaces and control characters at either end, as Java's String.trim() leaves it.
std::string_view trimmed(std::string_view s) noexcept {
  const auto blank = [](char c) { return static_cast<unsigned char>(c) <= 0x20; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// `key` with its last segment's ".format" dropped as `format` says (the segment's own leading dot,
// as in ".well-known", is no format's).
std::string without_format(std::string_view key, KeyReading::Format format) {
  const std::size_t start = key.rfind('/') + 1;
  const std::string_view last = key.substr(start);
  const std::size_t dot = format == KeyReading::Format::from_first_dot ? last.find('.', 1) : last.rfind('.');
  if (format == KeyReading::Format::kept || dot == std::string_view::npos || dot == 0) return std::string(key);
  return std::string(key.substr(0, start + dot));
}

// is_route_key's checks but its last: the path is its own key in every reading that keeps a format.
bool plain(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/') return false;
  if (path == "/") return true;
  if (path.back() == '/') return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%' || c == ';' || c == '\\' || c == '#' || (c >= 'A' && c <= 'Z')) return false;
    if (static_cast<unsigned char>(c) <= 0x20) return false;  // a blank the loose reading trims
    // A segment that is empty or starts with '.' (".", "..", or merely ".well-known": the slow
    // path is exact for those too).
    if (c == '/' && (i + 1 == path.size() || path[i + 1] == '/' || path[i + 1] == '.')) return false;
  }
  return true;
}

}  // namespace

std::string route_key(std::string_view path, KeyReading reading) {
  path = without_authority(path);
  if (reading.cut_fragment) path = path.substr(0, path.find('#'));
  const std::string decoded =
      reading.loose ? http::percent_decode(http::percent_decode(path)) : http::percent_decode(path);
  std::vector<std::string_view> segments;
  http::for_each_path_segment(decoded, [&](std::string_view segment) {
    if (reading.loose) segment = trimmed(segment);
    if (reading.resolve_dots && segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && !(reading.resolve_dots && segment == ".")) {
      segments.push_back(segment);
    }
    return true;
  });
  std::string key;
  key.reserve(decoded.size() + 1);
  for (std::string_view segment : segments) {
    key += '/';
    for (char c : segment) key += http::ascii_lower(c);
  }
  if (key.empty()) return "/";
  // "chat.tar.gz" is "chat" or "chat.tar" without its format.
  return reading.loose ? without_format(key, reading.format) : key;
}

bool is_route_key(std::string_view path) noexcept {
  return plain(path) && path.find('.', path.rfind('/')) == std::string_view::npos;  // no ".format" to drop
}

std::vector<ReadKey> route_keys(std::string_view path) {
  using Format = KeyReading::Format;
  std::vector<ReadKey> keys;
  // The loose reading's key, then the same without its format: derived, not read again.
  const auto add_loose = [&](std::string loose) {
    keys.push_back(ReadKey{loose, true, false});
    for (const Format format : {Format::from_first_dot, Format::from_last_dot})
      keys.push_back(ReadKey{without_format(loose, format), true, true});
  };
  // A plain path but for its format ("/v1/x.json") is its own key in every other reading: nothing
  // to decode or resolve.
  if (plain(path)) {
    keys.push_back(ReadKey{std::string(path), false, false});
    add_loose(std::string(path));
    return keys;
  }
  for (const bool resolve_dots : {true, false}) {
    for (const bool cut_fragment : {true, false})
      keys.push_back(ReadKey{route_key(path, KeyReading{resolve_dots, cut_fragment}), false, false});
    add_loose(route_key(path, KeyReading{resolve_dots, true, true}));  // loose routers cut a fragment
  }
  return keys;
}

}  // namespace paychan::engine::gate
