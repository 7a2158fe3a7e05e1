// The `_method` field, through which Rails, Laravel and Symfony serve a POST as another method, as
// their decoders find it in a query string, a form body or a JSON body. Decoders differ (in how
// they split, unescape and normalize names, in how they find a multipart boundary): every reading
// counts, since a value too many prices a request higher, which is the safe error, and a reading
// missed is a way in at a lower price.
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string_view>

namespace paychan::engine::gate {

// Called with each value found; true stops the scan.
using MethodFieldSink = std::function<bool(std::string_view)>;

enum class FieldScan {
  read,        // to the end
  stopped,     // the sink returned true
  unreadable,  // not readable as an upstream may read it (an over-long boundary): may name anything
};

// Whether a decoded field name is `_method` to some decoder: as it is; as PHP stores it (cut at a
// NUL, leading spaces dropped, ' ' and '.' read as '_'; a name with '[' is an array there); as
// Rack 2 reads it (leading brackets dropped, and trailing ']').
[[nodiscard]] bool is_method_field(std::string_view name) noexcept;

// application/x-www-form-urlencoded (a query string or a body): pairs split at '&' and at ';'
// (Rack 2 splits at both), names and values percent-decoded with '+' as a space.
FieldScan urlencoded_method_fields(std::string_view form, const MethodFieldSink& sink);

// A multipart body under Content-Type `content_type` (any multipart/ type): under every boundary
// parameter the type holds (decoders take the first or the last), parts split at lines starting
// "--boundary" ending in CRLF or a bare LF, and a part named by a `name` parameter (quoted either
// way, backslash escapes undone) or a Content-ID header. Without a boundary, read as urlencoded
// (Rack does). A boundary over 70 bytes (RFC 2046's limit) is unreadable.
FieldScan multipart_method_fields(std::string_view body, std::string_view content_type, const MethodFieldSink& sink);

// A JSON body's top-level `_method` member (Laravel reads a JSON body's members as form fields),
// escapes undone. Members before a syntax error count.
FieldScan json_method_fields(std::string_view body, const MethodFieldSink& sink);

}  // namespace paychan::engine::gate
