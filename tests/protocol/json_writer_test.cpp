// JsonWriter writes what rapidjson's Writer<StringBuffer> (its former engine, the oracle here)
// writes for the same calls, byte for byte: any string (control characters, quotes, backslashes,
// NUL, bytes above 0x7F), numbers, booleans, raw values, and nesting with the commas between.
#include "protocol/json_writer.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <vector>

#include "protocol/json_string.hpp"

namespace paychan::protocol {
namespace {

// A tree of values to write: each node is written by both writers through the same calls.
struct Node {
  enum Kind { string, number, boolean, raw, object, array } kind = string;
  std::string text;  // the string, or the raw value's JSON
  std::uint64_t n = 0;
  std::vector<std::pair<std::string, Node>> children;  // keys are ignored in an array
};

// The bytes next to the escaped ones: \0, 0x1f, '"', '\\' and '\n' need one, ' ', 0x7f, 0x80 and
// 0xff do not.
const std::string kEdges("\"\\/\b\f\n\r\t\x01\x1f\x7f \x80\xff\0u", 16);

rc::Gen<std::string> any_string() {
  // Dense: half of them edge bytes. Sparse: plain text up to 70 bytes with an edge byte now and
  // then, so that words of 8 are skipped whole and an escape falls at any offset of a word.
  auto dense = rc::gen::container<std::string>(rc::gen::oneOf(rc::gen::elementOf(kEdges), rc::gen::arbitrary<char>()));
  auto sparse = rc::gen::container<std::string>(rc::gen::weightedOneOf<char>(
      {{12, rc::gen::inRange<char>(0x21, 0x7f)}, {1, rc::gen::elementOf(kEdges)}}));
  return rc::gen::oneOf(rc::gen::resize(40, dense), rc::gen::resize(70, sparse));
}

// Up to four members or elements.
template <typename Gen>
auto few(Gen member) {
  using Member = typename decltype(member)::ValueType;
  return rc::gen::mapcat(rc::gen::inRange(0, 5), [member](int n) {
    return rc::gen::container<std::vector<Member>>(static_cast<std::size_t>(n), member);
  });
}

rc::Gen<Node> any_node(int depth) {
  auto leaf = rc::gen::oneOf(rc::gen::map(any_string(), [](std::string s) { return Node{Node::string, s}; }),
                             rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                                          [](std::uint64_t n) { return Node{Node::number, {}, n}; }),
                             rc::gen::map(rc::gen::arbitrary<bool>(),
                                          [](bool b) { return Node{Node::boolean, {}, b ? 1u : 0u}; }),
                             rc::gen::map(rc::gen::elementOf(std::vector<std::string>{"{}", "{\"a\":[1,2]}", "{\"b\":\"x\"}"}),
                                          [](std::string j) { return Node{Node::raw, j}; }));
  if (depth == 0) return leaf;
  auto members = few(rc::gen::pair(any_string(), rc::gen::lazy([depth] { return any_node(depth - 1); })));
  return rc::gen::oneOf(leaf, rc::gen::map(members, [](auto m) { return Node{Node::object, {}, 0, std::move(m)}; }),
                        rc::gen::map(members, [](auto m) { return Node{Node::array, {}, 0, std::move(m)}; }));
}

// A member of an object (key non-empty or not, as JsonWriter's methods take them) or an element.
void write_ours(JsonWriter& w, const std::string* key, const Node& node) {
  const std::string k = key ? *key : "";
  switch (node.kind) {
    case Node::string: key ? w.str(k, node.text) : w.value(node.text); break;
    case Node::number: w.number(k, node.n); break;
    case Node::boolean: w.boolean(k, node.n != 0); break;
    case Node::raw: key ? w.raw(k, *Json::parse(node.text)) : w.raw(*Json::parse(node.text)); break;
    case Node::object:
      key ? w.object(k) : w.object("");
      for (const auto& [name, child] : node.children) write_ours(w, &name, child);
      w.end();
      break;
    case Node::array:
      w.begin_array(k);
      for (const auto& [name, child] : node.children) write_ours(w, nullptr, child);
      w.end_array();
      break;
  }
}

void write_rapidjson(rapidjson::Writer<rapidjson::StringBuffer>& w, const std::string* key, const Node& node) {
  if (key) w.Key(key->data(), static_cast<rapidjson::SizeType>(key->size()));
  switch (node.kind) {
    case Node::string: w.String(node.text.data(), static_cast<rapidjson::SizeType>(node.text.size())); break;
    case Node::number: w.Uint64(node.n); break;
    case Node::boolean: w.Bool(node.n != 0); break;
    case Node::raw: w.RawValue(node.text.data(), node.text.size(), rapidjson::kObjectType); break;
    case Node::object:
      w.StartObject();
      for (const auto& [name, child] : node.children) write_rapidjson(w, &name, child);
      w.EndObject();
      break;
    case Node::array:
      w.StartArray();
      for (const auto& [name, child] : node.children) write_rapidjson(w, nullptr, child);
      w.EndArray();
      break;
  }
}

// What JsonWriter's methods cannot express is dropped from the tree: number(), boolean() and
// begin_array() always write a key, so an array's elements are strings, raw values and objects;
// object("") writes none, so a member object has a non-empty key.
bool writable_as_element(const Node& n) { return n.kind == Node::string || n.kind == Node::raw || n.kind == Node::object; }
void keep_writable(Node& n) {
  if (n.kind == Node::array) std::erase_if(n.children, [](const auto& c) { return !writable_as_element(c.second); });
  if (n.kind == Node::object)
    std::erase_if(n.children, [](const auto& c) { return c.first.empty() && c.second.kind == Node::object; });
  for (auto& [name, child] : n.children) keep_writable(child);
}

RC_GTEST_PROP(JsonWriter, WritesWhatRapidjsonWrites, ()) {
  Node root{Node::object, {}, 0, *few(rc::gen::pair(any_string(), any_node(2)))};
  keep_writable(root);
  JsonWriter ours;
  write_ours(ours, nullptr, root);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> theirs(buf);
  write_rapidjson(theirs, nullptr, root);
  RC_ASSERT(ours.take() == std::string(buf.GetString(), buf.GetSize()));
}

std::string rapidjson_string(std::string_view text) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return {buf.GetString(), buf.GetSize()};
}

