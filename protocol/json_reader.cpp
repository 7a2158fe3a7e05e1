#include "protocol/json_reader.hpp"

#include <rapidjson/encodings.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "channel/hex.hpp"
#include "protocol/json_depth.hpp"

namespace paychan::protocol {
namespace {

const rapidjson::Value& null_value() {
  static const rapidjson::Value v;
  return v;
}

std::string_view name_of(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// What RapidJSON accepts but x402 must not, anywhere in the tree:
//  - duplicate member names (RapidJSON keeps both; JavaScript keeps the last);
//  - numbers that are not exact integers (fractions, exponents, beyond 64 bits): x402 sends no
//    such numbers, and passing one through as a double would change its text.
// x402 objects have a handful of members: compare pairwise on the stack, sort only big objects.
constexpr const char* kDuplicate = "duplicate key in JSON object";
constexpr const char* kBadText = "string is not valid UTF-8 (an escaped lone surrogate?)";

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). Raw input text is
// validated by the parser when it is not ASCII, but \u escapes can still produce a lone surrogate,
// which could not be written back as valid text.
bool valid_utf8(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
    if (n == 0 || b > 0xf4 || i + n > s.size()) return false;
    std::uint32_t cp = b & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xc0) != 0x80) return false;
      cp = cp << 6 | (c & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}

bool has_high_byte(const rapidjson::Value& str) noexcept {
  const char* p = str.GetString();
  return std::any_of(p, p + str.GetStringLength(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// `check_text`: whether strings can hold bytes above 0x7f at all (see Text below).
const char* tree_problem(const rapidjson::Value& v, bool check_text) {
  if (v.IsDouble()) return "number is not an exact integer";
  if (check_text && v.IsString() && has_high_byte(v) && !valid_utf8(name_of(v))) return kBadText;
  if (v.IsArray()) {
    for (const auto& e : v.GetArray())
      if (const char* p = tree_problem(e, check_text)) return p;
    return nullptr;
  }
  if (!v.IsObject()) return nullptr;
  for (const auto& m : v.GetObject()) {
    if (const char* p = tree_problem(m.name, check_text)) return p;
    if (const char* p = tree_problem(m.value, check_text)) return p;
  }
  const auto members = v.GetObject();
  if (members.MemberCount() <= 16) {
    for (auto a = members.MemberBegin(); a != members.MemberEnd(); ++a)
      for (auto b = a + 1; b != members.MemberEnd(); ++b)
        if (a->name == b->name) return kDuplicate;
    return nullptr;
  }
  std::vector<std::string_view> names;
  names.reserve(members.MemberCount());
  for (const auto& m : members) names.push_back(name_of(m.name));
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) != names.end() ? kDuplicate : nullptr;
}

// JSON text is mostly ASCII, which needs no UTF-8 validation; only text with high bytes pays for it.
bool is_ascii(std::string_view text) noexcept {
  std::uint64_t high = 0;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    high |= word;
  }
  for (; i < text.size(); ++i) high |= static_cast<unsigned char>(text[i]);
  return (high & 0x8080808080808080ULL) == 0;
}

template <typename Writer>
void write_canonical(const rapidjson::Value& v, Writer& w) {
  if (v.IsObject()) {
    std::vector<const rapidjson::Value::Member*> members;
    for (const auto& m : v.GetObject()) members.push_back(&m);
    std::sort(members.begin(), members.end(), [](auto* a, auto* b) { return name_of(a->name) < name_of(b->name); });
    w.StartObject();
    for (const auto* m : members) {
      w.Key(m->name.GetString(), m->name.GetStringLength());
      write_canonical(m->value, w);
    }
    w.EndObject();
  } else if (v.IsArray()) {
    w.StartArray();
    for (const auto& e : v.GetArray()) write_canonical(e, w);
    w.EndArray();
  } else {
    v.Accept(w);
  }
}

// What the text's bytes allow, found before parsing (in-place parsing rewrites them).
struct Text {
  bool ascii = false;  // no byte above 0x7f: the parser need not validate UTF-8
  // Parsed strings can hold bytes above 0x7f only from non-ASCII text or a backslash-u escape; a
  // PAYMENT-SIGNATURE has neither, so the per-string UTF-8 scan after parsing is skipped.
  bool high_bytes_possible = true;
};

// The checks both parsers share, before any parsing.
Status precheck(std::string_view text, ErrorCode code, std::size_t max_bytes, Text& kind) {
  if (text.size() > max_bytes)
    return fail(ErrorCode::input_too_large, "JSON exceeds " + std::to_string(max_bytes) + " bytes");
  if (!json_depth_within(text)) return fail(code, "JSON nests deeper than " + std::to_string(kMaxJsonDepth));
  kind.ascii = is_ascii(text);
  kind.high_bytes_possible = !kind.ascii || text.find("\\u") != std::string_view::npos;
  return {};
}

template <typename Document>
Result<Document> checked(Document doc, ErrorCode code, const Text& kind) {
  if (doc.HasParseError()) return fail(code, "not valid JSON (at byte " + std::to_string(doc.GetErrorOffset()) + ")");
  if (const char* problem = tree_problem(doc, kind.high_bytes_possible)) return fail(code, problem);
  return doc;
}

constexpr unsigned kFlags = rapidjson::kParseIterativeFlag;
constexpr std::size_t kParseStackBytes = 1024;  // RapidJSON's default; it grows in the arena as needed
constexpr unsigned kValidating = kFlags | rapidjson::kParseValidateEncodingFlag;

}  // namespace

Result<rapidjson::Document> parse_untrusted(std::string_view text, ErrorCode code, std::size_t max_bytes) {
  Text kind;
  PAYCHAN_TRY(precheck(text, code, max_bytes, kind));
  rapidjson::Document doc;
  if (kind.ascii) {
    doc.Parse<kFlags>(text.data(), text.size());
  } else {
    doc.Parse<kValidating>(text.data(), text.size());
  }
  return checked(std::move(doc), code, kind);
}

Result<ArenaDocument> parse_untrusted_in_place(std::string& text, rapidjson::MemoryPoolAllocator<>& arena,
                                               ErrorCode code, std::size_t max_bytes) {
  Text kind;
  PAYCHAN_TRY(precheck(text, code, max_bytes, kind));
  ArenaDocument doc(&arena, kParseStackBytes, &arena);
  if (!kind.ascii) {
    // RapidJSON 1.1.0's UTF-8 validation reads past the end of an in-place buffer on a truncated
    // multi-byte sequence (found by fuzz_payment_signature_header): non-ASCII text takes the
    // length-bounded path, which copies its strings into the arena.
    doc.Parse<kValidating>(text.data(), text.size());
  } else {
    // In-place parsing stops at a NUL, which would hide what follows.
    if (text.find('\0') != std::string::npos) return fail(code, "NUL byte in JSON");
    doc.ParseInsitu<kFlags>(text.data());
  }
  return checked(std::move(doc), code, kind);
}

Json JsonAccess::from_value(const rapidjson::Value& v) {
  Json j;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  j.text_.assign(buf.GetString(), buf.GetSize());
  return j;
}

Result<Json> Json::parse(std::string_view text) {
  auto doc = parse_untrusted(text, ErrorCode::malformed_json);
  if (!doc) return doc.failure();
  return JsonAccess::from_value(*doc);
}

Json Json::trusted(std::string text) {
  Json j;
  j.text_ = std::move(text);
  return j;
}

std::string Json::canonical_form() const {
  // text_ is compact JSON that we wrote ourselves (from a parsed value, or our own writer's).
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text_.data(), text_.size());
  if (doc.HasParseError()) return text_;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  write_canonical(doc, w);
  return {buf.GetString(), buf.GetSize()};
}

