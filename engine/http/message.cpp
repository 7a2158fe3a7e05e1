#include "engine/http/message.hpp"

#include <algorithm>
#include <cstring>

#include "engine/http/detail/framing.hpp"
#include "engine/http/detail/messages.hpp"

namespace paychan::engine::http {
namespace {

// tchar from RFC 9110 §5.6.2.
bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

std::optional<std::string_view> find(const bhttp::fields& fields, std::string_view name) noexcept {
  auto it = fields.find(name);
  if (it == fields.end()) return std::nullopt;
  return it->value();
}

std::vector<HeaderView> list(const bhttp::fields& fields) {
  std::vector<HeaderView> out;
  for (const auto& f : fields) out.emplace_back(f.name_string(), f.value());
  return out;
}

}  // namespace

bool valid_header(std::string_view name, std::string_view value) noexcept {
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_tchar)) return false;
  // Three memchr scans, not find_first_of: values such as PAYMENT-RESPONSE are ~1 KB, and
  // find_first_of tests each byte against the set one call at a time (~7k instructions per value).
  const auto has = [value](char c) { return !value.empty() && std::memchr(value.data(), c, value.size()) != nullptr; };
  return !has('\r') && !has('\n') && !has('\0');
}

std::optional<std::string_view> find_header(const std::vector<Header>& headers, std::string_view name) noexcept {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::string_view Request::method() const noexcept { return m_->m.method_string(); }
std::string_view Request::target() const noexcept { return m_->m.target(); }
std::string_view Request::path() const noexcept {
  auto t = target();
  return t.substr(0, t.find('?'));
}
unsigned Request::version() const noexcept { return m_->m.version(); }
std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
  return find(m_->m.base(), name);
}
std::vector<HeaderView> Request::headers() const { return list(m_->m.base()); }
std::string_view Request::body() const noexcept { return m_->m.body(); }

void Response::set_status(int code) noexcept {
  m_->m.result(code >= 200 && code <= 599 ? static_cast<unsigned>(code) : 500u);
}
int Response::status() const noexcept { return static_cast<int>(m_->m.result_int()); }
bool Response::set_header(std::string_view name, std::string_view value) {
  if (!valid_header(name, value)) return false;
  m_->m.set(name, value);
  return true;
}
bool Response::add_header(std::string_view name, std::string_view value) {
  if (!valid_header(name, value)) return false;
  m_->m.insert(name, value);
  return true;
}
void Response::erase_header(std::string_view name) { m_->m.erase(name); }
std::optional<std::string_view> Response::header(std::string_view name) const noexcept {
  return find(m_->m.base(), name);
}
std::vector<HeaderView> Response::headers() const { return list(m_->m.base()); }
std::string& Response::body() noexcept { return m_->m.body(); }
void Response::set(int status, std::string_view content_type, std::string body) {
  set_status(status);
  set_header("Content-Type", content_type);
  m_->m.body() = std::move(body);
}
// A "close" token, said outright and after the handler's own: keep_alive(false) on an HTTP/1.0
// answer only drops a "keep-alive" token, which a 1.0 client asking for keep-alive would then be
// answered with again.
void Response::close_connection() {
  auto& m = m_->m;
  m.keep_alive(false);
  if (detail::asks_to_close(m)) return;
  const std::string tokens(m[bhttp::field::connection]);
  m.set(bhttp::field::connection, tokens.empty() ? "close" : tokens + ", close");
}

}  // namespace paychan::engine::http
