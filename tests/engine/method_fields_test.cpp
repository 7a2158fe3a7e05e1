// The `_method` field as form, query and JSON decoders find it (engine/gate/method_fields.hpp):
// however escaped, spelled or split; and when a body may name it in a way not read.
#include "engine/gate/method_fields.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace paychan::engine::gate {
namespace {

using Values = std::vector<std::string>;

MethodFieldSink collect(Values& values) {
  return [&values](std::string_view v) {
    values.emplace_back(v);
    return false;
  };
}

Values urlencoded(std::string_view form) {
  Values values;
  EXPECT_EQ(urlencoded_method_fields(form, collect(values)), FieldScan::read);
  return values;
}

Values json(std::string_view body, FieldScan expected = FieldScan::read) {
  Values values;
  EXPECT_EQ(json_method_fields(body, collect(values)), expected) << body;
  return values;
}

TEST(MethodFields, ANameIsTheMethodFieldAsAnyDecoderReadsIt) {
  using namespace std::string_literals;
  for (const std::string& name : {"_method"s, ".method"s, " _method"s, "  .method"s, "_method\0x"s, "[_method]"s,
                                  "_method]"s, "[[_method"s, "]_method"s})
    EXPECT_TRUE(is_method_field(name)) << name;
  for (const std::string& name : {""s, "method"s, "_METHOD"s, "x_method"s, "_methods"s, "_method[]"s, "_method[x]"s,
                                  "[method"s, "_method_"s, "\0_method"s})
    EXPECT_FALSE(is_method_field(name)) << name;
}

TEST(MethodFields, AnUrlencodedFieldIsFoundHoweverItIsSpelled) {
  EXPECT_EQ(urlencoded("a=1&_method=DELETE&b=2"), Values{"DELETE"});
  EXPECT_EQ(urlencoded("_method=put;_method=PATCH"), (Values{"put", "PATCH"})) << "Rack 2 splits at ';' too";
  EXPECT_EQ(urlencoded("%5Fmethod=DEL%45TE"), Values{"DELETE"});
  EXPECT_EQ(urlencoded("_metho%64=PUT"), Values{"PUT"}) << "escapes may spell the name";
  EXPECT_EQ(urlencoded(".method=PUT&+_method=GET&%5B_method%5D=HEAD&_method%00x=POST"), (Values{"PUT", "GET", "HEAD", "POST"}));
  EXPECT_EQ(urlencoded("_method"), Values{""});
  EXPECT_EQ(urlencoded("_method=a+b"), Values{"a b"});
  for (std::string_view none : {"", "method=PUT", "+method=PUT", "_methods=PUT", "x_method=PUT", "&&=", "_METHOD=PUT",
                                "_method[]=PUT"})
    EXPECT_TRUE(urlencoded(none).empty()) << none;
}

// Multipart bodies are not parsed (decoders differ too much): one that may spell a part named
// `_method` in any decoder's way may name any method; one that cannot names none.
TEST(MethodFields, AMultipartBodyThatMaySpellTheFieldMayNameAnything) {
  for (std::string_view body : {"--b\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nPUT\r\n--b--",
                                "--b\r\nContent-Disposition: form-data; name=\"_\\m\\e\\t\\h\\o\\d\"\r\n\r\nPUT\r\n--b--",
                                "--b\r\nContent-Disposition: form-data; name*=utf-8''%5Fm%65thod\r\n\r\nPUT\r\n--b--",
                                "--b\r\nContent-ID: _METHOD\r\n\r\nPUT\r\n--b--", "_method=DELETE"})
    EXPECT_EQ(multipart_method_fields(body), FieldScan::unreadable) << body;
  EXPECT_EQ(multipart_method_fields("--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nhello\r\n--b--"),
            FieldScan::read);
  EXPECT_EQ(multipart_method_fields(""), FieldScan::read);
}

TEST(MethodFields, AJsonBodysTopLevelMethodMemberCounts) {
  EXPECT_EQ(json(R"({"prompt":"hi","_method":"DELETE"})"), Values{"DELETE"});
  EXPECT_EQ(json(R"({"_\u006dethod":"PUT"})"), Values{"PUT"}) << "escapes undone";
  EXPECT_TRUE(json(R"({"a":{"_method":"PUT"},"b":["_method","PUT"],"_method":1})").empty()) << "only a top-level string";
  EXPECT_TRUE(json(R"(["_method","PUT"])").empty());
  EXPECT_TRUE(json(R"({"prompt":"no override"})").empty());
  // What rapidjson cannot parse may be PHP's JSON still (a number beyond a double's range), with the
  // member after it.
  EXPECT_TRUE(json(R"({"a":1e400,"_method":"DELETE"})", FieldScan::unreadable).empty());
  EXPECT_EQ(json(R"({"_method":"PUT", oops)", FieldScan::unreadable), Values{"PUT"});
  EXPECT_TRUE(json(std::string(200'000, '[') + "\"method\"", FieldScan::unreadable).empty()) << "deep nesting: no recursion";
  EXPECT_EQ(json(R"({"_method":"PUT","deep":)" + std::string(63, '[') + "1" + std::string(63, ']') + "}"), Values{"PUT"})
      << "64 levels are read";
  EXPECT_TRUE(json("not json, no name").empty()) << "nothing to read: no parse";
}

// Whatever the value and the fields around it, an encoder's output gives the value back.
RC_GTEST_PROP(MethodFields, AnyValueEncodedAmongOtherFieldsIsFound, ()) {
  const auto value = *rc::gen::arbitrary<std::string>();
  std::string encoded;
  for (unsigned char c : value) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    encoded += {'%', kHex[c >> 4], kHex[c & 15]};
  }
  const auto others = *rc::gen::container<std::vector<std::string>>(
      rc::gen::container<std::string>(rc::gen::element('a', 'b', '=', '%', '2', '+')));
  const auto at = *rc::gen::inRange<std::size_t>(0, others.size() + 1);
  std::string form;
  for (std::size_t i = 0; i <= others.size(); ++i) {
    if (i > 0) form += '&';
    form += i == at ? "_method=" + encoded : others[i < at ? i : i - 1];
  }
  const auto found = urlencoded(form);
  RC_ASSERT(found.size() == 1u);
  RC_ASSERT(found[0] == value);
}

}  // namespace
}  // namespace paychan::engine::gate
