#include "engine/gate/method_fields.hpp"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <string>

#include "engine/http/text.hpp"

namespace paychan::engine::gate {
namespace {

constexpr std::string_view kName = "_method";
// Nesting read in a JSON body: real ones are shallow, and a deep one costs a stack entry a level.
constexpr int kMaxDepth = 64;

// SAX: the top-level object's members named `_method` with a string value.
class TopLevelMethod : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, TopLevelMethod> {
 public:
  explicit TopLevelMethod(const MethodFieldSink& sink) : sink_(sink) {}
  bool Default() {
    named_ = false;
    return true;
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    const bool take = named_;
    named_ = false;
    if (take && sink_(std::string_view(s, n))) {
      stopped = true;
      return false;
    }
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    named_ = depth_ == 1 && is_method_field(std::string_view(s, n));
    return true;
  }
  bool StartObject() { return enter(); }
  bool StartArray() { return enter(); }
  bool EndObject(rapidjson::SizeType) { return leave(); }
  bool EndArray(rapidjson::SizeType) { return leave(); }
  bool stopped = false;

 private:
  bool enter() {
    named_ = false;
    return ++depth_ <= kMaxDepth;  // deeper: a parse error, so the body counts as unreadable
  }
  bool leave() {
    --depth_;
    return true;
  }
  const MethodFieldSink& sink_;
  int depth_ = 0;
  bool named_ = false;
};

}  // namespace

bool is_method_field(std::string_view name) noexcept {
  if (name == kName) return true;
  // PHP (Laravel, Symfony): the name ends at a NUL and loses its leading spaces; a '[' makes it an
  // array (or ends it), never the string field; ' ' and '.' are stored as '_'.
  std::string_view php = name.substr(0, name.find('\0'));
  php = php.substr(std::min(php.find_first_not_of(' '), php.size()));
  if (php.size() == kName.size() &&
      std::equal(php.begin(), php.end(), kName.begin(), [](char c, char k) { return (c == ' ' || c == '.' ? '_' : c) == k; }))
    return true;
  // Rack 2 (Rails): leading brackets dropped, the name ends at the next bracket, and only closing
  // brackets may follow (anything else makes an array or a hash).
  std::string_view rack = name.substr(std::min(name.find_first_not_of("[]"), name.size()));
  const std::size_t end = rack.find_first_of("[]");
  return rack.substr(0, end) == kName &&
         (end == std::string_view::npos || rack.substr(end).find_first_not_of(']') == std::string_view::npos);
}

FieldScan urlencoded_method_fields(std::string_view form, const MethodFieldSink& sink) {
  for (;;) {
    const std::size_t end = form.find_first_of("&;");
    const std::string_view pair = form.substr(0, end);
    const std::size_t eq = pair.find('=');
    const std::string_view name = pair.substr(0, eq);
    // Every reading of `_method` holds "method", unless escapes spell it: others need no decoding.
    if ((name.find_first_of("%+") != std::string_view::npos || name.find("method") != std::string_view::npos) &&
        is_method_field(http::percent_decode(name, true))) {
      const std::string value = eq == std::string_view::npos ? std::string() : http::percent_decode(pair.substr(eq + 1), true);
      if (sink(value)) return FieldScan::stopped;
    }
    if (end == std::string_view::npos) return FieldScan::read;
    form.remove_prefix(end + 1);
  }
}

FieldScan multipart_method_fields(std::string_view body) noexcept {
  const bool may_name = http::ifind(body, "method") != std::string_view::npos ||
                        body.find('\\') != std::string_view::npos || http::ifind(body, "name*") != std::string_view::npos;
  return may_name ? FieldScan::unreadable : FieldScan::read;
}

FieldScan json_method_fields(std::string_view body, const MethodFieldSink& sink) {
  // A member named `_method` holds "method", unless \u escapes spell it: most bodies need no parse.
  if (body.find("method") == std::string_view::npos && body.find("\\u") == std::string_view::npos) return FieldScan::read;
  TopLevelMethod handler(sink);
  rapidjson::MemoryStream stream(body.data(), body.size());
  rapidjson::Reader reader;
  (void)reader.Parse<rapidjson::kParseIterativeFlag>(stream, handler);  // iterative: no recursion on deep nesting
  if (handler.stopped) return FieldScan::stopped;
  return reader.HasParseError() ? FieldScan::unreadable : FieldScan::read;
}

}  // namespace paychan::engine::gate
