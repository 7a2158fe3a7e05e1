// http:// and https:// URLs as the client and the reverse proxy take them.
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "channel/result.hpp"

namespace paychan::engine::http {

struct Url {
  bool tls = false;         // https
  std::string host;         // a name, an IPv4 literal or an IPv6 literal without brackets
  std::uint16_t port = 80;  // 443 for https unless given
  std::string target;       // path and query, "/" when the URL has none

  // host, or host:port when the port is not the scheme's; IPv6 literals bracketed (a Host header
  // value).
  [[nodiscard]] std::string authority() const;
  // "http://" or "https://", then authority().
  [[nodiscard]] std::string origin() const;
};

// Parses http[s]://host[:port][/path][?query]. Refused: other schemes, user info, fragments, an
// empty host, a port outside 1..65535, and control characters or spaces anywhere.
// Error: http_invalid_request.
[[nodiscard]] Result<Url> parse_url(std::string_view text);

}  // namespace paychan::engine::http
