// A provider's own Boost.Beast server with the paychan gate inside: no reverse proxy, no second
// port. The provider reads its HTTP messages as it always does; each request goes through the gate
// (serve_streaming), which answers 402 with the offer, checks the payment, runs the provider's
// handler, charges what it reports and writes the answer, a stream's pieces as they are made.
//
//   embedded_gate GATE.json
//
// GATE.json is `paychan gate`'s configuration (`paychan gate --help`; "upstream" is not used), with
// a route for POST /v1/infer: a prompt shorter than 100 bytes is charged half its price, and one
// with "stream":true is answered token by token as server-sent events. Prints
// {"port":N} once it listens. Ctrl-C: stops accepting, requests in progress get 10 s; again: at once.
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include "engine/gate/gate_runtime.hpp"
#include "engine/gate/service.hpp"
#include "engine/http/beast_serve.hpp"
#include "engine/http/heap_retention.hpp"
#include "engine/metrics_listener.hpp"

namespace gate = paychan::engine::gate;
namespace http = paychan::engine::http;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using http::Awaitable;

namespace {

// The "model": slow work, run on a pool of its own.
Awaitable<std::string> complete(std::size_t prompt_bytes) {
  co_return "{\"completion\":\"hello\",\"promptBytes\":" + std::to_string(prompt_bytes) + "}";
}
Awaitable<std::string> next_token(std::size_t i) { co_return i == 0 ? "hel" : "lo"; }

// A completion as server-sent events, each token sent as soon as the model makes it.
Awaitable<void> stream_completion(http::Exchange& ex, asio::thread_pool& model) {
  ex.response().set_header("Content-Type", "text/event-stream");
  if (!co_await ex.begin_stream()) co_return;  // the charge is taken here, with the head
  for (std::size_t i = 0; i < 2; ++i) {
    const std::string token = co_await asio::co_spawn(model, next_token(i), asio::use_awaitable);
    if (!co_await ex.write("data: " + token + "\n\n")) co_return;  // the client left: stop the model
  }
  (void)co_await ex.end_stream();
}

// 1. The provider's API: every request the gate lets through, paid or free, comes here. It runs on
//    the I/O thread, so the slow part runs on the model's pool, awaited: the I/O thread serves
//    other connections meanwhile, and this coroutine resumes on it.
Awaitable<void> infer(http::Exchange& ex, paychan::Uint128 price, asio::thread_pool& model) {
  const http::Request& req = ex.request();
  if (req.path() != "/v1/infer") {
    ex.response().set(404, "text/plain", "not found\n");
    co_return;
  }
  if (req.method() != "POST") {  // the gate prices POST only: any other method must not be served
    ex.response().set(405, "text/plain", "POST only\n");
    ex.response().set_header("Allow", "POST");
    co_return;
  }
  const std::size_t prompt_bytes = req.body().size();  // read here: the views are the I/O thread's
  // What this request cost, at most the route's price; before any ex.begin_stream().
  if (prompt_bytes < 100) gate::report_charge(ex.response(), price / 2);
  if (req.body().find("\"stream\":true") != std::string_view::npos) co_return co_await stream_completion(ex, model);
  const std::string completion = co_await asio::co_spawn(model, complete(prompt_bytes), asio::use_awaitable);
  ex.response().set(200, "application/json", completion);
}

// 2. The provider's server: one coroutine per connection, keep-alive, limits of its own.
Awaitable<void> serve_connection(beast::tcp_stream stream, http::Handler& handler, int& open) {
  ++open;
  beast::error_code ec;
  const auto peer = stream.socket().remote_endpoint(ec);
  const std::string peer_address = ec ? "" : peer.address().to_string();
  http::ConnectionLocals locals;  // what the gate keeps per connection
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(1024 * 1024);
    stream.expires_after(std::chrono::seconds(30));  // for the whole request
    co_await bhttp::async_read(stream, buffer, parser, http::use(ec));  // errors into ec, not thrown
    if (ec) break;  // closed, idle too long, too large or malformed
    stream.expires_never();  // the handler takes what it takes (the gate's offer says how long at most)
    http::BeastRequest request = parser.release();
    // Each write of the answer within 30 s (a client not reading it); false: close the connection.
    if (!co_await http::serve_streaming(handler, request, stream, {peer_address, peer.port()}, locals)) break;
  }
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  --open;
}

