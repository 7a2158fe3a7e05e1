// Fields of an HTML form as upstream frameworks decode them, for the one field the gate looks for:
// `_method`, through which Rails, Laravel and Symfony serve a POST as another method. Where
// decoders differ, every reading counts (a value too many prices a request higher: the safe error).
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace paychan::engine::gate {

// Calls `f` with each value of field `name` in `form`, application/x-www-form-urlencoded (a query
// string or a body), until `f` returns true; whether it did. Pairs split at '&' and at ';' (Rack 2
// splits at both); names and values are percent-decoded with '+' as a space. A name matches as PHP
// reads it too: leading spaces dropped, then ' ', '.' and '[' read as '_'.
bool any_urlencoded_value(std::string_view form, std::string_view name, const std::function<bool(std::string)>& f);

// The same for a multipart/form-data body whose Content-Type is `content_type` (its boundary
// parameter): each part whose headers hold name="NAME" or name=NAME, in any case, gives its
// content. Without a boundary nothing matches.
bool any_multipart_value(std::string_view body, std::string_view content_type, std::string_view name,
                         const std::function<bool(std::string)>& f);

}  // namespace paychan::engine::gate
