#include "engine/gate/form_fields.hpp"

#include <algorithm>

#include "engine/http/text.hpp"

namespace paychan::engine::gate {
namespace {

// A decoded field name as PHP's parse_str() stores it: " .method" and "[method" are "_method" there.
std::string php_name(std::string name) {
  name.erase(0, name.find_first_not_of(' '));
  for (char& c : name)
    if (c == ' ' || c == '.' || c == '[') c = '_';
  return name;
}

// The value of parameter `param` in a header value such as `multipart/form-data; boundary="x"`,
// its quotes removed; empty if it has none.
std::string_view parameter(std::string_view value, std::string_view param) {
  for (std::size_t at = value.find(';'); at != std::string_view::npos; at = value.find(';', at + 1)) {
    std::string_view rest = value.substr(at + 1);
    rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
    if (!http::istarts_with(rest, param) || !rest.substr(param.size()).starts_with('=')) continue;
    rest.remove_prefix(param.size() + 1);
    if (!rest.starts_with('"')) return rest.substr(0, rest.find_first_of("; \t"));
    rest.remove_prefix(1);
    return rest.substr(0, rest.find('"'));
  }
  return {};
}

}  // namespace

bool any_urlencoded_value(std::string_view form, std::string_view name, const std::function<bool(std::string)>& f) {
  for (;;) {
    const std::size_t end = form.find_first_of("&;");
    const std::string_view pair = form.substr(0, end);
    const std::size_t eq = pair.find('=');
    if (php_name(http::percent_decode(pair.substr(0, eq), true)) == name &&
        f(eq == std::string_view::npos ? std::string() : http::percent_decode(pair.substr(eq + 1), true)))
      return true;
    if (end == std::string_view::npos) return false;
    form.remove_prefix(end + 1);
  }
}

bool any_multipart_value(std::string_view body, std::string_view content_type, std::string_view name,
                         const std::function<bool(std::string)>& f) {
  const std::string_view boundary = parameter(content_type, "boundary");
  if (boundary.empty()) return false;
  const std::string delimiter = "--" + std::string(boundary), next_delimiter = "\r\n" + delimiter;
  const std::string quoted = "name=\"" + std::string(name) + "\"", bare = "name=" + std::string(name);
  // name=NAME unquoted: NAME ends at a ';', a space or the line's end.
  const auto names_bare = [&](std::string_view head) {
    const std::size_t at = http::ifind(head, bare);
    if (at == std::string_view::npos) return false;
    const std::string_view after = head.substr(at + bare.size(), 1);
    return after.empty() || std::string_view("; \t\r").find(after.front()) != std::string_view::npos;
  };
  for (std::size_t at = body.find(delimiter); at != std::string_view::npos;) {
    const std::size_t start = at + delimiter.size();
    const std::size_t next = body.find(next_delimiter, start);
    const std::string_view part = body.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
    if (const std::size_t head_end = part.find("\r\n\r\n"); head_end != std::string_view::npos) {
      const std::string_view head = part.substr(0, head_end);
      if ((http::ifind(head, quoted) != std::string_view::npos || names_bare(head)) &&
          f(std::string(part.substr(head_end + 4))))
        return true;
    }
    if (next == std::string_view::npos) return false;
    at = next + 2;
  }
  return false;
}

}  // namespace paychan::engine::gate
