// ReverseProxy between a real client, a proxy server and an upstream server, all on loopback:
// what is forwarded and stripped, header inspection between open() and relay(), streaming that
// does not wait for the upstream to finish, and the 502/504 answers.
#include "engine/http/proxy.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "http_test_support.hpp"

namespace paychan::engine::http {
namespace {

using test::Event;
using test::get;
using test::RawClient;
using test::TestServer;

// Answers with what it received: the request line and every header, one per line, then the body.
Handled mirror(Exchange& ex) {
  std::string out = std::string(ex.request().method()) + " " + std::string(ex.request().target()) + "\n";
  for (auto [name, value] : ex.request().headers()) out += std::string(name) + ": " + std::string(value) + "\n";
  out += "\n" + std::string(ex.request().body());
  ex.response().set(200, "text/plain", std::move(out));
  ex.response().set_header("X-Peer-Port", std::to_string(ex.peer_port()));
  return std::nullopt;
}

// A proxy server forwarding everything to `upstream` through forward().
struct ForwardingProxy {
  ForwardingProxy(std::string upstream, ClientOptions client_options = {},
                  std::vector<std::string> strip = {})
      : client(client_options),
        proxy(*ReverseProxy::create(client, {.upstream = std::move(upstream), .strip_request_headers = strip})),
        server([this](Exchange& ex) -> Handled { return proxy.forward(ex); }) {}

