// The gate inside a provider's own Beast server (engine/http/beast_serve.hpp): serve_whole() on
// Beast messages the provider's server read, with the real gate behind it (GateStack's store,
// offers and facilitator double) and no paychan HttpServer in the path.
#include "engine/http/beast_serve.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "engine/http/run_blocking.hpp"
#include "gate_stack.hpp"
#include "protocol/headers.hpp"

namespace paychan::engine::gate::test {
namespace {

constexpr Uint128 kPrice = 10'000;  // test_config()'s POST /v1/infer

// The provider's handler: /v1/infer answers whole, /v1/stream in three pieces, /boom throws,
// /broken begins a stream it never ends, /announced and /short stream after announcing a length
// of 5 (/short writes 4), /close asks to close the connection.
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
  if (path == "/close") ex.response().close_connection();
  if (path == "/v1/stream" || path == "/broken") {
    ex.response().set_header("Content-Type", "text/event-stream");
    if (!co_await ex.begin_stream()) co_return;
    for (int i = 0; i < 3; ++i)
      if (!co_await ex.write("data: " + std::to_string(i) + "\n\n")) co_return;
    if (path == "/v1/stream") (void)co_await ex.end_stream();
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

}  // namespace
}  // namespace paychan::engine::gate::test
