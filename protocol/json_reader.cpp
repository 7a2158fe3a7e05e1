#include "protocol/json_reader.hpp"

#include <rapidjson/encodings.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
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

// Duplicate member names anywhere in the tree (RapidJSON keeps them; JavaScript keeps the last).
bool has_duplicate_keys(const rapidjson::Value& v) {
  if (v.IsArray()) return std::any_of(v.Begin(), v.End(), [](const rapidjson::Value& e) { return has_duplicate_keys(e); });
  if (!v.IsObject()) return false;
  std::vector<std::string_view> names;
  names.reserve(v.MemberCount());
  for (const auto& m : v.GetObject()) {
    if (has_duplicate_keys(m.value)) return true;
    names.push_back(name_of(m.name));
  }
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) != names.end();
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

}  // namespace

Result<rapidjson::Document> parse_untrusted(std::string_view text, ErrorCode code, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    return fail(ErrorCode::input_too_large, "JSON exceeds " + std::to_string(max_bytes) + " bytes");
  if (!json_depth_within(text)) return fail(code, "JSON nests deeper than " + std::to_string(kMaxJsonDepth));
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError()) return fail(code, "not valid JSON (at byte " + std::to_string(doc.GetErrorOffset()) + ")");
  if (has_duplicate_keys(doc)) return fail(code, "duplicate key in JSON object");
  return doc;
}

Json JsonAccess::from_value(const rapidjson::Value& v) {
  Json j;
  {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    j.text_.assign(buf.GetString(), buf.GetSize());
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  write_canonical(v, w);
  j.canonical_.assign(buf.GetString(), buf.GetSize());
  return j;
}

Result<Json> Json::parse(std::string_view text) {
  auto doc = parse_untrusted(text, ErrorCode::malformed_json);
  if (!doc) return doc.failure();
  return JsonAccess::from_value(*doc);
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

bool Fields::has(const char* name) const { return v_->IsObject() && v_->FindMember(name) != v_->MemberEnd(); }

Result<const rapidjson::Value*> Fields::value(const char* name) const {
  if (!v_->IsObject()) return error("", "must be a JSON object");
  const auto it = v_->FindMember(name);
  if (it == v_->MemberEnd()) return error(name, "is required");
  return &it->value;
}

Result<std::string> Fields::string(const char* name) const {
  auto v = value(name);
  if (!v) return v.failure();
  if (!(*v)->IsString()) return error(name, "must be a string");
  return std::string{name_of(**v)};
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
  auto s = string(name);
  if (!s) return s.failure();
  auto a = parse_address(*s);
  if (!a) return error(name, a.error().detail);
  return a;
}

Result<Bytes32> Fields::bytes32(const char* name) const {
  auto s = string(name);
  if (!s) return s.failure();
  auto b = fixed_from_hex<32>(*s);
  if (!b) return error(name, "must be 0x followed by 64 hex digits");
  return b;
}

Result<Signature> Fields::signature(const char* name) const {
  auto s = string(name);
  if (!s) return s.failure();
  auto sig = parse_signature(*s);
  if (!sig) return error(name, "must be a 65-byte hex signature");
  return sig;
}

Result<Uint128> Fields::uint128(const char* name) const {
  auto s = string(name);
  if (!s) return s.failure();
  auto v = parse_uint128(*s);
  if (!v) return error(name, v.error().to_string());
  return v;
}

Result<U256> Fields::u256(const char* name) const {
  auto s = string(name);
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
