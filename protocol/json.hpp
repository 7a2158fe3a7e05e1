// An opaque JSON value that paychan passes through without interpreting: another scheme's payload,
// an `extra` object, `extensions`. It keeps its compact text in the member order it arrived in (so
// a re-encoded message is byte-exact). Equality ignores key order, like the reference's deep-equal
// offer matching: equal texts are equal at once (the common case — a client echoes the offer's
// bytes), and only different texts are compared in a canonical form (members sorted recursively).
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
  // parsing: for values built on the hot path, such as a PAYMENT-RESPONSE's extra.
  [[nodiscard]] static Json trusted(std::string text);

  [[nodiscard]] bool present() const noexcept { return !text_.empty(); }
  [[nodiscard]] const std::string& text() const noexcept { return text_; }
  friend bool operator==(const Json& a, const Json& b);

 private:
  friend struct JsonAccess;
  [[nodiscard]] std::string canonical_form() const;
  std::string text_;
};

}  // namespace paychan::protocol
