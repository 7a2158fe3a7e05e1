// An opaque JSON value that paychan passes through without interpreting: another scheme's payload,
// an `extra` object, `extensions`. It keeps two compact forms: `text`, in the member order it
// arrived in (so a re-encoded message is byte-exact), and `canonical`, with object members sorted
// recursively (so equality ignores key order, like the reference's deep-equal offer matching).
// Thread-safety: immutable value.
#pragma once

#include <string>
#include <string_view>

#include "channel/result.hpp"

namespace paychan::protocol {

class Json {
 public:
  Json() = default;  // absent

  // Parses untrusted text (size, depth and duplicate-key checked). Errors: malformed_json,
  // input_too_large.
  [[nodiscard]] static Result<Json> parse(std::string_view text);

  // paychan's own output (a JsonWriter's compact text, valid by construction), kept without
  // parsing: for values that are only sent, such as a PAYMENT-RESPONSE's extra on the hot path.
  // Its canonical form is derived only if it is ever compared.
  [[nodiscard]] static Json trusted(std::string text);

  [[nodiscard]] bool present() const noexcept { return !text_.empty(); }
  [[nodiscard]] const std::string& text() const noexcept { return text_; }
  friend bool operator==(const Json& a, const Json& b);

 private:
  friend struct JsonAccess;
  [[nodiscard]] std::string canonical_form() const;
  std::string text_;
  std::string canonical_;
  bool trusted_ = false;  // canonical_ not computed
};

}  // namespace paychan::protocol
