// parse_url: the http:// and https:// URLs the client and the proxy accept, and the ones they refuse.
#include "engine/http/url.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace paychan::engine::http {
namespace {

TEST(Url, Parts) {
  auto u = parse_url("http://127.0.0.1:8080/v1/x?y=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/v1/x?y=1");
  EXPECT_EQ(u->authority(), "127.0.0.1:8080");
}

TEST(Url, Defaults) {
  auto u = parse_url("HTTP://example.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->authority(), "example.com");
  auto q = parse_url("http://h?x=1");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->target, "/?x=1");
}

TEST(Url, Https) {
  auto u = parse_url("HTTPS://api.example/v1/chat");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->authority(), "api.example");
  EXPECT_EQ(u->origin(), "https://api.example");
  auto other = parse_url("https://h:8443");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->origin(), "https://h:8443");
  auto plain_port = parse_url("https://h:80/");
  ASSERT_TRUE(plain_port);
  EXPECT_EQ(plain_port->authority(), "h:80") << "80 is not https's own port";
  EXPECT_FALSE(parse_url("http://h/")->tls);
}

TEST(Url, Ipv6Literal) {
  auto u = parse_url("http://[::1]:9000/p");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->authority(), "[::1]:9000");
}

TEST(Url, Refused) {
  for (std::string_view bad :
       {"", "https:/h/", "https://", "ftp://h/", "http://", "http:///p", "http://h:/", "http://h:0/", "http://h:65536/",
        "http://h:-1/", "http://h:+80/", "http://h:8o/", "http://u:p@h/", "http://h/#frag", "http://h/a b",
        "http://h/\x01", "http://[::1/", "http://[::1]x/", "http://::1/", "http://h]/"}) {
    auto u = parse_url(bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_EQ(u.error().code, ErrorCode::http_invalid_request) << bad;
  }
}

// A refusal names the URL, but never the user info's password, whatever else is wrong with it.
TEST(Url, ARefusalDoesNotEchoAPassword) {
  for (std::string_view bad : {"http://user:s3cret@127.0.0.1:80/", "https://user:s3cret@h/x#frag", "http://a:s3cret@b@h?q"}) {
    auto u = parse_url(bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_EQ(u.error().detail.find("s3cret"), std::string::npos) << u.error().detail;
    EXPECT_NE(u.error().detail.find("…@"), std::string::npos) << u.error().detail;
  }
}

// Any host, port and path put together parse back to themselves.
RC_GTEST_PROP(UrlProperty, ComposedUrlsParseBack, ()) {
  const auto label = rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::elementOf(std::string("abcxyz019-"))));
  std::string host = *label + "." + *label;
  auto port = *rc::gen::inRange<unsigned>(1, 65536);
  std::string path = *rc::gen::container<std::string>(rc::gen::elementOf(std::string("abc/%=&?;:~")));
  auto u = parse_url("http://" + host + ":" + std::to_string(port) + "/" + path);
  RC_ASSERT(u.ok());
  RC_ASSERT(u->host == host);
  RC_ASSERT(u->port == port);
  RC_ASSERT(u->target == "/" + path);
}

// Nothing crashes the parser, and what it accepts has a host and a target starting with '/'.
RC_GTEST_PROP(UrlProperty, ArbitraryTextIsSafe, (const std::string& tail)) {
  auto u = parse_url("http://" + tail);
  if (u) {
    RC_ASSERT(!u->host.empty());
    RC_ASSERT(u->target.front() == '/');
  }
}

}  // namespace
}  // namespace paychan::engine::http
