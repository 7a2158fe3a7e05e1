// http:// URLs as the client and the reverse proxy take them. Only plain http (the gate and the
// facilitator talk to local or private peers; TLS belongs to a front proxy).
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "channel/result.hpp"

namespace paychan::engine::http {

struct Url {
  std::string host;         // a name, an IPv4 literal or an IPv6 literal without brackets
  std::uint16_t port = 80;
  std::string target;       // path and query, "/" when the URL has none

  // host, or host:port when the port is not 80; IPv6 literals bracketed (a Host header value).
  [[nodiscard]] std::string authority() const;
};

// Parses http://host[:port][/path][?query]. Refused: other schemes, user info, fragments, an empty
// host, a port outside 1..65535, and control characters or spaces anywhere.
// Error: http_invalid_request.
[[nodiscard]] Result<Url> parse_url(std::string_view text);

}  // namespace paychan::engine::http