// Each edge byte at each offset of a plain string of 8 to 24 bytes: inside the words checked 8 at
// a time, and in the tail checked one by one.
TEST(JsonWriter, AnEdgeByteAtAnyOffsetIsWrittenAsRapidjsonWritesIt) {
  for (std::size_t size = 8; size <= 24; ++size) {
    for (std::size_t at = 0; at < size; ++at) {
      for (const char edge : kEdges) {
        std::string text(size, 'a');
        text[at] = edge;
        JsonWriter w;
        w.value(text);
        EXPECT_EQ(w.take(), rapidjson_string(text)) << "byte " << int(static_cast<unsigned char>(edge)) << " at " << at << " of " << size;
      }
    }
  }
}

TEST(JsonWriter, EscapesAsTheReferenceParsesThem) {
  JsonWriter w;
  w.begin().str("k\"", std::string("a\"b\\c\n\x01\x7f\xc3\xa9\0", 11)).number("n", 18446744073709551615u).end();
  EXPECT_EQ(w.take(), std::string("{\"k\\\"\":\"a\\\"b\\\\c\\n\\u0001\x7f\xc3\xa9\\u0000\",\"n\":18446744073709551615}"));
}

// json_string, for the bodies and log fields the engine builds by hand, is the writer's string.
RC_GTEST_PROP(JsonWriter, JsonStringIsTheWritersString, ()) {
  const std::string text = *any_string();
  RC_ASSERT(json_string(text) == rapidjson_string(text));
}

}  // namespace
}  // namespace paychan::protocol