  HttpClient client;
  ReverseProxy proxy;
  TestServer<std::function<Handled(Exchange&)>> server;
};

TEST(ReverseProxy, ForwardsTheRequestWithoutHopByHopFields) {
  TestServer upstream{mirror};
  ForwardingProxy gate{upstream.url("/base/"), {}, {"Payment-Signature"}};
  RawClient client{gate.server.port()};
  client.send(
      "POST /v1/chat?stream=1 HTTP/1.1\r\nHost: gate.example\r\nConnection: keep-alive, X-Private\r\n"
      "X-Private: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nPayment-Signature: sig\r\n"
      "X-Forwarded-For: 10.0.0.1\r\nX-End-To-End: kept\r\nContent-Length: 4\r\n\r\nbody");
  auto r = client.read_response();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->result_int(), 200u);
  const std::string& seen = r->body();
  EXPECT_EQ(seen.substr(0, seen.find('\n')), "POST /base/v1/chat?stream=1");
  EXPECT_NE(seen.find("X-End-To-End: kept\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Forwarded-For: 10.0.0.1, 127.0.0.1\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Forwarded-Host: gate.example\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Forwarded-Proto: http\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Host: 127.0.0.1:" + std::to_string(upstream.port()) + "\n"), std::string::npos) << seen;
  for (const char* gone : {"X-Private", "Keep-Alive", "TE:", "Payment-Signature", "gate.example\nHost"}) {
    EXPECT_EQ(seen.find(gone), std::string::npos) << gone << " reached the upstream:\n" << seen;
  }
  EXPECT_TRUE(seen.ends_with("\n\nbody")) << seen;
}

TEST(ReverseProxy, CallerInspectsAndStripsResponseHeadersBeforeRelay) {
  TestServer upstream{[](Exchange& ex) -> Handled {
    ex.response().set(200, "application/json", "{}");
    ex.response().set_header("Settlement-Overrides", "{\"amount\":\"7\"}");
    ex.response().set_header("X-Upstream", "yes");
    return std::nullopt;
  }};
  HttpClient client;
  auto proxy = *ReverseProxy::create(client, {.upstream = upstream.url()});
  std::string overrides_seen;
  TestServer gate{[&](Exchange& ex) -> Handled {
    return [](Exchange& ex, const ReverseProxy& proxy, std::string& seen) -> Awaitable<void> {
      auto up = co_await proxy.open(ex);
      if (!up) co_return;
      seen = ex.response().header("Settlement-Overrides").value_or("");
      ex.response().erase_header("Settlement-Overrides");
      ex.response().set_header("Payment-Response", "receipt");
      (void)co_await ReverseProxy::relay(*up, ex);
    }(ex, proxy, overrides_seen);
  }};
  RawClient c{gate.port()};
  c.send(get("/"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(overrides_seen, "{\"amount\":\"7\"}");
  EXPECT_EQ(r->find("Settlement-Overrides"), r->end());
  EXPECT_EQ((*r)["X-Upstream"], "yes");
  EXPECT_EQ((*r)["Payment-Response"], "receipt");
  EXPECT_EQ(r->body(), "{}");
}

TEST(ReverseProxy, SseEventsReachTheClientBeforeTheUpstreamFinishes) {
  // The upstream sends one event, then waits until the client has it. A buffering proxy would
  // never deliver it, and this test would fail at the safety limit.
  Event client_has_first;
  TestServer upstream{[&](Exchange& ex) -> Handled {
    return [](Exchange& ex, Event& go_on) -> Awaitable<void> {
      ex.response().set_header("Content-Type", "text/event-stream");
      if (!co_await ex.begin_stream()) co_return;
      (void)co_await ex.write("data: one\n\n");
      co_await go_on.wait();
      (void)co_await ex.write("data: two\n\n");
      (void)co_await ex.end_stream();
    }(ex, client_has_first);
  }};
  ForwardingProxy gate{upstream.url()};
  RawClient client{gate.server.port()};
  client.send(get("/events"));
  std::string first = client.read_until("data: one\n\n");
  ASSERT_NE(first.find("data: one\n\n"), std::string::npos) << first;
  EXPECT_EQ(first.find("data: two"), std::string::npos);
  EXPECT_NE(first.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(first.find("text/event-stream"), std::string::npos);
  client_has_first.set();
  std::string all = client.read_until("\r\n0\r\n\r\n");
  EXPECT_NE(all.find("data: two\n\n"), std::string::npos) << all;
  EXPECT_TRUE(all.ends_with("\r\n0\r\n\r\n")) << "the stream is properly ended";
}

TEST(ReverseProxy, SizedBodyKeepsItsContentLength) {
  std::string big(200'000, 'z');
  TestServer upstream{[&big](Exchange& ex) -> Handled {
    ex.response().set(200, "application/octet-stream", big);
    return std::nullopt;
  }};
  ForwardingProxy gate{upstream.url()};
  RawClient client{gate.server.port()};
  client.send(get("/file"));
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->chunked());
  EXPECT_EQ((*r)[bhttp::field::content_length], "200000");
  EXPECT_EQ(r->body(), big);
}

// An upstream that repeats its Content-Length (Beast takes equal copies) is answered with one:
// a stricter client than Beast refuses a head with two (RFC 9110 §8.6).
TEST(ReverseProxy, ARepeatedContentLengthIsRelayedOnce) {
  test::CannedServer upstream{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"};
  ForwardingProxy gate{upstream.url()};
  RawClient client{gate.server.port()};
  client.send(get("/file"));
  const std::string raw = client.read_until("hello");
  std::string lower = raw;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::size_t copies = 0;
  for (auto at = lower.find("content-length:"); at != std::string::npos; at = lower.find("content-length:", at + 1))
    ++copies;
  EXPECT_EQ(copies, 1u) << raw;
  EXPECT_NE(raw.find("\r\n\r\nhello"), std::string::npos) << raw;
}

TEST(ReverseProxy, UpstreamConnectionsAreReused) {
  TestServer upstream{mirror};
  ForwardingProxy gate{upstream.url()};
  RawClient client{gate.server.port()};
  client.send(get("/a"));
  auto a = client.read_response();
  client.send(get("/b"));
  auto b = client.read_response();
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)["X-Peer-Port"], (*b)["X-Peer-Port"]);
}

TEST(ReverseProxy, UpstreamDownIs502) {
  std::uint16_t port;
  {
    asio::io_context context;
    tcp::acceptor a(context, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  ForwardingProxy gate{"http://127.0.0.1:" + std::to_string(port)};
  RawClient client{gate.server.port()};
  client.send(get("/"));
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 502u);
  EXPECT_EQ(r->body().find("127.0.0.1"), std::string::npos) << "no upstream address leaks";
}

TEST(ReverseProxy, UpstreamTimeoutIs504) {
  Event release;
  TestServer upstream{[&](Exchange&) -> Handled {
    return [](Event& e) -> Awaitable<void> { co_await e.wait(); }(release);
  }};
  ForwardingProxy gate{upstream.url(), {.response_timeout = std::chrono::milliseconds(100)}};
  RawClient client{gate.server.port()};
  client.send(get("/"));
  auto r = client.read_response();
  release.set();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 504u);
}

TEST(ReverseProxy, UpstreamDyingMidBodyTruncatesTheClientStream) {
  TestServer upstream{[](Exchange& ex) -> Handled {
    return [](Exchange& ex) -> Awaitable<void> {
      if (!co_await ex.begin_stream()) co_return;
      (void)co_await ex.write("partial");
      // returns without end_stream: the upstream connection is closed mid-body
    }(ex);
  }};
  ForwardingProxy gate{upstream.url()};
  RawClient client{gate.server.port()};
  client.send(get("/"));
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_NE(client.received().find("partial"), std::string::npos);
  EXPECT_FALSE(client.received().ends_with("\r\n0\r\n\r\n")) << "the client sees the body was cut";
}

// A target that is no path (asterisk-form, another scheme's URL) cannot be asked of the upstream.
// (An http(s) absolute-form one reaches the proxy as its path: HttpServer makes it origin-form.)
TEST(ReverseProxy, ATargetThatIsNoPathIs400) {
  TestServer upstream{mirror};
  ForwardingProxy gate{upstream.url()};
  for (const char* request : {"OPTIONS * HTTP/1.1", "GET ftp://elsewhere/ HTTP/1.1"}) {
    RawClient client{gate.server.port()};
    client.send(std::string(request) + "\r\nHost: x\r\n\r\n");
    auto r = client.read_response();
    ASSERT_TRUE(r) << request;
    EXPECT_EQ(r->result_int(), 400u) << request;
  }
}

// A ".." segment, in any spelling, could take a target out of the upstream's base path.
TEST(ReverseProxy, ATargetClimbingWithDotDotIs400) {
  TestServer upstream{mirror};
  ForwardingProxy gate{upstream.url("/api")};
  for (const char* target : {"/../admin", "/x/%2e%2E/../admin", "/x/..%5cadmin", "/x/..\\..\\admin", "/..",
                             "/..;/admin", "/x/..%3Bx/y", "/%252e%252e/admin", "/%25252e%2525252E/admin",
                             "/%25252525252525252e"}) {  // the last still changing after eight decodings
    RawClient client{gate.server.port()};
    client.send(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = client.read_response();
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->result_int(), 400u) << target;
  }
  RawClient client{gate.server.port()};
  client.send("GET /x/..a/b.c/.../?q=../.. HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_TRUE(r->body().starts_with("GET /api/x/..a/b.c/.../?q=../..\n")) << r->body();
  RawClient deep{gate.server.port()};  // "." after eight decodings: passed on as it came
  deep.send("GET /x/%252525252525252e HTTP/1.1\r\nHost: x\r\n\r\n");
  auto passed = deep.read_response();
  ASSERT_TRUE(passed);
  EXPECT_EQ(passed->result_int(), 200u);
}

TEST(ReverseProxy, CreateRefusesABadUpstream) {
  HttpClient client;
  for (std::string bad : {"ftp://h/", "http://h/x?query", "not a url"}) {
    auto p = ReverseProxy::create(client, {.upstream = bad});
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code, ErrorCode::http_invalid_request);
  }
}

TEST(ReverseProxy, GatewayStatusByError) {
  EXPECT_EQ(gateway_status({ErrorCode::http_timeout, ""}), 504);
  EXPECT_EQ(gateway_status({ErrorCode::http_connect_failed, ""}), 502);
  EXPECT_EQ(gateway_status({ErrorCode::http_bad_response, ""}), 502);
  EXPECT_EQ(gateway_status({ErrorCode::http_response_too_large, ""}), 502);
  EXPECT_EQ(gateway_status({ErrorCode::http_invalid_request, ""}), 400);
}

// However the upstream cuts its body into pieces, the client receives exactly those bytes.
RC_GTEST_PROP(ReverseProxyProperty, StreamedPiecesArriveIntactAndInOrder, ()) {
  static std::map<std::string, std::vector<std::string>> bodies;  // by target, filled before each request
  static std::mutex mutex;
  static TestServer upstream{[](Exchange& ex) -> Handled {
    std::vector<std::string> pieces;
    {
      std::lock_guard lock(mutex);
      pieces = bodies[std::string(ex.request().target())];
    }
    return [](Exchange& ex, std::vector<std::string> pieces) -> Awaitable<void> {
      if (!co_await ex.begin_stream()) co_return;
      for (const auto& p : pieces) (void)co_await ex.write(p);
      (void)co_await ex.end_stream();
    }(ex, std::move(pieces));
  }};
  static ForwardingProxy gate{upstream.url()};
  static int counter = 0;

  auto pieces = *rc::gen::container<std::vector<std::string>>(rc::gen::container<std::string>(rc::gen::arbitrary<char>()));
  std::string target = "/" + std::to_string(++counter);
  {
    std::lock_guard lock(mutex);
    bodies[target] = pieces;
  }
  RawClient client{gate.server.port()};
  client.send(get(target));
  auto r = client.read_response();
  RC_ASSERT(r.has_value());
  std::string expected;
  for (const auto& p : pieces) expected += p;
  RC_ASSERT(r->body() == expected);
}

}  // namespace
}  // namespace paychan::engine::http