Awaitable<void> accept(asio::ip::tcp::acceptor& acceptor, http::Handler& handler, int& open) {
  for (;;) {
    beast::error_code error;
    auto socket = co_await acceptor.async_accept(http::use(error));
    if (error == asio::error::operation_aborted || !acceptor.is_open()) co_return;  // stopping
    if (error) {  // out of file descriptors, say: pause rather than spin
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(http::use(error));
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), serve_connection(beast::tcp_stream(std::move(socket)), handler, open),
                   asio::detached);
  }
}

int fail(const std::string& what) {
  std::fprintf(stderr, "embedded_gate: %s\n", what.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return fail("usage: embedded_gate GATE.json");
  auto config = gate::load_gate_config(argv[1]);  // checked as `paychan gate` checks it
  if (!config) return fail(config.error().to_string());
  std::optional<paychan::Uint128> price;
  for (const auto& route : config->routes)
    if (route.path == "/v1/infer" && route.takes("POST")) price = route.price;
  if (!price) return fail("the configuration prices no POST /v1/infer");

  // 3. The gate: the store, the facilitator and the offers from the configuration, and every
  //    start-up check `paychan gate` makes; no server of its own (listen = false).
  asio::thread_pool model(2);
  gate::FunctionService api([&](http::Exchange& ex) { return infer(ex, *price, model); });
  gate::RuntimeOptions options;
  options.service = &api;
  options.listen = false;
  options.access_log = true;  // one logfmt line per paid request on stderr
  (void)http::retain_freed_heap();  // a server's heap kept between bursts of requests (see its header)
  auto runtime = gate::GateRuntime::start(*config, options);
  if (!runtime) return fail(runtime.error().to_string());
  for (const std::string& warning : (*runtime)->warnings()) std::fprintf(stderr, "embedded_gate: warning: %s\n", warning.c_str());

  // Declared after the runtime, destroyed before it: requests a stop cut short end with the
  // io_context, and they hold the gate's channels until then.
  asio::io_context io{1};
  auto listen = paychan::engine::parse_listen(config->listen);
  if (!listen) return fail(listen.error().to_string());
  asio::ip::tcp::acceptor acceptor(io);
  beast::error_code ec;
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(listen->first, ec), listen->second);
  if (!ec) acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on " + config->listen + ": " + ec.message());
  int open = 0;
  asio::co_spawn(io, accept(acceptor, (*runtime)->handler(), open), asio::detached);

  // 4. Stopping: no new connections; the open ones get 10 s (polled: a connection ends on its own;
  //    one kept alive idle holds its read until then).
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer grace(io);
  std::chrono::steady_clock::time_point deadline;
  std::function<void()> wait_for_connections = [&] {
    if (open == 0 || std::chrono::steady_clock::now() >= deadline) return io.stop();
    grace.expires_after(std::chrono::milliseconds(50));
    grace.async_wait([&](beast::error_code) { wait_for_connections(); });
  };
  signals.async_wait([&](beast::error_code, int) {
    acceptor.close();
    signals.async_wait([&](beast::error_code, int) { io.stop(); });
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    wait_for_connections();
  });
  // Ready only now: a stop signal from here on is a clean stop.
  std::printf("{\"port\":%u}\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  io.run();
  model.join();         // its last work done before the io_context goes
  (*runtime)->stop();  // every charge taken is on disk
  std::fprintf(stderr, "embedded_gate: stopped\n");
  return 0;
}
