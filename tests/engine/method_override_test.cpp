// What a request names besides its own method (engine/gate/method_override.hpp): headers, query and
// body together, each name once, and `any` when it names too many or its body cannot be read.
#include "engine/gate/method_override.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "engine/http/detail/messages.hpp"

namespace paychan::engine::gate {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
using Methods = std::vector<std::string>;

OverrideMethods named_by(std::string_view target, const Headers& headers, std::string body = "") {
  http::detail::RequestMessage m;
  m.m.method_string("POST");
  m.m.target(target);
  m.m.version(11);
  for (const auto& [name, value] : headers) m.m.insert(name, value);
  m.m.body() = std::move(body);
  return override_methods(http::Request{m});
}

TEST(MethodOverride, HeadersQueryAndBodyAreReadTogetherEachNameOnce) {
  const auto found = named_by("/x?_method=PUT", {{"X-HTTP-Method-Override", "delete, put"}, {"Content-Type", "application/x-www-form-urlencoded"}},
                              "_method=PATCH&_method=Delete");
  EXPECT_EQ(found.methods, (Methods{"delete", "put", "PATCH"})) << "names compare in any case";
  EXPECT_FALSE(found.any);
  EXPECT_TRUE(named_by("/x?page=2", {{"Content-Type", "text/plain"}}, "_method=PUT").empty());
}

TEST(MethodOverride, TooManyNamesOrAnUnreadableBodyNameAnyMethod) {
  std::string query = "/x?";
  for (std::size_t i = 0; i <= kMaxOverrideMethods; ++i) query += "_method=M" + std::to_string(i) + "&";
  const auto many = named_by(query, {});
  EXPECT_TRUE(many.any);
  EXPECT_EQ(many.methods.size(), kMaxOverrideMethods);
  EXPECT_EQ(named_by(query.substr(0, query.find("M8")), {}).any, false) << "eight is still a list";

  EXPECT_TRUE(named_by("/x", {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}}, "\x1f\x8b").any);
  EXPECT_FALSE(named_by("/x", {{"Content-Encoding", "identity"}}, "a=1").any);
  EXPECT_TRUE(named_by("/x", {{"Content-Type", "multipart/form-data; boundary=b"}}, "--b\r\nContent-ID: _method").any);
  EXPECT_FALSE(named_by("/x", {{"Content-Type", "multipart/form-data; boundary=b"}}, "--b\r\n\r\nhello").any);
  EXPECT_TRUE(named_by("/x", {{"Content-Type", "application/json"}}, R"({"a":1e400,"_method":"PUT"})").any);
  EXPECT_FALSE(named_by("/x", {{"Content-Encoding", "gzip"}}).any) << "no body, nothing to read";
}

}  // namespace
}  // namespace paychan::engine::gate
