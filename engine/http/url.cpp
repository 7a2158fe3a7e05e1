#include "engine/http/url.hpp"

#include <algorithm>
#include <charconv>

#include "engine/http/text.hpp"

namespace paychan::engine::http {
namespace {

bool printable(char c) noexcept { return c > 0x20 && c < 0x7f; }

// `text` for an error message, without the user info of its authority, which may hold a password.
std::string without_user_info(std::string_view text) {
  const std::size_t scheme = text.find("://");
  const std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const std::size_t end = std::min(text.find_first_of("/?#", start), text.size());
  const std::size_t at = text.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(text);
  return std::string(text.substr(0, start)) + "…" + std::string(text.substr(at));
}

}  // namespace

std::string Url::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) out += ":" + std::to_string(port);
  return out;
}

std::string Url::origin() const { return (tls ? "https://" : "http://") + authority(); }

Result<Url> parse_url(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::http_invalid_request, std::string(why) + ": " + without_user_info(text.substr(0, 200)));
  };
  if (!std::all_of(text.begin(), text.end(), printable)) return bad("control character or space");
  Url url;
  url.tls = istarts_with(text, "https://");
  if (!url.tls && !istarts_with(text, "http://")) return bad("not an http:// or https:// URL");
  url.port = url.tls ? 443 : 80;
  std::string_view rest = text.substr(url.tls ? 8 : 7);
  if (rest.find('#') != std::string_view::npos) return bad("fragment");

  std::size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return bad("user info");

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 literal");
    url.host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return bad("junk after IPv6 literal");
    if (!after.empty()) port_text = after.substr(1);
    if (after == ":") return bad("empty port");
  } else {
    std::size_t colon = authority.find(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return bad("empty port");
    }
  }
  if (url.host.empty()) return bad("empty host");
  if (url.host.find_first_of("[]") != std::string::npos) return bad("bracket in host");
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (err != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return bad("bad port");
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  url.target = target.empty() ? "/" : target.front() == '?' ? "/" + std::string(target) : std::string(target);
  return url;
}

}  // namespace paychan::engine::http
