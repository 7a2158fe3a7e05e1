// The methods a request names besides its own. Upstream frameworks serve such a request as the
// method it names, so a priced route must be charged for it whichever method it came as
// (OfferTable::find charges the dearest):
//  - the override headers (kMethodOverrideHeaders): Rails' Rack::MethodOverride and Express's
//    method-override serve POST with `X-HTTP-Method-Override: PUT` as PUT. Each comma-separated
//    token of each line counts (Express takes a list's first token, frameworks join repeated lines);
//  - a `_method` field in the query (Laravel and Symfony serve `POST /x?_method=DELETE` as DELETE)
//    or in the body: a form, urlencoded or multipart (Rails, Laravel), or JSON (Laravel); as
//    method_fields.hpp reads them. A body it cannot read (compressed, a multipart body that may
//    name one, JSON it cannot parse) may name any method.
// Read whatever the request's own method (most frameworks read them on POST only): charging for a
// method the upstream would not take is the safe error.
// Thread-safety: pure functions of the request.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "engine/http/message.hpp"

namespace paychan::engine::gate {

// The request headers through which upstream frameworks let a client name another method.
inline constexpr std::array<std::string_view, 3> kMethodOverrideHeaders = {"X-HTTP-Method-Override", "X-HTTP-Method",
                                                                           "X-Method-Override"};
// Distinct names listed at most; a request naming more is priced as any method.
inline constexpr std::size_t kMaxOverrideMethods = 8;

struct OverrideMethods {
  std::vector<std::string> methods;  // distinct in any case, as sent
  bool any = false;  // more than kMaxOverrideMethods, or a body not readable: every route on the path applies

  [[nodiscard]] bool empty() const noexcept { return methods.empty() && !any; }
};

// What `req` names: its headers, its query and, once the body is here, its body.
[[nodiscard]] OverrideMethods override_methods(const http::Request& req);

}  // namespace paychan::engine::gate
