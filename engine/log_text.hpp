// Text from outside (a peer's error page, a caller's field) made fit for one line of an
// operator's log: control characters cannot forge a line, and a huge field cannot flood it.
// Thread-safety: pure.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace paychan::engine {

// `text` on one line: runs of blanks (newlines, tabs) become one space; other controls (C0, DEL, C1),
// U+2028/U+2029, bidirectional overrides and bytes that are not well-formed UTF-8 become '?'. At most
// `max` bytes of `text` are read (then "…"), cut where a UTF-8 character begins.
[[nodiscard]] std::string one_line(std::string_view text, std::size_t max = 200);

}  // namespace paychan::engine
