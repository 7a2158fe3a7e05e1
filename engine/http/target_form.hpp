// One form of request target for every handler: an absolute-form target ("http://host:port/p?q",
// RFC 9112 §3.2.2, which a server must accept, and which a proxy in front may send) is served as
// origin-form ("/p?q"), its authority as the Host header (the server then ignores the one sent).
// Without it a handler that forwards or logs the target would see a URL, its userinfo too.
// Thread-safety: a pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "channel/result.hpp"

namespace paychan::engine::http {

struct OriginForm {
  std::string target;  // "/p?q"
  std::string host;    // "host:port"
};

// An http(s) absolute-form `target` as origin-form and host; nullopt for any other target (left as
// it is). Error http_invalid_request: userinfo ("http://user:pass@host/", to be treated as an error,
// RFC 9110 §4.2.4), no host, or one a Host header could not be (valid_host).
[[nodiscard]] Result<std::optional<OriginForm>> origin_form(std::string_view target);

}  // namespace paychan::engine::http
