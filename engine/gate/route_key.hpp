// The spellings of a request path that the gate's route matching compares.
//
// Upstream frameworks route one path under many spellings: Express ignores case and a trailing
// slash; Go and Flask decode percent-escapes; most collapse repeated slashes, and some resolve dot
// segments while others (Express) hand ".." to a wildcard route as it is; servlet containers drop
// ";params"; Node hands an absolute-form target ("http://host/p") to the router, which takes its
// path. A priced route must be priced under every spelling that may reach it, or that spelling is
// a way in for free. So a route's path is reduced to a key, a request's path to every key an
// upstream may route it under, and the request is priced when any of them matches. A free path
// whose keys collide with a priced one is priced too: charging for it is the safe error.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace paychan::engine::gate {

// How a key treats the things upstreams disagree on.
struct KeyReading {
  bool resolve_dots = true;   // "." and ".." resolved (else kept as segments)
  bool cut_fragment = true;   // '#' and what follows dropped (else part of the path)
  // The loosest routers' reading: escapes decoded twice (an upstream behind another decoding
  // layer), each segment trimmed of spaces and control characters (Spring's tokenizer before
  // 5.3). An exact route's path is compared in it with a request's read the same way.
  bool loose = false;
  // In the loose reading, the last segment's ".format" dropped: from its first dot (Spring's
  // suffix match takes "/chat.*") or its last (Rails' "(.:format)" on every route). A request's
  // key so read names an exact route only: a prefix route's own segment is no request's last.
  enum class Format { kept, from_first_dot, from_last_dot } format = Format::kept;
};

// `path` (a request target up to '?', or a route's path) with: an absolute form's scheme and
// authority dropped, percent-escapes decoded once, '\' read as '/', each segment's ";params"
// dropped, empty segments dropped, no trailing slash, ASCII lower case, and dots, a fragment and
// the loose reading as `reading` says. Always starts with '/'.
[[nodiscard]] std::string route_key(std::string_view path, KeyReading reading = {});

// Whether `path` is its own key under every reading: no escape, ';', '\', '#', dot segment, empty
// segment, trailing slash, upper case, blank or control character, or '.' in its last segment.
// Most requests are; they need no key built.
[[nodiscard]] bool is_route_key(std::string_view path) noexcept;

// A request path's key under one reading, and how it was read.
struct ReadKey {
  std::string key;
  bool loose = false;
  bool format_dropped = false;
};

// The keys of `path` under every reading (up to ten, some perhaps equal).
[[nodiscard]] std::vector<ReadKey> route_keys(std::string_view path);

}  // namespace paychan::engine::gate
