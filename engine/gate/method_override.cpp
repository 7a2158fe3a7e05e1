#include "engine/gate/method_override.hpp"

#include <algorithm>

#include "engine/gate/method_fields.hpp"
#include "engine/http/text.hpp"

namespace paychan::engine::gate {
namespace {

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

bool from_headers(const http::Request& req, const MethodFieldSink& sink) {
  if (std::none_of(kMethodOverrideHeaders.begin(), kMethodOverrideHeaders.end(),
                   [&](std::string_view o) { return req.header(o).has_value(); }))
    return false;
  const auto is_override = [](std::string_view name) {
    return std::any_of(kMethodOverrideHeaders.begin(), kMethodOverrideHeaders.end(),
                       [&](std::string_view o) { return http::iequals(name, o); });
  };
  for (const auto& [name, value] : req.headers())
    if (is_override(name) && http::any_list_item(value, [&](std::string_view m) { return sink(m); })) return true;
  return false;
}

// The query as sent, and without a fragment (Express's parser drops one; PHP's keeps it).
bool from_query(std::string_view target, const MethodFieldSink& sink) {
  const std::size_t query = target.find('?');
  if (query == std::string_view::npos) return false;
  const std::string_view whole = target.substr(query + 1);
  const std::string_view cut = whole.substr(0, whole.find('#'));
  return urlencoded_method_fields(whole, sink) == FieldScan::stopped ||
         (cut.size() != whole.size() && urlencoded_method_fields(cut, sink) == FieldScan::stopped);
}

// A form body: urlencoded, or without a Content-Type (Rack reads a POST's as a form); multipart; JSON.
FieldScan from_body(const http::Request& req, const MethodFieldSink& sink) {
  const std::string_view body = req.body();
  if (body.empty()) return FieldScan::read;
  // A compressed body cannot be read here; Express inflates one before reading its fields.
  if (const auto coding = req.header("Content-Encoding"); coding && !http::iequals(*coding, "identity"))
    return FieldScan::unreadable;
  const std::string_view type = req.header("Content-Type").value_or("");
  if (type.empty() || http::istarts_with(type, "application/x-www-form-urlencoded"))
    return urlencoded_method_fields(body, sink);
  if (http::istarts_with(type, "multipart/")) return multipart_method_fields(body);
  if (http::ifind(type, "/json") != std::string_view::npos || http::ifind(type, "+json") != std::string_view::npos)
    return json_method_fields(body, sink);
  return FieldScan::read;
}

}  // namespace

OverrideMethods override_methods(const http::Request& req) {
  OverrideMethods found;
  const MethodFieldSink sink = [&found](std::string_view method) { return add(found, method); };
  if (from_headers(req, sink) || from_query(req.target(), sink)) return found;
  if (from_body(req, sink) == FieldScan::unreadable) found.any = true;
  return found;
}

}  // namespace paychan::engine::gate
