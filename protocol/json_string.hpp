// A string as a JSON string literal, for the few bodies and log fields built by hand outside
// protocol/ (an error's message): escaped as every JSON paychan writes is (json_writer.hpp).
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>

namespace paychan::protocol {

// `text` between double quotes, with \" \\ \b \f \n \r \t and \u00XX for the other control characters.
// Other bytes pass as they are: text that is not UTF-8 stays so (JSON wants UTF-8).
[[nodiscard]] std::string json_string(std::string_view text);

}  // namespace paychan::protocol