bool operator==(const Json& a, const Json& b) {
  if (a.text_ == b.text_) return true;  // the same bytes: the same value, no canonical form needed
  return a.canonical_form() == b.canonical_form();
}

Fields::Fields(const rapidjson::Value& v, std::string path, ErrorCode code)
    : v_(&v), path_(std::move(path)), code_(code) {}

Failure Fields::error(const char* name, std::string_view what) const {
  std::string where = path_;
  if (name != nullptr && *name != '\0') where += (where.empty() ? "" : ".") + std::string{name};
  return fail(code_, where + ": " + std::string{what});
}

Status Fields::is_object() const {
  if (!v_->IsObject()) return error("", "must be a JSON object");
  return {};
}

Status Fields::only(std::initializer_list<std::string_view> known) const {
  if (!v_->IsObject()) return error("", "must be a JSON object");
  for (auto it = v_->MemberBegin(); it != v_->MemberEnd(); ++it) {
    if (std::find(known.begin(), known.end(), name_of(it->name)) == known.end())
      return error(std::string(name_of(it->name)).c_str(), "is not a member this input takes (misspelt?)");
  }
  return {};
}

bool Fields::has(const char* name) const { return v_->IsObject() && v_->FindMember(name) != v_->MemberEnd(); }

Result<const rapidjson::Value*> Fields::value(const char* name) const {
  if (!v_->IsObject()) return error("", "must be a JSON object");
  const auto it = v_->FindMember(name);
  if (it == v_->MemberEnd()) return error(name, "is required");
  return &it->value;
}

