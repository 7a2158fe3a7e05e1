// HttpClient against a real loopback server: round trips, the keep-alive pool, every timeout and
// limit, streamed bodies, and what it refuses to send.
#include "engine/http/client.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <rapidcheck/gtest.h>

#include "http_test_support.hpp"

namespace paychan::engine::http {
namespace {

using test::Event;
using test::TestServer;

// Echoes method, body and the X-In header; tells the client's port in X-Peer-Port.
Handled echo(Exchange& ex) {
  auto& res = ex.response();
  res.set(200, "text/plain", std::string(ex.request().method()) + " " + std::string(ex.request().body()));
  res.set_header("X-Peer-Port", std::to_string(ex.peer_port()));
  res.set_header("X-In", ex.request().header("X-In").value_or("none"));
  return std::nullopt;
}

// Runs the coroutine `make()` returns on a private io_context (the client's async API, from a test
// thread). `make` is kept alive here for as long as the coroutine runs, captures and all.
template <typename Make>
auto run(Make make) {
  using T = typename decltype(make())::value_type;
  asio::io_context context;
  std::optional<T> out;
  asio::co_spawn(context, [&]() -> Awaitable<void> { out.emplace(co_await make()); }, asio::detached);
  context.run();
  return std::move(*out);
}

TEST(HttpClient, GetAndPostRoundTrip) {
  TestServer server{echo};
  BlockingHttpClient client;
  auto got = client.request(ClientRequest::get(server.url("/x")).header("X-In", "hello"));
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "GET ");
  EXPECT_EQ(got->header("x-in"), "hello");
  EXPECT_EQ(got->header("Content-Type"), "text/plain");

  auto posted = client.request(ClientRequest::post(server.url("/y"), "payload", "text/plain"));
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->body, "POST payload");
}

TEST(HttpClient, PoolReusesTheConnection) {
  TestServer server{echo};
  BlockingHttpClient client;
  auto first = client.request(ClientRequest::get(server.url()));
  auto second = client.request(ClientRequest::get(server.url()));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->header("X-Peer-Port"), second->header("X-Peer-Port")) << "same client socket";
}

TEST(HttpClient, AsyncRequestsShareThePoolAndMayOutliveTheirContext) {
  TestServer server{echo};
  HttpClient client;  // outlives the io_context inside run(): the pool goes with the context
  auto ports = run([&]() -> Awaitable<std::pair<std::string, std::string>> {
    auto a = co_await client.request(ClientRequest::get(server.url()));
    HttpClient other;  // another client on the same context reuses the same idle connection
    auto b = co_await other.request(ClientRequest::get(server.url()));
    if (!a || !b) co_return std::pair<std::string, std::string>{};
    co_return std::pair{std::string(a->header("X-Peer-Port").value_or("a")),
                        std::string(b->header("X-Peer-Port").value_or("b"))};
  });
  EXPECT_EQ(ports.first, ports.second);
  EXPECT_FALSE(ports.first.empty());
}

TEST(HttpClient, ConnectionClosedByTheServerIsReplacedTransparently) {
  // A pooled connection whose server went away (here: the whole server restarted on the same
  // port) is noticed and replaced.
  FunctionHandler h{echo};
  auto first = std::make_unique<HttpServer>(h);
  ASSERT_TRUE(first->start());
  std::uint16_t port = first->port();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  BlockingHttpClient client;
  ASSERT_TRUE(client.request(ClientRequest::get(url)));
  first->stop();
  first.reset();
  HttpServer second{h, ServerOptions{.port = port}};
  ASSERT_TRUE(second.start());
  for (std::string method : {"GET", "POST"}) {
    auto again = client.request(ClientRequest{method, url}.body("b"));
    ASSERT_TRUE(again) << method << ": " << again.error().to_string();
    EXPECT_EQ(again->status, 200);
  }
}

TEST(HttpClient, ServerClosingAfterTheResponseIsNotPooled) {
  TestServer server{[](Exchange& ex) -> Handled {
    ex.response().close_connection();
    return echo(ex);
  }};
  BlockingHttpClient client;
  auto first = client.request(ClientRequest::get(server.url()));
  auto second = client.request(ClientRequest::get(server.url()));
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->header("X-Peer-Port"), second->header("X-Peer-Port"));
}

