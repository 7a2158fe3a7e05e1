// The `_method` field as form, query and JSON decoders find it (engine/gate/method_fields.hpp):
// however escaped, spelled or split, under every boundary a decoder may take.
#include "engine/gate/method_fields.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace paychan::engine::gate {
namespace {

using Values = std::vector<std::string>;

struct Found {
  Values values;
  FieldScan scan = FieldScan::read;
};

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

Found multipart(std::string_view body, std::string_view content_type) {
  Found f;
  f.scan = multipart_method_fields(body, content_type, collect(f.values));
  return f;
}

Values json(std::string_view body) {
  Values values;
  (void)json_method_fields(body, collect(values));
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

TEST(MethodFields, AMultipartPartNamedMethodGivesItsContent) {
  const std::string body =
      "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n"
      "_method=GET\r\n--XyZ\r\ncontent-disposition: form-data; NAME=\"_method\"\r\n\r\nPUT\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=_method\r\n\r\nDELETE\r\n--XyZ--\r\n";
  for (std::string_view type : {"multipart/form-data; boundary=XyZ", "multipart/form-data; charset=utf-8; boundary=\"XyZ\"",
                                "multipart/mixed; boundary = XyZ", "multipart/form-data; x-boundary=XyZ; boundary=Other",
                                "multipart/form-data; boundary=XyZ,Other"}) {
    const auto found = multipart(body, type);
    EXPECT_EQ(found.scan, FieldScan::read) << type;
    EXPECT_EQ(found.values, (Values{"PUT", "DELETE"})) << type;
  }
  EXPECT_TRUE(multipart(body, "multipart/form-data; boundary=Other").values.empty());
  EXPECT_TRUE(multipart("--b\r\nContent-Disposition: form-data; name=_methods\r\n\r\nPUT\r\n--b--", "multipart/form-data; boundary=b")
                  .values.empty());
  EXPECT_EQ(multipart("--b\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nPATCH", "multipart/form-data; boundary=b").values,
            Values{"PATCH"})
      << "an unterminated last part still counts";
}

// What decoders other than the strictest accept: bare LF lines, a name in single quotes or with a
// backslash escape, PHP's and Rack's readings of a name, Rack 2's Content-ID, an empty value.
TEST(MethodFields, AMultipartPartIsFoundInEveryDecodersSpelling) {
  const std::string_view type = "multipart/form-data; boundary=b";
  EXPECT_EQ(multipart("--b\nContent-Disposition: form-data; name=\"_method\"\n\nPUT\n--b--\n", type).values, Values{"PUT"});
  EXPECT_EQ(multipart("--b\r\nContent-Disposition: form-data; name='_method'\r\n\r\nPUT\r\n--b--", type).values, Values{"PUT"});
  EXPECT_EQ(multipart("--b\r\nContent-Disposition: form-data; name=\"_\\method\"\r\n\r\nPUT\r\n--b--", type).values, Values{"PUT"});
  EXPECT_EQ(multipart("--b\r\nContent-Disposition: form-data; name=\".method\"\r\n\r\nPUT\r\n--b--", type).values, Values{"PUT"});
  EXPECT_EQ(multipart("--b\r\nContent-ID: _method\r\n\r\nPUT\r\n--b--", type).values, Values{"PUT"});
  EXPECT_EQ(multipart("--b\r\nContent-Disposition: form-data; name=_method\r\n\r\n\r\n--b--", type).values, Values{""});
}

TEST(MethodFields, AMultipartBodyWithoutABoundaryIsReadAsAFormAndAnOverlongOneIsUnreadable) {
  EXPECT_EQ(multipart("_method=DELETE", "multipart/form-data").values, Values{"DELETE"}) << "Rack's reading";
  EXPECT_EQ(multipart("x", "multipart/form-data; boundary=" + std::string(71, 'a')).scan, FieldScan::unreadable);
  EXPECT_EQ(multipart("x", "multipart/form-data; boundary=" + std::string(70, 'a')).scan, FieldScan::read);
  EXPECT_EQ(multipart("x", "multipart/form-data; boundary=a; boundary=b; boundary=c; boundary=d; boundary=e").scan,
            FieldScan::unreadable)
      << "more boundaries than are read";
}

TEST(MethodFields, AJsonBodysTopLevelMethodMemberCounts) {
  EXPECT_EQ(json(R"({"prompt":"hi","_method":"DELETE"})"), Values{"DELETE"});
  EXPECT_EQ(json(R"({"_\u006dethod":"PUT"})"), Values{"PUT"}) << "escapes undone";
  EXPECT_TRUE(json(R"({"a":{"_method":"PUT"},"b":["_method","PUT"],"_method":1})").empty()) << "only a top-level string";
  EXPECT_TRUE(json(R"(["_method","PUT"])").empty());
  EXPECT_TRUE(json(R"({"prompt":"no override"})").empty());
  EXPECT_EQ(json(R"({"_method":"PUT", oops)"), Values{"PUT"}) << "members before a syntax error count";
  EXPECT_TRUE(json(std::string(200'000, '[') + "\"method\"").empty()) << "deep nesting: no recursion";
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

RC_GTEST_PROP(MethodFields, AnyMultipartPartValueIsFoundAmongOthers, ()) {
  auto boundary = *rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::element('a', 'Z', '0', '-', '_')));
  boundary.resize(std::min<std::size_t>(boundary.size(), 70));  // RFC 2046's limit
  const std::string newline = *rc::gen::element<std::string>("\r\n", "\n");
  // A part's content holds no line starting with its delimiter (an encoder picks a boundary that
  // does not occur).
  const auto clean = [&](const std::string& s) {
    return (s + "\n--" + boundary).find("\n--" + boundary) == s.size() && !s.starts_with("--" + boundary);
  };
  const auto content = *rc::gen::suchThat(rc::gen::arbitrary<std::string>(), clean);
  const auto others = *rc::gen::container<std::vector<std::string>>(
      rc::gen::container<std::string>(rc::gen::element('x', '\r', '\n', '"')));
  const auto at = *rc::gen::inRange<std::size_t>(0, others.size() + 1);
  std::string body;
  for (std::size_t i = 0; i <= others.size(); ++i) {
    const bool ours = i == at;
    const std::string& part = ours ? content : others[i < at ? i : i - 1];
    if (!ours && !clean(part)) continue;
    const std::string name = ours ? "_method" : "f" + std::to_string(i);
    body += "--" + boundary + newline + "Content-Disposition: form-data; name=\"" + name + "\"" + newline + newline + part +
            newline;
  }
  body += "--" + boundary + "--" + newline;
  const auto found = multipart(body, "multipart/form-data; boundary=" + boundary);
  RC_ASSERT(found.values.size() == 1u);
  // A content ending in '\r' before a bare-LF delimiter reads as a CRLF delimiter's: the '\r' goes.
  const bool cr_taken = newline == "\n" && content.ends_with('\r');
  RC_ASSERT(found.values[0] == (cr_taken ? content.substr(0, content.size() - 1) : content));
}

}  // namespace
}  // namespace paychan::engine::gate
