// The spelling of a request path that the gate's route matching compares.
//
// Upstream frameworks route one path under many spellings: Express ignores case and a trailing
// slash; Go and Flask decode percent-escapes; most collapse repeated slashes and resolve dot
// segments; servlet containers drop ";params"; Node hands an absolute-form target
// ("http://host/p") to the router, which takes its path. A priced route must be priced under every
// spelling that may reach it, or that spelling is a way in for free. So a route and each request
// are both reduced to this key, and a request is priced when its key matches a route's. A free
// path whose key collides with a priced one is priced too: charging for it is the safe error.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace paychan::engine::gate {

// `path` (a request target up to '?', or a route's path) with: an absolute form's scheme and
// authority dropped, a fragment dropped, percent-escapes decoded once, '\' read as '/', each
// segment's ";params" dropped, empty and "." segments dropped, ".." resolved, no trailing slash,
// ASCII lower case. Always starts with '/'.
[[nodiscard]] std::string route_key(std::string_view path);

}  // namespace paychan::engine::gate
