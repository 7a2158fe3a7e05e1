// The `_method` field as form decoders find it (engine/gate/form_fields.hpp): in a query or an
// urlencoded body, however escaped, and in a multipart body's part of that name.
#include "engine/gate/form_fields.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace paychan::engine::gate {
namespace {

std::vector<std::string> urlencoded(std::string_view form) {
  std::vector<std::string> values;
  (void)any_urlencoded_value(form, "_method", [&](std::string v) {
    values.push_back(std::move(v));
    return false;
  });
  return values;
}

std::vector<std::string> multipart(std::string_view body, std::string_view content_type) {
  std::vector<std::string> values;
  (void)any_multipart_value(body, content_type, "_method", [&](std::string v) {
    values.push_back(std::move(v));
    return false;
  });
  return values;
}

using Values = std::vector<std::string>;

TEST(FormFields, AnUrlencodedFieldIsFoundHoweverItIsSpelled) {
  EXPECT_EQ(urlencoded("a=1&_method=DELETE&b=2"), Values{"DELETE"});
  EXPECT_EQ(urlencoded("_method=put;_method=PATCH"), (Values{"put", "PATCH"})) << "Rack 2 splits at ';' too";
  EXPECT_EQ(urlencoded("%5Fmethod=DEL%45TE"), Values{"DELETE"});
  EXPECT_EQ(urlencoded("_metho%64=PUT"), Values{"PUT"});
  for (std::string_view php : {".method=PUT", "+_method=PUT", "%20_method=PUT", "[method=PUT"})
    EXPECT_EQ(urlencoded(php), Values{"PUT"}) << php << ": PHP's parse_str() drops leading spaces, then stores this name as _method";
  EXPECT_EQ(urlencoded("_method"), Values{""});
  EXPECT_EQ(urlencoded("_method=a+b"), Values{"a b"});
  for (std::string_view none : {"", "method=PUT", "+method=PUT", "_methods=PUT", "x_method=PUT", "&&=", "_METHOD=PUT"})
    EXPECT_TRUE(urlencoded(none).empty()) << none;
}

TEST(FormFields, AMultipartPartNamedMethodGivesItsContent) {
  const std::string body =
      "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n"
      "_method=GET\r\n--XyZ\r\ncontent-disposition: form-data; NAME=\"_method\"\r\n\r\nPUT\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=_method\r\n\r\nDELETE\r\n--XyZ--\r\n";
  EXPECT_EQ(multipart(body, "multipart/form-data; boundary=XyZ"), (Values{"PUT", "DELETE"}));
  EXPECT_EQ(multipart(body, "multipart/form-data; charset=utf-8; boundary=\"XyZ\""), (Values{"PUT", "DELETE"}));
  EXPECT_TRUE(multipart(body, "multipart/form-data").empty()) << "no boundary";
  EXPECT_TRUE(multipart(body, "multipart/form-data; boundary=Other").empty());
  EXPECT_TRUE(multipart("--b\r\nContent-Disposition: form-data; name=_methods\r\n\r\nPUT\r\n--b--",
                        "multipart/form-data; boundary=b")
                  .empty());
  EXPECT_EQ(multipart("--b\r\nContent-Disposition: form-data; name=\"_method\"\r\n\r\nPATCH", "multipart/form-data; boundary=b"),
            Values{"PATCH"})
      << "an unterminated last part still counts";
}

// Whatever the value and the fields around it, an encoder's output gives the value back.
RC_GTEST_PROP(FormFields, AnyValueEncodedAmongOtherFieldsIsFound, ()) {
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

RC_GTEST_PROP(FormFields, AnyMultipartPartValueIsFoundAmongOthers, ()) {
  const auto boundary = *rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::element('a', 'Z', '0', '-', '_')));
  // A part's content cannot hold its delimiter (an encoder picks a boundary that does not occur).
  const auto content = *rc::gen::suchThat(rc::gen::arbitrary<std::string>(), [&](const std::string& s) {
    return (s + "\r\n--" + boundary).find("\r\n--" + boundary) == s.size();
  });
  const auto others = *rc::gen::container<std::vector<std::string>>(
      rc::gen::container<std::string>(rc::gen::element('x', '\r', '\n', '"')));
  const auto at = *rc::gen::inRange<std::size_t>(0, others.size() + 1);
  std::string body;
  for (std::size_t i = 0; i <= others.size(); ++i) {
    const bool ours = i == at;
    const std::string name = ours ? "_method" : "f" + std::to_string(i);
    const std::string& part = ours ? content : others[i < at ? i : i - 1];
    if (!ours && part.find("\r\n--" + boundary) != std::string::npos) continue;
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + part + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  const auto found = multipart(body, "multipart/form-data; boundary=" + boundary);
  RC_ASSERT(found.size() == 1u);
  RC_ASSERT(found[0] == content);
}

}  // namespace
}  // namespace paychan::engine::gate
