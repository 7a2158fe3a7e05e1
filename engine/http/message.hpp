// HTTP messages as a server handler sees them: a read-only Request and a writable Response. Both are
// thin views over the connection's own Beast messages, so reading a header or filling a response
// copies nothing and this header stays free of Beast.
//
// Header names compare case-insensitively. Values the caller sets are checked: a name must be an
// RFC 9110 token and a value must not contain CR, LF or NUL (no response splitting).
// Thread-safety: a view belongs to one connection; use it on that connection's I/O thread, during
// the handler call that received it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/http/text.hpp"  // iequals, istarts_with: header names compare in any case

namespace paychan::engine::http {

namespace detail {
struct RequestMessage;
struct ResponseMessage;
}  // namespace detail

// An owned header field, for the client's messages.
struct Header {
  std::string name;
  std::string value;
};

using HeaderView = std::pair<std::string_view, std::string_view>;  // name, value

// The first of `headers` named `name` (case-insensitive), or nullopt.
[[nodiscard]] std::optional<std::string_view> find_header(const std::vector<Header>& headers,
                                                          std::string_view name) noexcept;

// Calls `f` with each item of a comma-separated field value (RFC 9110 §5.6.1), its spaces and tabs
// trimmed and empty ones skipped, until `f` returns true; whether it did.
template <typename F>
bool any_list_item(std::string_view list, F f) {
  for (;;) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty() && f(item)) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

// True when `name` is a token and `value` holds no CR, LF or NUL: safe to put on the wire.
[[nodiscard]] bool valid_header(std::string_view name, std::string_view value) noexcept;

class Request {
 public:
  explicit Request(const detail::RequestMessage& message) noexcept : m_(&message) {}

  [[nodiscard]] std::string_view method() const noexcept;  // as sent, e.g. "GET"
  [[nodiscard]] std::string_view target() const noexcept;  // origin form: "/path?query"
  [[nodiscard]] std::string_view path() const noexcept;    // target() up to '?'
  [[nodiscard]] unsigned version() const noexcept;          // 10 or 11
  // The first field named `name`, or nullopt.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
  // Every field in arrival order. Allocates: for forwarding and logs, not for lookups.
  [[nodiscard]] std::vector<HeaderView> headers() const;
  [[nodiscard]] std::string_view body() const noexcept;

 private:
  const detail::RequestMessage* m_;
};

class Response {
 public:
  explicit Response(detail::ResponseMessage& message) noexcept : m_(&message) {}

  // 200 until set. A code outside 200..599 (1xx cannot be final) becomes 500.
  void set_status(int code) noexcept;
  [[nodiscard]] int status() const noexcept;
  // Replaces every field named `name` by one field. False (and nothing set) if not valid_header.
  bool set_header(std::string_view name, std::string_view value);
  // Adds a field after any of the same name. False (and nothing added) if not valid_header.
  bool add_header(std::string_view name, std::string_view value);
  // Removes every field named `name`.
  void erase_header(std::string_view name);
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
  [[nodiscard]] std::vector<HeaderView> headers() const;
  // The body of a buffered response; the server sets Content-Length from it.
  [[nodiscard]] std::string& body() noexcept;
  // Status, Content-Type and body at once.
  void set(int status, std::string_view content_type, std::string body);
  // Asks the server to close the connection after this response.
  void close_connection();

 private:
  detail::ResponseMessage* m_;
};

}  // namespace paychan::engine::http
