// The gate inside a provider's own Beast server (engine/http/beast_serve.hpp), with the real gate
// behind it (GateStack's store, offers and facilitator double) and no paychan HttpServer in the
// path: serve_whole() on Beast messages the provider's server read, and serve_streaming() in a
// provider's server loop on loopback sockets.
#include "engine/http/beast_serve.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "engine/http/run_blocking.hpp"
#include "gate_stack.hpp"
#include "http_test_support.hpp"
#include "protocol/headers.hpp"

namespace paychan::engine::gate::test {
namespace {

constexpr Uint128 kPrice = 10'000;  // test_config()'s POST /v1/infer

// The provider's handler: /v1/infer answers whole, /v1/stream (priced) and /free-stream in three
// pieces, /boom throws, /broken begins a stream it never ends, /announced and /short stream after
// announcing a length of 5 (/short writes 4), /close asks to close the connection, /close-stream
// too and streams.
http::Awaitable<void> providers_handler(http::Exchange& ex) {
  const auto path = ex.request().path();
  if (path == "/boom") throw std::runtime_error("the provider's bug");
  if (path == "/announced" || path == "/short") {
    ex.response().set_header("Content-Length", "5");
    if (!co_await ex.begin_stream()) co_return;
    if (!co_await ex.write(path == "/short" ? "hell" : "hello")) co_return;
    (void)co_await ex.end_stream();
    co_return;
  }
  if (path == "/close" || path == "/close-stream") ex.response().close_connection();
  if (path == "/v1/stream" || path == "/free-stream" || path == "/broken" || path == "/close-stream") {
    ex.response().set_header("Content-Type", "text/event-stream");
    if (!co_await ex.begin_stream()) co_return;
    for (int i = 0; i < 3; ++i)
      if (!co_await ex.write("data: " + std::to_string(i) + "\n\n")) co_return;
    if (path != "/broken") (void)co_await ex.end_stream();
    co_return;
  }
  ex.response().set(200, "application/json", "{\"ok\":true}");
}

struct Answer {
  bool whole = false;
  http::BeastResponse response;
  http::BeastRequest request;  // as serve_whole() left it
};

Answer serve(GateStack& stack, http::bhttp::verb method, std::string target, const std::string& payment = "",
             std::string body = "", std::size_t max_stream_bytes = 64 << 20) {
  Answer a;
  a.request.method(method);
  a.request.target(target);
  a.request.version(11);
  a.request.set(http::bhttp::field::host, "api.example");
  if (!payment.empty()) a.request.set(protocol::kPaymentSignatureHeader, payment);
  a.request.body() = std::move(body);
  a.request.prepare_payload();
  http::ConnectionLocals locals;
  a.whole = http::run_blocking(
      http::serve_whole(stack.handler(), a.request, a.response, {"192.0.2.7", 40000}, locals, max_stream_bytes));
  return a;
}

std::optional<std::string> field(const http::BeastResponse& res, std::string_view name) {
  auto it = res.find(name);
  return it == res.end() ? std::nullopt : std::optional<std::string>(std::string(it->value()));
}

TEST(BeastServe, AProvidersOwnServerChargesThroughTheGate) {
  GateStack stack;
  stack.embed(providers_handler);

  Answer a = serve(stack, http::bhttp::verb::post, "/v1/infer", "", "{\"prompt\":\"hi\"}");
  ASSERT_TRUE(a.whole);
  EXPECT_EQ(a.response.result_int(), 402u);
  EXPECT_TRUE(field(a.response, "PAYMENT-REQUIRED")) << "no offer";
  EXPECT_EQ(field(a.response, "Content-Length"), std::to_string(a.response.body().size()));
  EXPECT_EQ(a.request.body(), "{\"prompt\":\"hi\"}") << "the provider's request was not handed back";

  TestAgent agent(test_key(31), stack.config, 1);
  a = serve(stack, http::bhttp::verb::post, "/v1/infer", agent.deposit_header(stack.offer(), kPrice, 1'000'000));
  ASSERT_TRUE(a.whole);
  ASSERT_EQ(a.response.result_int(), 200u) << a.response.body();
  EXPECT_EQ(a.response.body(), "{\"ok\":true}");
  const auto receipt = field(a.response, "PAYMENT-RESPONSE");
  ASSERT_TRUE(receipt);
  auto decoded = protocol::decode_payment_response(*receipt);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(protocol::batch_response_extra(*decoded)->channelState->chargedCumulativeAmount, kPrice);
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, kPrice);

