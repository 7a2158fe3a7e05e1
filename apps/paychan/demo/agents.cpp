#include "demo/agents.hpp"

#include <chrono>
#include <thread>

#include "demo/toy_inference.hpp"
#include "engine/client/payment_client.hpp"
#include "persistence/client_store.hpp"

namespace paychan::cli::demo {
namespace {

namespace client = engine::client;

// One agent's loop; fills `out`, bumping `paid` after each paid request.
void run_agent(const AgentsPlan& plan, std::size_t index, std::uint64_t requests, const std::atomic<bool>& stop,
               std::atomic<std::uint64_t>& paid, AgentOutcome& out) {
  const PrivateKey& key = plan.keys[index];
  out.address = key.address();
  auto store = persistence::ClientStore::open((plan.dir / ("agent-" + std::to_string(index) + ".sqlite")).string());
  if (!store) {
    out.error = store.error().to_string();
    return;
  }
  client::ClientOptions options;
  options.policy = plan.policy;
  engine::http::BlockingHttpClient http;
  client::PaymentClient payer(client::ClientKeys{key, std::nullopt}, options, **store, http);

  for (std::uint64_t n = 0; n < requests && !stop.load(std::memory_order_relaxed); ++n) {
    auto response = payer.fetch(engine::http::ClientRequest::post(plan.url, toy_request(n)));
    if (!response) {
      out.error = response.error().to_string();
      break;
    }
    if (response->response.status != 200) {
      out.error = "HTTP " + std::to_string(response->response.status) + ": " + response->response.body;
      break;
    }
    ++out.paid;
    out.charged += response->charged;
    if (response->charged < kOfferedPrice) ++out.chargedLess;
    if (response->deposited > 0) ++out.deposits;
    paid.fetch_add(1, std::memory_order_relaxed);
  }

  if (auto flushed = payer.flush(); !flushed && out.error.empty()) out.error = flushed.error().to_string();
  auto channels = (*store)->list();
  if (!channels) {
    if (out.error.empty()) out.error = channels.error().to_string();
    return;
  }
  for (const auto& ch : *channels) {
    out.channels.push_back(ch.channelId);
    out.storeCharged += ch.charged;
    out.deposited += ch.deposited;
  }
}

}  // namespace

std::vector<AgentOutcome> run_agents(const AgentsPlan& plan, const std::atomic<bool>& stop,
                                     const AgentsProgress& progress) {
  const std::size_t n = plan.keys.size();
  std::vector<AgentOutcome> outcomes(n);
  std::atomic<std::uint64_t> paid{0};
  std::atomic<std::size_t> running{n};
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    // The first (requests mod n) agents make one request more.
    const std::uint64_t share = plan.requests / n + (i < plan.requests % n ? 1 : 0);
    threads.emplace_back([&, i, share] {
      run_agent(plan, i, share, stop, paid, outcomes[i]);
      running.fetch_sub(1, std::memory_order_release);
    });
  }
  auto last = std::chrono::steady_clock::now();
  while (running.load(std::memory_order_acquire) > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::chrono::steady_clock::now() - last >= std::chrono::seconds(1)) {
      last = std::chrono::steady_clock::now();
      progress(paid.load(std::memory_order_relaxed));
    }
  }
  for (auto& t : threads) t.join();
  progress(paid.load(std::memory_order_relaxed));
  return outcomes;
}

}  // namespace paychan::cli::demo