TEST(HttpClient, RefusedConnectionIsConnectFailed) {
  // A port that was just free: bind, note it, close.
  std::uint16_t port;
  {
    asio::io_context context;
    tcp::acceptor a(context, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  BlockingHttpClient client;
  auto r = client.request(ClientRequest::get("http://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::http_connect_failed);
}

TEST(HttpClient, SilentServerIsATimeout) {
  Event release;
  TestServer server{[&](Exchange&) -> Handled {
    return [](Event& e) -> Awaitable<void> { co_await e.wait(); }(release);
  }};
  BlockingHttpClient client({.response_timeout = std::chrono::milliseconds(100)});
  auto r = client.request(ClientRequest::get(server.url()));
  release.set();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::http_timeout);
}

TEST(HttpClient, BodySilenceIsATimeout) {
  Event release;
  TestServer server{[&](Exchange& ex) -> Handled {
    return [](Exchange& ex, Event& e) -> Awaitable<void> {
      if (!co_await ex.begin_stream()) co_return;
      (void)co_await ex.write("some");
      co_await e.wait();
    }(ex, release);
  }};
  BlockingHttpClient client({.read_timeout = std::chrono::milliseconds(100)});
  auto r = client.request(ClientRequest::get(server.url()));
  release.set();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::http_timeout);
}

// A body that keeps trickling in, each piece well inside read_timeout, is cut off at body_timeout
// (the server would take 4 s over it).
TEST(HttpClient, ATricklingBodyIsCutOffAtBodyTimeout) {
  TestServer server{[&](Exchange& ex) -> Handled {
    return [](Exchange& ex) -> Awaitable<void> {
      if (!co_await ex.begin_stream()) co_return;
      asio::steady_timer timer(co_await asio::this_coro::executor);
      for (int i = 0; i < 200; ++i) {
        if (!co_await ex.write("x")) co_return;
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(asio::use_awaitable);
      }
    }(ex);
  }};
  BlockingHttpClient client(
      {.read_timeout = std::chrono::milliseconds(1'000), .body_timeout = std::chrono::milliseconds(200)});
  auto r = client.request(ClientRequest::get(server.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::http_timeout) << r.error().to_string();
}

TEST(HttpClient, ConnectTimeout) {
  // A listener whose accept queue is full drops new SYNs, so connecting hangs until the timeout.
  asio::io_context context;
  tcp::acceptor full(context);
  full.open(tcp::v4());
  full.bind(tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0});
  full.listen(0);
  // Fill the queue (its size is a kernel detail): connect until a connection attempt hangs.
  std::vector<std::unique_ptr<beast::tcp_stream>> fillers;
  for (bool hung = false; !hung && fillers.size() < 64;) {
    auto s = std::make_unique<beast::tcp_stream>(context);
    s->expires_after(std::chrono::milliseconds(200));
    s->async_connect(full.local_endpoint(), [&hung](error_code ec) { hung = ec == beast::error::timeout; });
    context.restart();
    context.run();
    fillers.push_back(std::move(s));
  }
  BlockingHttpClient client({.connect_timeout = std::chrono::milliseconds(200)});
  auto r = client.request(ClientRequest::get("http://127.0.0.1:" + std::to_string(full.local_endpoint().port()) + "/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::http_timeout);
  EXPECT_NE(r.error().detail.find("connecting"), std::string::npos) << r.error().detail;
}

TEST(HttpClient, BodyLimitIsEnforced) {
  TestServer server{[](Exchange& ex) -> Handled {
    if (ex.request().target() == "/sized") {
      ex.response().set(200, "text/plain", std::string(5000, 'x'));
      return std::nullopt;
    }
    return [](Exchange& ex) -> Awaitable<void> {  // chunked: no length announced up front
      if (!co_await ex.begin_stream()) co_return;
      for (int i = 0; i < 5; ++i) (void)co_await ex.write(std::string(1000, 'y'));
      (void)co_await ex.end_stream();
    }(ex);
  }};
  BlockingHttpClient client({.max_body_bytes = 4096});
  for (const char* target : {"/sized", "/chunked"}) {
    auto r = client.request(ClientRequest::get(server.url(target)));
    ASSERT_FALSE(r) << target;
    EXPECT_EQ(r.error().code, ErrorCode::http_response_too_large) << target;
  }
  BlockingHttpClient roomy({.max_body_bytes = 5000});
  auto exact = roomy.request(ClientRequest::get(server.url("/chunked")));
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->body.size(), 5000u);
}

TEST(HttpClient, OversizedResponseHeaderIsRefused) {
  TestServer server{[](Exchange& ex) -> Handled {
    ex.response().set_header("X-Big", std::string(4000, 'h'));
    return std::nullopt;
  }};
  BlockingHttpClient client({.max_header_bytes = 1024});
  auto r = client.request(ClientRequest::get(server.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::http_response_too_large);
}

// Beast bounds a response's head, but not a chunk's extensions or the trailer: the connection's
// buffer does, or a peer sending either without end would grow the client's memory without end.
TEST(HttpClient, AnEndlessChunkExtensionOrTrailerIsRefused) {
  const std::string endless(2 << 20, 'b');  // far past any bound; the peer then closes
  for (const std::string& reply : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;a=" + endless,
                                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + endless}) {
    test::CannedServer peer{reply};
    BlockingHttpClient client;
    auto r = client.request(ClientRequest::get(peer.url()));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::http_response_too_large) << r.error().to_string();
  }
}

TEST(HttpClient, StreamDeliversPiecesBeforeTheServerHasFinished) {
  Event release;
  TestServer server{[&](Exchange& ex) -> Handled {
    return [](Exchange& ex, Event& release) -> Awaitable<void> {
      if (!co_await ex.begin_stream()) co_return;
      (void)co_await ex.write("first");
      co_await release.wait();
      (void)co_await ex.write("second");
      (void)co_await ex.end_stream();
    }(ex, release);
  }};
  HttpClient client;
  std::string before_release, after_release;
  bool done = run([&]() -> Awaitable<bool> {
    auto stream = co_await client.open(ClientRequest::get(server.url()));
    if (!stream) co_return false;
    // Until "first" is here the server is held; reading it proves it came through on its own.
    while (before_release.size() < 5) {
      auto piece = co_await stream->read_some();
      if (!piece || piece->empty()) co_return false;
      before_release += *piece;
    }
    release.set();
    for (;;) {
      auto piece = co_await stream->read_some();
      if (!piece) co_return false;
      if (piece->empty()) break;
      after_release += *piece;
    }
    co_return stream->done();
  });
  EXPECT_TRUE(done);
  EXPECT_EQ(before_release, "first");
  EXPECT_EQ(after_release, "second");
}

// request() with a sink for the answers the caller streams: their bodies go to it piece by piece
// (the server here holds its second piece until the client has the first), with no size limit;
// the others are buffered, within it.
TEST(HttpClient, ASinkTakesTheBodyAsItArrivesWhereTheCallerAsksForIt) {
  Event release;
  TestServer server{[&](Exchange& ex) -> Handled {
    if (ex.request().target() == "/offer") {
      ex.response().set(402, "application/json", "{}");
      return std::nullopt;
    }
    return [](Exchange& ex, Event& release) -> Awaitable<void> {
      if (!co_await ex.begin_stream()) co_return;
      (void)co_await ex.write(std::string(5000, 'a'));
      co_await release.wait();
      (void)co_await ex.write("second");
      (void)co_await ex.end_stream();
    }(ex, release);
  }};
  BlockingHttpClient client({.max_body_bytes = 4096});
  std::string streamed;
  const SinkFor unless_402 = [&](const ClientResponse& head) -> BodySink {
    if (head.status == 402) return nullptr;
    return [&](std::string_view piece) {
      streamed += piece;
      if (streamed.size() >= 5000) release.set();
      return true;
    };
  };
  auto r = client.request(ClientRequest::get(server.url("/stream")), unless_402);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(streamed, std::string(5000, 'a') + "second") << "past max_body_bytes";
  auto offer = client.request(ClientRequest::get(server.url("/offer")), unless_402);
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->body, "{}") << "buffered";
}

// A streamed body that breaks off is the response's `cut`, not an error: the head was the server's
// answer, and the sink has what came. A whole one leaves it unset.
TEST(HttpClient, AStreamedBodyThatBreaksOffIsCut) {
  TestServer server{[](Exchange& ex) -> Handled {
    const bool whole = ex.request().target() == "/whole";
    return [](Exchange& ex, bool whole) -> Awaitable<void> {
      if (!co_await ex.begin_stream()) co_return;
      (void)co_await ex.write("part");
      if (whole) (void)co_await ex.end_stream();  // else the server closes mid-body
    }(ex, whole);
  }};
  BlockingHttpClient client;
  for (const char* target : {"/whole", "/cut"}) {
    std::string streamed;
    auto r = client.request(ClientRequest::get(server.url(target)), [&](const ClientResponse&) -> BodySink {
      return [&](std::string_view piece) {
        streamed += piece;
        return true;
      };
    });
    ASSERT_TRUE(r) << target << ": " << r.error().to_string();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(streamed, "part") << target;
    EXPECT_EQ(r->cut.has_value(), std::string_view(target) == "/cut") << target;
  }
}

// A sink that takes no more: the answer's head is returned, and its connection is not reused.
TEST(HttpClient, ASinkMayStopTakingAnEndlessBody) {
  TestServer server{[](Exchange& ex) -> Handled {
    if (ex.request().target() == "/small") return echo(ex);
    return [](Exchange& ex) -> Awaitable<void> {
      if (!co_await ex.begin_stream()) co_return;
      while (co_await ex.write("data: tick\n\n")) {
      }
    }(ex);
  }};
  BlockingHttpClient client;
  int pieces = 0;
  auto r = client.request(ClientRequest::get(server.url("/endless")), [&](const ClientResponse&) -> BodySink {
    return [&](std::string_view) { return ++pieces < 3; };
  });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(pieces, 3);
  auto next = client.request(ClientRequest::get(server.url("/small")));
  ASSERT_TRUE(next) << next.error().to_string();
  EXPECT_EQ(next->body, "GET ");
}

TEST(HttpClient, HeadResponseHasNoBody) {
  TestServer server{echo};
  BlockingHttpClient client;
  auto r = client.request(ClientRequest{"HEAD", server.url()});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->body.empty());
  EXPECT_TRUE(r->header("Content-Length"));
  auto next = client.request(ClientRequest::get(server.url()));  // on a new connection: a HEAD's is not reused
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "GET ");
}

// Answers a HEAD with a Content-Length and then, wrongly, sends that body once the next request
// has come on the same connection, where it would begin that request's response ("stale"). A
// request on another connection is answered "fresh".
class LateHeadBodyServer {
 public:
  LateHeadBodyServer()
      : acceptor_(context_, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}), thread_([this] { serve(); }) {}
  ~LateHeadBodyServer() {
    {
      // Releases an accept() the test never reached, and closes at once: the head read from it ends.
      tcp::socket wake(context_);
      error_code ec;
      wake.connect(acceptor_.local_endpoint(), ec);
    }
    thread_.join();
  }
  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
  }

 private:
  void serve() {
    error_code ec;
    tcp::socket first(context_);
    acceptor_.accept(first, ec);
    if (ec || !test::read_request_head(first)) return;
    asio::write(first, asio::buffer(std::string_view{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"}), ec);
    // The next request comes on the first connection, or on a new one.
    bool first_open = true;
    for (;;) {
      // A closed first connection is left out (poll ignores a negative descriptor).
      pollfd fds[2] = {{first_open ? first.native_handle() : -1, POLLIN, 0}, {acceptor_.native_handle(), POLLIN, 0}};
      if (::poll(fds, 2, 5000) <= 0) return;
      if (fds[0].revents != 0) {
        if (!test::read_request_head(first)) {
          first_open = false;  // the client closed it: the next request comes on a new one
          continue;
        }
        const std::string_view late_body_then_answer = "helloHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale";
        asio::write(first, asio::buffer(late_body_then_answer), ec);
        return;
      }
      tcp::socket next(context_);
      acceptor_.accept(next, ec);
      if (!ec && test::read_request_head(next))
        asio::write(next, asio::buffer(std::string_view{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"}), ec);
      return;
    }
  }
  asio::io_context context_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

TEST(HttpClient, AConnectionThatAnsweredAHeadIsNotReused) {
  LateHeadBodyServer server;
  BlockingHttpClient client;
  auto head = client.request(ClientRequest{"HEAD", server.url()});
  ASSERT_TRUE(head) << head.error().to_string();
  EXPECT_TRUE(head->body.empty());
  auto next = client.request(ClientRequest::get(server.url()));
  ASSERT_TRUE(next) << next.error().to_string();
  EXPECT_EQ(next->body, "fresh");
}

TEST(HttpClient, RefusesWhatItCannotSend) {
  BlockingHttpClient client;
  for (std::string url : {"ftp://example.com/", "https:/example.com/", "http://", "http://h:0/", "http://h:99999/", "http://a b/"}) {
    auto r = client.request(ClientRequest::get(url));
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, ErrorCode::http_invalid_request) << url;
  }
  auto split = client.request(ClientRequest::get("http://127.0.0.1:1/").header("X-A", "v\r\nInjected: 1"));
  ASSERT_FALSE(split);
  EXPECT_EQ(split.error().code, ErrorCode::http_invalid_request);
  auto method = client.request(ClientRequest{"GE T", "http://127.0.0.1:1/"});
  ASSERT_FALSE(method);
  EXPECT_EQ(method.error().code, ErrorCode::http_invalid_request);
  // Beast throws for a TRACE with a body (as a proxy may be asked to forward one).
  auto trace = client.request(ClientRequest{"TRACE", "http://127.0.0.1:1/"}.body("x"));
  ASSERT_FALSE(trace);
  EXPECT_EQ(trace.error().code, ErrorCode::http_invalid_request);
}

TEST(HttpClient, MalformedResponseIsBadResponse) {
  test::CannedServer peer{"NOT HTTP AT ALL\r\n\r\n"};
  BlockingHttpClient client;
  auto r = client.request(ClientRequest::get(peer.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::http_bad_response);
}

TEST(HttpClient, BodyCutShortIsBadResponse) {
  test::CannedServer peer{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"};
  BlockingHttpClient client;
  auto r = client.request(ClientRequest::get(peer.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::http_bad_response);
}

TEST(HttpClient, InterimResponsesAreSkipped) {
  test::CannedServer peer{
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: yes\r\n\r\nok"};
  BlockingHttpClient client;
  auto r = client.request(ClientRequest::get(peer.url()));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->header("X-Final"), "yes");
  EXPECT_FALSE(r->header("Link"));
  EXPECT_EQ(r->body, "ok");
}

TEST(HttpClient, CloseDelimitedBodyIsReadToTheEnd) {
  test::CannedServer peer{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"};
  BlockingHttpClient client;
  auto r = client.request(ClientRequest::get(peer.url()));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->body, "until the end");
}

// Bodies of any size and content arrive intact, whether sized or chunked.
RC_GTEST_PROP(HttpClientProperty, BodiesArriveIntact, ()) {
  static TestServer server{[](Exchange& ex) -> Handled {
    if (ex.request().target() == "/sized") {
      ex.response().set(200, "application/octet-stream", std::string(ex.request().body()));
      return std::nullopt;
    }
    return [](Exchange& ex) -> Awaitable<void> {
      if (!co_await ex.begin_stream()) co_return;
      std::string_view body = ex.request().body();
      for (std::size_t at = 0; at < body.size(); at += 1000) (void)co_await ex.write(body.substr(at, 1000));
      (void)co_await ex.end_stream();
    }(ex);
  }};
  static BlockingHttpClient client;
  auto body = *rc::gen::container<std::string>(rc::gen::arbitrary<char>());
  auto target = *rc::gen::element<std::string>("/sized", "/chunked");
  auto r = client.request(ClientRequest::post(server.url(target), body, "application/octet-stream"));
  RC_ASSERT(r.ok());
  RC_ASSERT(r->body == body);
}

}  // namespace
}  // namespace paychan::engine::http
