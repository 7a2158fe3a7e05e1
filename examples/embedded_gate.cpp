// A provider's own C++ server with the paychan gate embedded: no reverse proxy, the priced handler
// is a coroutine of the provider's, and it reports a dynamic price with report_charge().
//
//   embedded_gate STORE.sqlite FACILITATOR_URL [PORT]
//
// POST /v1/infer costs at most $0.01; prompts shorter than 100 bytes are charged half. Everything
// else is free. Stop with Ctrl-C.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "engine/gate/claimed_refresh.hpp"
#include "engine/gate/gate.hpp"
#include "engine/gate/gate_handler.hpp"
#include "engine/gate/http_facilitator.hpp"
#include "engine/gate/service.hpp"
#include "engine/http/heap_retention.hpp"
#include "engine/http/server.hpp"

namespace gate = paychan::engine::gate;
namespace http = paychan::engine::http;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: embedded_gate STORE.sqlite FACILITATOR_URL [PORT]\n");
    return 2;
  }
  // Ctrl-C and SIGTERM are taken by sigwait() below: blocked before any thread starts (threads
  // inherit the mask), so that none of them is killed by one instead.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  // 1. What the provider sells, and to whom payments go (here: a local chain and its test USDC).
  gate::GateConfig config;
  config.network = "eip155:31337";
  config.chainId = 31337;
  config.asset = *paychan::parse_address("0x5FbDB2315678afecb367f032d93F642f64180aa3");
  config.assetName = "USDC";
  config.assetVersion = "2";
  config.payTo = *paychan::parse_address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
  config.receiverAuthorizer = *paychan::parse_address("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
  config.routes = {gate::RouteConfig{"POST", "/v1/infer", 10'000, "a toy completion", "application/json"}};

  // 2. The parts: durable channel store, facilitator, offers, the gate itself.
  auto store = paychan::persistence::ChannelStore::open(argv[1]);
  if (!store) return std::fprintf(stderr, "%s\n", store.error().to_string().c_str()), 2;
  auto facilitator = gate::HttpFacilitator::create({argv[2]});
  if (!facilitator) return std::fprintf(stderr, "%s\n", facilitator.error().to_string().c_str()), 2;
  gate::GateMetrics metrics;
  gate::GateOptions options;
  options.chainId = config.chainId;
  options.network = config.network;
  gate::Gate g(options, **store, facilitator->get(), metrics);
  if (auto restored = g.restore(); !restored) return std::fprintf(stderr, "%s\n", restored.error().to_string().c_str()), 2;
  const auto offers = gate::OfferTable::build(config);
  // The settle job's claims (`paychan settle`, same store) read back every 10 s, for /metrics.
  std::optional<gate::ClaimedRefresh> claimed_refresh;
  claimed_refresh.emplace(g, std::chrono::seconds(10));

  // 3. The provider's own handler: runs only once the payment is accepted; a status >= 400 is
  //    charged nothing, and report_charge() sets a price below the offer. A handler that streams
  //    (ex.begin_stream(), ex.write(), ex.end_stream()) is charged as its head goes out, so it
  //    calls report_charge() before begin_stream(); when
  //    begin_stream() fails, the payment was refused: return, and the client gets the refusal.
  gate::FunctionService service([](http::Exchange& ex) -> http::Awaitable<void> {
    const auto prompt = ex.request().body();
    ex.response().set(200, "application/json", "{\"completion\":\"hello from an embedded gate\"}");
    if (prompt.size() < 100) gate::report_charge(ex.response(), 5'000);
    co_return;
  });
  gate::GateHandler handler(g, offers, service, metrics, config.assetDecimals);

  // 4. Serve it (or mount `handler` in an existing engine/http server).
  (void)http::retain_freed_heap();  // a server's heap kept between bursts of requests (see its header)
  http::ServerOptions server_options;
  server_options.port = argc > 3 ? static_cast<std::uint16_t>(std::atoi(argv[3])) : 8402;
  http::HttpServer server(handler, server_options);
  if (auto started = server.start(); !started) return std::fprintf(stderr, "%s\n", started.error().to_string().c_str()), 2;
  std::printf("embedded gate on port %u: POST /v1/infer, GET /metrics\n", server.port());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&stop, &signal);
  server.stop();
  // The store goes before the server: requests a stop cut short may still have states queued, and
  // the store's last commits report to the server's io_contexts.
  claimed_refresh.reset();
  store->reset();
  return 0;
}
