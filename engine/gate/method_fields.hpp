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
  unreadable,  // not readable as every upstream may read it: may name anything
};

// Whether a decoded field name is `_method` to some decoder: as it is; as PHP stores it (cut at a
// NUL, leading spaces dropped, ' ' and '.' read as '_'; a name with '[' is an array there); as
// Rack 2 reads it (leading brackets dropped, and trailing ']').
[[nodiscard]] bool is_method_field(std::string_view name) noexcept;

// application/x-www-form-urlencoded (a query string or a body): pairs split at '&' and at ';'
// (Rack 2 splits at both), names and values percent-decoded with '+' as a space.
FieldScan urlencoded_method_fields(std::string_view form, const MethodFieldSink& sink);

// A multipart body (any multipart/ type) is not parsed: decoders find its boundary and its parts'
// names too differently for one reading to cover them (PHP takes the first "boundary" substring,
// Rack 2 the last; Rack ends a part at a delimiter mid-line; names come quoted, with quoted-pair
// escapes, RFC 2231-encoded, or from a Content-ID). Every spelling of a part named `_method` holds
// "method" in some case, a backslash (an escape) or "name*" (an encoded name): a body with none of
// them is read to the end, naming nothing; one with any is unreadable (it may name anything).
FieldScan multipart_method_fields(std::string_view body) noexcept;

// A JSON body's top-level `_method` member (Laravel reads a JSON body's members as form fields),
// escapes undone. A body rapidjson cannot parse to its end is unreadable: PHP's decoder takes some
// that rapidjson refuses (a number beyond a double's range, say), and reads the members after it.
FieldScan json_method_fields(std::string_view body, const MethodFieldSink& sink);

}  // namespace paychan::engine::gate
