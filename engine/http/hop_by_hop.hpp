// Which header fields a proxy must not forward: those that describe one connection rather than the
// message (RFC 9110 §7.6.1).
// Thread-safety: pure function.
#pragma once

#include <string_view>

namespace paychan::engine::http {

// True for Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade,
// Proxy-Authenticate, Proxy-Authorization, and for every field that `connection` (the message's
// Connection header value, comma-separated tokens) names. Names compare case-insensitively.
[[nodiscard]] bool is_hop_by_hop(std::string_view name, std::string_view connection) noexcept;

}  // namespace paychan::engine::http
