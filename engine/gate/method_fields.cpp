#include "engine/gate/method_fields.hpp"

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/http/text.hpp"

namespace paychan::engine::gate {
namespace {

constexpr std::string_view kName = "_method";
constexpr std::size_t kMaxBoundary = 70;    // RFC 2046 §5.1.1
constexpr std::size_t kMaxBoundaries = 4;   // distinct boundary parameters read; more is unreadable

std::string_view skip_blanks(std::string_view s) noexcept {
  s.remove_prefix(std::min(s.find_first_not_of(" \t"), s.size()));
  return s;
}

// A quoted parameter value (from its opening quote), its backslash escapes undone.
std::string unquote(std::string_view quoted) {
  std::string out;
  for (std::size_t i = 1; i < quoted.size() && quoted[i] != quoted.front(); ++i) {
    if (quoted[i] == '\\' && i + 1 < quoted.size()) ++i;
    out += quoted[i];
  }
  return out;
}

// Calls f with each value `param` may have in a header value, as decoders differ: at every place
// "param" occurs followed by '=' (PHP finds a substring, not a parameter), blanks around '='
// allowed; a value quoted with " or ' unescaped; an unquoted one ended at ';', ',' or a blank (PHP
// and Rack stop at ','), and at ';' or a blank alone.
template <typename F>
void each_parameter(std::string_view text, std::string_view param, F f) {
  for (std::size_t at = http::ifind(text, param); at != std::string_view::npos; at = http::ifind(text, param, at + 1)) {
    std::string_view rest = skip_blanks(text.substr(at + param.size()));
    if (!rest.starts_with('=')) continue;
    rest = skip_blanks(rest.substr(1));
    if (rest.starts_with('"') || rest.starts_with('\'')) {
      f(std::string_view(unquote(rest)));
      continue;
    }
    const std::string_view to_comma = rest.substr(0, rest.find_first_of(";, \t\r\n"));
    const std::string_view to_semicolon = rest.substr(0, rest.find_first_of("; \t\r\n"));
    f(to_comma);
    if (to_semicolon != to_comma) f(to_semicolon);
  }
}

// A part's header line that names the part `_method`: a name parameter, or Rack 2's Content-ID.
bool names_method_field(std::string_view header_line) {
  bool named = false;
  each_parameter(header_line, "name", [&](std::string_view v) { named = named || is_method_field(v); });
  if (http::istarts_with(header_line, "content-id:")) {
    std::string_view id = skip_blanks(header_line.substr(11));
    id = id.substr(0, id.find_last_not_of(" \t") + 1);
    named = named || is_method_field(id);
  }
  return named;
}

// The parts of `body` under one boundary, read line by line (each line is compared with the
// delimiter once: linear in the body's size).
FieldScan parts_under(std::string_view body, std::string_view boundary, const MethodFieldSink& sink) {
  const std::string delimiter = "--" + std::string(boundary);
  enum class In { preamble, headers, content } in = In::preamble;
  bool named = false;
  std::size_t content_start = 0;
  for (std::size_t pos = 0;;) {
    const std::size_t newline = body.find('\n', pos);
    std::string_view line = body.substr(pos, newline == std::string_view::npos ? std::string_view::npos : newline - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.starts_with(delimiter)) {
      if (in == In::content && named) {
        // The line break before a delimiter is the delimiter's.
        std::size_t end = std::max(content_start, pos == 0 ? 0 : pos - 1);
        if (end > content_start && body[end - 1] == '\r') --end;
        if (sink(body.substr(content_start, end - content_start))) return FieldScan::stopped;
      }
      in = In::headers;
      named = false;
    } else if (in == In::headers) {
      if (line.empty()) {
        in = In::content;
        content_start = newline == std::string_view::npos ? body.size() : newline + 1;
      } else {
        named = named || names_method_field(line);
      }
    }
    if (newline == std::string_view::npos) break;
    pos = newline + 1;
  }
  // A last part without its closing delimiter still reaches some decoders.
  if (in == In::content && named && sink(body.substr(content_start))) return FieldScan::stopped;
  return FieldScan::read;
}

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
    ++depth_;
    named_ = false;
    return true;
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

FieldScan multipart_method_fields(std::string_view body, std::string_view content_type, const MethodFieldSink& sink) {
  std::vector<std::string> boundaries;
  bool unreadable = false;
  each_parameter(content_type, "boundary", [&](std::string_view b) {
    if (b.empty() || std::find(boundaries.begin(), boundaries.end(), b) != boundaries.end()) return;
    if (b.size() > kMaxBoundary || boundaries.size() == kMaxBoundaries)
      unreadable = true;
    else
      boundaries.emplace_back(b);
  });
  if (unreadable) return FieldScan::unreadable;
  if (boundaries.empty()) return urlencoded_method_fields(body, sink);  // Rack's reading without one
  for (const std::string& boundary : boundaries)
    if (const FieldScan scan = parts_under(body, boundary, sink); scan != FieldScan::read) return scan;
  return FieldScan::read;
}

FieldScan json_method_fields(std::string_view body, const MethodFieldSink& sink) {
  // A member named `_method` holds "method", unless \u escapes spell it: most bodies need no parse.
  if (body.find("method") == std::string_view::npos && body.find("\\u") == std::string_view::npos) return FieldScan::read;
  TopLevelMethod handler(sink);
  rapidjson::MemoryStream stream(body.data(), body.size());
  rapidjson::Reader reader;
  (void)reader.Parse<rapidjson::kParseIterativeFlag>(stream, handler);  // iterative: no recursion on deep nesting
  return handler.stopped ? FieldScan::stopped : FieldScan::read;
}

}  // namespace paychan::engine::gate