Result<std::string_view> Fields::text(const char* name) const {
  auto v = value(name);
  if (!v) return v.failure();
  if (!(*v)->IsString()) return error(name, "must be a string");
  return name_of(**v);
}

Result<std::string> Fields::string(const char* name) const {
  auto s = text(name);
  if (!s) return s.failure();
  return std::string{*s};
}

Result<std::optional<std::string>> Fields::optional_string(const char* name) const {
  if (!has(name)) return std::optional<std::string>{};
  auto s = string(name);
  if (!s) return s.failure();
  return std::optional<std::string>{std::move(*s)};
}

Result<bool> Fields::boolean(const char* name) const {
  auto v = value(name);
  if (!v) return v.failure();
  if (!(*v)->IsBool()) return error(name, "must be true or false");
  return (*v)->GetBool();
}

Result<std::uint64_t> Fields::uint64(const char* name, std::uint64_t max) const {
  auto v = value(name);
  if (!v) return v.failure();
  // RapidJSON marks a literal Uint64 only when it has no sign, fraction or exponent.
  if (!(*v)->IsUint64()) return error(name, "must be a non-negative integer");
  if ((*v)->GetUint64() > max) return error(name, "is out of range");
  return (*v)->GetUint64();
}

Result<Address> Fields::address(const char* name) const {
  auto s = text(name);
  if (!s) return s.failure();
  auto a = parse_address(*s);
  if (!a) return error(name, a.error().detail);
  return a;
}

Result<Bytes32> Fields::bytes32(const char* name) const {
  auto s = text(name);
  if (!s) return s.failure();
  auto b = fixed_from_hex<32>(*s);
  if (!b) return error(name, "must be 0x followed by 64 hex digits");
  return b;
}

Result<Signature> Fields::signature(const char* name) const {
  auto s = text(name);
  if (!s) return s.failure();
  auto sig = parse_signature(*s);
  if (!sig) return error(name, "must be a 65-byte hex signature");
  return sig;
}

Result<WalletSignature> Fields::wallet_signature(const char* name) const {
  auto s = text(name);
  if (!s) return s.failure();
  auto sig = parse_wallet_signature(*s);
  if (!sig) return error(name, "must be 0x followed by 1 to " + std::to_string(WalletSignature::kMaxBytes) +
                                   " bytes of hex");
  return sig;
}

Result<Uint128> Fields::uint128(const char* name) const {
  auto s = text(name);
  if (!s) return s.failure();
  auto v = parse_uint128(*s);
  if (!v) return error(name, v.error().to_string());
  return v;
}

Result<U256> Fields::u256(const char* name) const {
  auto s = text(name);
  if (!s) return s.failure();
  auto v = U256::parse(*s);
  if (!v) return error(name, v.error().to_string());
  return v;
}

Result<U256> Fields::u256_or_number(const char* name) const {
  auto v = value(name);
  if (!v) return v.failure();
  if ((*v)->IsUint64()) return U256{Uint128{(*v)->GetUint64()}};
  return u256(name);
}

Result<Json> Fields::json(const char* name) const {
  auto v = value(name);
  if (!v) return v.failure();
  return JsonAccess::from_value(**v);
}

Fields Fields::object(const char* name) const {
  const std::string path = path_.empty() ? std::string{name} : path_ + "." + name;
  if (!v_->IsObject()) return Fields(null_value(), path, code_);
  const auto it = v_->FindMember(name);
  return Fields(it == v_->MemberEnd() ? null_value() : it->value, path, code_);
}

}  // namespace paychan::protocol