  // A bad header: the gate's 400, nothing charged.
  a = serve(stack, http::bhttp::verb::post, "/v1/infer", "not base64 !");
  EXPECT_EQ(a.response.result_int(), 400u) << a.response.body();
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, kPrice);
}

// A stream is gathered into one answer, charged as its head went out: PAYMENT-RESPONSE is in it.
TEST(BeastServe, AStreamIsAnsweredWholeWithItsReceipt) {
  GateStack stack;
  stack.embed(providers_handler);
  TestAgent agent(test_key(32), stack.config, 1);
  Answer a = serve(stack, http::bhttp::verb::get, "/v1/stream", agent.deposit_header(stack.offer(1), 5'000, 1'000'000));
  ASSERT_TRUE(a.whole);
  ASSERT_EQ(a.response.result_int(), 200u) << a.response.body();
  EXPECT_EQ(a.response.body(), "data: 0\n\ndata: 1\n\ndata: 2\n\n");
  EXPECT_EQ(field(a.response, "Content-Length"), "27");
  EXPECT_TRUE(field(a.response, "PAYMENT-RESPONSE"));
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 5'000u);
  EXPECT_FALSE(serve(stack, http::bhttp::verb::get, "/v1/stream", agent.voucher_header(stack.offer(1), 10'000), "", 20).whole)
      << "a stream past max_stream_bytes";

  // HEAD: the length a GET would have, no body; also when a stream announced it.
  a = serve(stack, http::bhttp::verb::head, "/free");
  EXPECT_EQ(a.response.result_int(), 200u);
  EXPECT_TRUE(a.response.body().empty());
  EXPECT_EQ(field(a.response, "Content-Length"), "11");  // {"ok":true}
  a = serve(stack, http::bhttp::verb::head, "/announced");
  EXPECT_TRUE(a.whole);
  EXPECT_EQ(field(a.response, "Content-Length"), "5");
  EXPECT_TRUE(a.response.body().empty()) << "the pieces the handler wrote on HEAD";
  // A stream's pieces must make up the length it announced.
  a = serve(stack, http::bhttp::verb::get, "/announced");
  EXPECT_TRUE(a.whole);
  EXPECT_EQ(a.response.body(), "hello");
  EXPECT_FALSE(serve(stack, http::bhttp::verb::get, "/short").whole);
}

// Kept alive as the request asks, unless the handler closes the connection.
TEST(BeastServe, TheHandlerMayCloseTheConnection) {
  GateStack stack;
  stack.embed(providers_handler);
  EXPECT_TRUE(serve(stack, http::bhttp::verb::get, "/free").response.keep_alive());
  EXPECT_FALSE(serve(stack, http::bhttp::verb::get, "/close").response.keep_alive());
}

// The provider's bugs: its function throwing is a failed upstream (502, GateE2E checks the log);
// a Handler that throws is answered 500; a stream never ended is not whole.
TEST(BeastServe, AThrowingHandlerIs500AndAStreamLeftOpenIsNotWhole) {
  GateStack stack;
  stack.embed(providers_handler);
  EXPECT_EQ(serve(stack, http::bhttp::verb::get, "/boom").response.result_int(), 502u);
  EXPECT_FALSE(serve(stack, http::bhttp::verb::get, "/broken").whole);

  http::FunctionHandler throwing([](http::Exchange&) -> http::Handled { throw std::runtime_error("bug"); });
  http::BeastRequest req{http::bhttp::verb::get, "/", 11};
  http::BeastResponse res;
  http::ConnectionLocals locals;
  EXPECT_TRUE(http::run_blocking(http::serve_whole(throwing, req, res, {}, locals)));
  EXPECT_EQ(res.result_int(), 500u);
}

// ---- serve_streaming(): the answer written by the gate onto the provider's connection ----------

// A provider's own Beast server as examples/embedded_gate.cpp has one, on loopback: each
// connection reads a request and answers it with serve_streaming() until that says to close.
class ProvidersServer {
 public:
  // `write_timeout`: serve_streaming's.
  explicit ProvidersServer(http::Handler& handler, std::chrono::milliseconds write_timeout = std::chrono::seconds(30))
      : write_timeout_(write_timeout) {
    http::asio::co_spawn(io_, accept(handler), http::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ProvidersServer() {
    io_.stop();  // the connections' coroutines end with the io_context
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // Whether the last request read found TCP_NODELAY on its connection (set by an answer before it).
  [[nodiscard]] bool no_delay() const { return no_delay_.load(); }

 private:
  http::Awaitable<void> accept(http::Handler& handler) {
    for (;;) {
      http::error_code ec;
      auto socket = co_await acceptor_.async_accept(http::use(ec));
      if (ec) co_return;
      http::asio::co_spawn(
          io_, connection(http::beast::tcp_stream(std::move(socket)), handler, write_timeout_, no_delay_),
          http::asio::detached);
    }
  }
  static http::Awaitable<void> connection(http::beast::tcp_stream stream, http::Handler& handler,
                                          std::chrono::milliseconds write_timeout, std::atomic<bool>& no_delay) {
    http::beast::flat_buffer buffer;
    http::ConnectionLocals locals;
    http::error_code ec;
    for (;;) {
      http::BeastRequest request;
      stream.expires_after(http::test::kSafety);
      co_await http::bhttp::async_read(stream, buffer, request, http::use(ec));
      if (ec) break;
      http::tcp::no_delay option;
      stream.socket().get_option(option, ec);
      no_delay = !ec && option.value();
      if (!co_await http::serve_streaming(handler, request, stream, {"192.0.2.7", 40000}, locals, write_timeout)) break;
    }
    stream.socket().shutdown(http::tcp::socket::shutdown_send, ec);
  }

  const std::chrono::milliseconds write_timeout_;
  std::atomic<bool> no_delay_{false};
  http::asio::io_context io_{1};
  http::tcp::acceptor acceptor_{io_, {http::asio::ip::make_address("127.0.0.1"), 0}};
  std::thread thread_;
};

std::string paid_get(std::string_view target, const std::string& payment) {
  return http::test::get(target, std::string(protocol::kPaymentSignatureHeader) + ": " + payment + "\r\n");
}

// A paid stream's head, with its receipt, and its first piece reach the client while the
// provider's handler still holds the rest: nothing is gathered. The charge is taken at the head.
TEST(BeastServe, AStreamReachesTheClientPieceByPiece) {
  GateStack stack;
  http::test::Event rest;
  stack.embed([&rest](http::Exchange& ex) -> http::Awaitable<void> {
    if (ex.request().path() != "/v1/stream") co_return co_await providers_handler(ex);
    ex.response().set_header("Content-Type", "text/event-stream");
    if (!co_await ex.begin_stream()) co_return;
    if (!co_await ex.write("data: 0\n\n")) co_return;
    co_await rest.wait();
    if (!co_await ex.write("data: 1\n\n")) co_return;
    (void)co_await ex.end_stream();
  });
  ProvidersServer server(stack.handler());
  TestAgent agent(test_key(33), stack.config, 1);
  http::test::RawClient client(server.port());
  ASSERT_TRUE(client.connected());

  client.send(paid_get("/v1/stream", agent.deposit_header(stack.offer(1), 5'000, 1'000'000)));
  const std::string first = client.read_until("data: 0\n\n");
  rest.set();  // from here on the server may end the stream
  ASSERT_NE(first.find("data: 0\n\n"), std::string::npos) << first;
  EXPECT_EQ(first.find("data: 1"), std::string::npos) << "the handler had not written it yet";
  EXPECT_TRUE(first.starts_with("HTTP/1.1 200 ")) << first;
  EXPECT_NE(first.find("PAYMENT-RESPONSE: "), std::string::npos) << "the receipt travels in the stream's head";
  EXPECT_NE(first.find("Transfer-Encoding: chunked"), std::string::npos) << first;
  EXPECT_EQ((*stack.store->get(agent.id))->chargedCumulativeAmount, 5'000u) << "charged at the head";

  EXPECT_NE(client.read_until("\r\n0\r\n\r\n").find("data: 1\n\n"), std::string::npos) << client.received();
  // The stream ended: the connection takes the next request.
  client.send(http::test::get("/free"));
  auto next = client.read_response();
  ASSERT_TRUE(next) << client.last_error().message();
  EXPECT_EQ(next->body(), "{\"ok\":true}");
  // Seen as the next request came: the stream's small pieces did not wait for the client's ACKs
  // (Nagle's delay does not show on loopback, the option does).
  EXPECT_TRUE(server.no_delay()) << "the stream set TCP_NODELAY";
}

// Whole answers are written at once and keep the connection as the request and the handler ask;
// every answer that cannot be known complete ends it.
TEST(BeastServe, AnAnswerThatCannotBeKnownCompleteClosesTheConnection) {
  GateStack stack;
  stack.embed(providers_handler);
  ProvidersServer server(stack.handler());

  {  // A whole answer, then a HEAD for a stream that announced its length: both on one connection.
    http::test::RawClient client(server.port());
    client.send(http::test::get("/free"));
    auto whole = client.read_response();
    ASSERT_TRUE(whole) << client.last_error().message();
    EXPECT_EQ(whole->body(), "{\"ok\":true}");
    EXPECT_TRUE(whole->keep_alive());
    client.send("HEAD /announced HTTP/1.1\r\nHost: test\r\n\r\n");
    auto head = client.read_response(true);
    ASSERT_TRUE(head) << client.last_error().message();
    EXPECT_EQ(head->base()[http::bhttp::field::content_length], "5");
    client.send(http::test::get("/announced"));
    auto announced = client.read_response();
    ASSERT_TRUE(announced) << client.last_error().message();
    EXPECT_EQ(announced->body(), "hello") << "the HEAD answer carried no body to mistake for this one's";
  }
  {  // The handler asks to close.
    http::test::RawClient client(server.port());
    client.send(http::test::get("/close"));
    auto closing = client.read_response();
    ASSERT_TRUE(closing);
    EXPECT_FALSE(closing->keep_alive());
    EXPECT_TRUE(client.closed_by_peer());
  }
  {  // A stream never ended: its pieces, then the close, and no last chunk.
    http::test::RawClient client(server.port());
    client.send(http::test::get("/broken"));
    EXPECT_TRUE(client.closed_by_peer());
    EXPECT_NE(client.received().find("data: 2\n\n"), std::string::npos) << client.received();
    EXPECT_EQ(client.received().find("\r\n0\r\n\r\n"), std::string::npos) << "ended as if whole";
  }
  {  // Fewer bytes than the announced Content-Length: the close tells the client.
    http::test::RawClient client(server.port());
    client.send(http::test::get("/short"));
    EXPECT_TRUE(client.closed_by_peer());
    EXPECT_NE(client.received().find("Content-Length: 5\r\n"), std::string::npos) << client.received();
  }
  // HTTP/1.0 without a length: the close delimits the body, a client asking for keep-alive too.
  for (const std::string_view asks : {"", "Connection: keep-alive\r\n"}) {
    http::test::RawClient client(server.port());
    client.send("GET /free-stream HTTP/1.0\r\n" + std::string(asks) + "\r\n");
    EXPECT_TRUE(client.closed_by_peer()) << asks;
    EXPECT_TRUE(client.received().ends_with("\r\n\r\ndata: 0\n\ndata: 1\n\ndata: 2\n\n")) << client.received();
  }
  // A whole stream, then the close that the request or the handler asked for.
  for (const std::string& request : {http::test::get("/free-stream", "Connection: close\r\n"),
                                     http::test::get("/close-stream"),
                                     std::string("GET /close HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")}) {
    http::test::RawClient client(server.port());
    client.send(request);
    EXPECT_TRUE(client.closed_by_peer()) << request;
    if (request.find("HTTP/1.0") != std::string::npos) continue;  // 1.0 closes unless told otherwise
    EXPECT_NE(client.received().find("Connection: close\r\n"), std::string::npos) << client.received();
    EXPECT_TRUE(client.received().ends_with("data: 2\n\n\r\n0\r\n\r\n")) << client.received();
  }
  {  // Whereas an HTTP/1.0 client asking for keep-alive keeps a whole answer's connection.
    http::test::RawClient client(server.port());
    client.send("GET /free HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    auto first = client.read_response();
    ASSERT_TRUE(first) << client.last_error().message();
    client.send("GET /free HTTP/1.0\r\n\r\n");
    auto second = client.read_response();
    ASSERT_TRUE(second) << client.last_error().message();
    EXPECT_EQ(second->body(), "{\"ok\":true}");
  }
}

// A Handler that throws (the gate's own bug: the gate answers a provider's exceptions itself).
TEST(BeastServe, AHandlerThatThrowsIsAnswered500OrItsStreamClosed) {
  http::FunctionHandler throwing([](http::Exchange& ex) -> http::Handled {
    if (ex.request().path() != "/after-its-stream") throw std::runtime_error("bug");
    return [](http::Exchange& ex) -> http::Awaitable<void> {
      if (co_await ex.begin_stream() && co_await ex.write("whole") && co_await ex.end_stream())
        throw std::runtime_error("bug, after the stream");
    }(ex);
  });
  ProvidersServer server(throwing);
  http::test::RawClient client(server.port());
  client.send(http::test::get("/"));
  auto answer = client.read_response();
  ASSERT_TRUE(answer) << client.last_error().message();
  EXPECT_EQ(answer->result_int(), 500u);
  EXPECT_TRUE(answer->keep_alive()) << "a whole 500: the connection is still sound";
  // Thrown after its stream ended: the connection is not trusted with another request.
  client.send(http::test::get("/after-its-stream"));
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_TRUE(client.received().ends_with("whole\r\n0\r\n\r\n")) << client.received();
}

// A client that stops reading: the stream's next write fails once write_timeout has passed, and
// the handler learns it (a model would stop generating for it).
TEST(BeastServe, AStreamToAClientThatStopsReadingFailsAfterTheWriteTimeout) {
  http::test::Event failed;
  http::FunctionHandler flood([&failed](http::Exchange& ex) -> http::Handled {
    return [](http::Exchange& ex, http::test::Event& failed) -> http::Awaitable<void> {
      if (!co_await ex.begin_stream()) co_return;
      const std::string piece(64 * 1024, 'x');
      for (int i = 0; i < 16 * 1024; ++i)  // 1 GiB at most: far more than the sockets' buffers
        if (!co_await ex.write(piece)) break;
      failed.set();
    }(ex, failed);
  });
  ProvidersServer server(flood, std::chrono::milliseconds(200));
  http::test::RawClient client(server.port());
  client.send(http::test::get("/"));  // and never reads
  EXPECT_TRUE(failed.wait_here()) << "the write to a client not reading never failed";
}

}  // namespace
}  // namespace paychan::engine::gate::test
