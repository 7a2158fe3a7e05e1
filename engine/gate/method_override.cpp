#include "engine/gate/method_override.hpp"

#include <algorithm>

#include "engine/gate/form_fields.hpp"

namespace paychan::engine::gate {
namespace {

constexpr std::string_view kMethodField = "_method";

// Adds a name unless listed already; true once the list is full (`any`): reading may stop.
bool add(OverrideMethods& found, std::string_view method) {
  if (found.any) return true;
  const auto same = [&](const std::string& m) { return http::iequals(m, method); };
  if (method.empty() || std::any_of(found.methods.begin(), found.methods.end(), same)) return false;
  if (found.methods.size() == kMaxOverrideMethods) {
    found.any = true;
    return true;
  }
  found.methods.emplace_back(method);
  return false;
}

bool from_headers(const http::Request& req, OverrideMethods& found) {
  if (std::none_of(kMethodOverrideHeaders.begin(), kMethodOverrideHeaders.end(),
                   [&](std::string_view o) { return req.header(o).has_value(); }))
    return false;
  const auto is_override = [](std::string_view name) {
    return std::any_of(kMethodOverrideHeaders.begin(), kMethodOverrideHeaders.end(),
                       [&](std::string_view o) { return http::iequals(name, o); });
  };
  for (const auto& [name, value] : req.headers())
    if (is_override(name) && http::any_list_item(value, [&](std::string_view method) { return add(found, method); }))
      return true;
  return false;
}

bool from_body(const http::Request& req, OverrideMethods& found) {
  const auto type = req.header("Content-Type");
  if (!type || req.body().empty()) return false;
  const auto take = [&](std::string value) { return add(found, value); };
  if (http::istarts_with(*type, "application/x-www-form-urlencoded"))
    return any_urlencoded_value(req.body(), kMethodField, take);
  if (http::istarts_with(*type, "multipart/form-data"))
    return any_multipart_value(req.body(), *type, kMethodField, take);
  return false;
}

}  // namespace

OverrideMethods override_methods(const http::Request& req) {
  OverrideMethods found;
  if (from_headers(req, found)) return found;
  const std::string_view target = req.target();
  if (const std::size_t query = target.find('?'); query != std::string_view::npos &&
      any_urlencoded_value(target.substr(query + 1), kMethodField, [&](std::string value) { return add(found, value); }))
    return found;
  (void)from_body(req, found);
  return found;
}

}  // namespace paychan::engine::gate
