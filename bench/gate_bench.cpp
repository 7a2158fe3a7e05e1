// The gate's payment logic without HTTP, in one run with the secp256k1 floor it is compared to:
//   BM_Secp256k1Recover    recover_signer of a voucher digest (the unavoidable cost)
//   BM_GateAuthorize       decode + match + lease + rules + local signature check, then release;
//                          on one thread and on two at once (threads:2), each on channels and an
//                          io_context of its own, as the gate's I/O threads run: its items/s over
//                          wall time shows how far the paid path scales across cores (the threads
//                          share the channel table, locked by shard, the metrics' atomics and the
//                          allocator)
//   BM_GateAuthorizeSettle the same, then charge and commit through the store (durability off:
//                          the row measures CPU; the fsync's cost is gate_load's business)
//   BM_FindOffer/k         the route a request's path pays for: a plain path (0), one with a
//                          format suffix (1), one with an escape (2), as route_key.hpp reads them
// Each iteration pays the next voucher of one of 256 funded channels, in turn.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "channel/eip712.hpp"
#include "engine/gate/gate.hpp"
#include "engine/http/beast.hpp"
#include "gate_bench_setup.hpp"
#include "protocol/headers.hpp"

namespace paychan::engine::gate {
namespace {

using bench::kChainId;
using bench::kPrice;
using bench::key;
constexpr std::size_t kChannels = 256;
constexpr std::size_t kPerChannel = 80;

struct Fixture {
  GateConfig config = bench::gate_config();
  std::string dir = std::filesystem::temp_directory_path() / "paychan-gate-bench";
  std::unique_ptr<persistence::ChannelStore> store;
  GateMetrics metrics;
  std::unique_ptr<Gate> gate;
  OfferTable offers;
  std::vector<std::vector<std::string>> headers;  // [channel][k] pays cumulative (k+1)·price
  std::vector<Bytes32> digests;
  std::vector<Signature> signatures;

  Fixture() {
    offers = OfferTable::build(config);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store = std::move(*persistence::ChannelStore::open(dir + "/gate.sqlite", {false}));
    const Bytes32 domain = batch_settlement_domain_separator(kChainId);
    const std::uint64_t now = 1'800'000'000;
    GateOptions options{kChainId, config.network, 1u << 30, 600, std::nullopt, [now] { return now; }};
    gate = std::make_unique<Gate>(options, *store, nullptr, metrics);
    headers.resize(kChannels);
    for (std::size_t c = 0; c < kChannels; ++c) {
      const PrivateKey payer = key(static_cast<std::uint32_t>(c + 1));
      ChannelState s;
      s.config = bench::channel_config(config, payer, 0);
      s.channelId = channel_id(domain, s.config);
      s.onchain.balance = kPrice * 1'000'000;
      s.onchainSyncedAt = now;
      (void)store->commit_and_wait(s);
      for (std::size_t k = 0; k < kPerChannel; ++k) {
        const Voucher v{s.channelId, kPrice * (k + 1)};
        const Signature sig = payer.sign(voucher_digest(domain, v));
        protocol::PaymentPayload p;
        p.accepted = offers.offers()[0].requirements;
        p.payload = protocol::BatchSettlementPayload{protocol::VoucherPayload{s.config, SignedVoucher{v, sig}}};
        headers[c].push_back(protocol::encode_payment_signature(p));
        if (k == 0) digests.push_back(voucher_digest(domain, v)), signatures.push_back(sig);
      }
    }
    (void)gate->restore();
  }
  ~Fixture() {
    gate.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Runs a coroutine to completion on `ctx` (the gate's calls, outside a server).
template <typename T>
T finish(http::asio::io_context& ctx, http::Awaitable<T> awaitable) {
  std::optional<T> result;
  http::asio::co_spawn(ctx, [&]() -> http::Awaitable<void> { result.emplace(co_await std::move(awaitable)); },
                       http::asio::detached);
  ctx.restart();
  ctx.run();
  return std::move(*result);
}

void BM_Secp256k1Recover(benchmark::State& state) {
  auto& f = fixture();
  std::size_t i = 0;
  for (auto _ : state) {
    auto signer = recover_signer(f.digests[i % kChannels], f.signatures[i % kChannels]);
    benchmark::DoNotOptimize(signer);
    ++i;
  }
}

void BM_GateAuthorize(benchmark::State& state) {
  auto& f = fixture();
  http::asio::io_context ctx;
  const Offer& offer = f.offers.offers()[0];
  // Thread t pays on channels t, t + threads, ... in turn: no channel is shared between threads.
  const auto threads = static_cast<std::size_t>(state.threads());
  const auto t = static_cast<std::size_t>(state.thread_index());
  std::size_t n = 0;
  for (auto _ : state) {
    // The first voucher of each channel: authorized, then released uncharged (handler failure).
    auto d = finish(ctx, f.gate->authorize(offer, f.headers[t + n % (kChannels / threads) * threads][0]));
    if (!std::holds_alternative<Authorization>(d)) state.SkipWithError("refused");
    ++n;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
}

void BM_GateAuthorizeSettle(benchmark::State& state) {
  auto& f = fixture();
  http::asio::io_context ctx;
  const Offer& offer = f.offers.offers()[0];
  std::size_t n = 0;
  for (auto _ : state) {
    const std::size_t c = n % kChannels, k = n / kChannels;
    if (k >= kPerChannel) {
      state.SkipWithError("out of vouchers: lower --benchmark_min_time");
      break;
    }
    auto d = finish(ctx, f.gate->authorize(offer, f.headers[c][k]));
    auto* auth = std::get_if<Authorization>(&d);
    if (auth == nullptr) {
      state.SkipWithError(std::get<Refusal>(d).error.to_string().c_str());
      break;
    }
    auto settled = finish(ctx, f.gate->settle(std::move(*auth), kPrice));
    benchmark::DoNotOptimize(settled);
    ++n;
  }
}

void BM_FindOffer(benchmark::State& state) {
  static const OfferTable offers = OfferTable::build(bench::gate_config());
  static constexpr std::string_view kPaths[] = {"/v1/infer", "/v1/infer.json", "/v1/%69nfer"};
  const std::string_view path = kPaths[static_cast<std::size_t>(state.range(0))];
  for (auto _ : state) {
    const Offer* offer = offers.find("POST", path);
    if (offer == nullptr) state.SkipWithError("unpriced");
    benchmark::DoNotOptimize(offer);
  }
}

BENCHMARK(BM_Secp256k1Recover);
BENCHMARK(BM_GateAuthorize)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_GateAuthorizeSettle)->Iterations(kChannels * kPerChannel);
BENCHMARK(BM_FindOffer)->DenseRange(0, 2);

}  // namespace
}  // namespace paychan::engine::gate

BENCHMARK_MAIN();
