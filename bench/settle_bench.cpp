// How fast the settle job builds and signs claims: planning a store's worth of channels (one
// signature recovery per claimed channel, for the v the chain needs), then for
// each batch the ClaimBatch digest (a channel id per row), the receiver authorizer's signature and
// the facilitator request's JSON (engine::settlement::claim_request, which SettleJob journals and
// sends) — what the job does per batch before the network.
#include <benchmark/benchmark.h>

#include "channel/eip712.hpp"
#include "engine/settlement/settle_job.hpp"
#include "gate_bench_setup.hpp"

namespace {

using namespace paychan;
using bench::key;

std::vector<ChannelState> channels(std::size_t n) {
  const PrivateKey payer = key(1);
  const Bytes32 domain = batch_settlement_domain_separator(31337);
  std::vector<ChannelState> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    ChannelState& c = out[i];
    c.config.payer = c.config.payerAuthorizer = payer.address();
    c.config.receiver = c.config.receiverAuthorizer = key(2).address();
    c.config.token = key(3).address();
    c.config.withdrawDelay = 900;
    c.config.salt[31] = static_cast<std::uint8_t>(i);
    c.config.salt[30] = static_cast<std::uint8_t>(i >> 8);
    c.channelId = channel_id(domain, c.config);
    c.chargedCumulativeAmount = 10'000 * (i + 1);
    c.signedMaxClaimable = c.chargedCumulativeAmount;
    c.signature = payer.sign(voucher_digest(domain, Voucher{c.channelId, c.signedMaxClaimable}));
  }
  return out;
}

void BM_BuildAndSignClaimBatches(benchmark::State& state) {
  const auto store = channels(static_cast<std::size_t>(state.range(0)));
  const Bytes32 domain = batch_settlement_domain_separator(31337);
  engine::settlement::SettleJobOptions options;
  options.chainId = 31337;
  options.network = "eip155:31337";
  options.receiver = key(2).address();
  options.token = key(3).address();
  options.receiverAuthorizerKey = key(2);
  const engine::settlement::ClaimPolicy policy;  // batches of 100
  for (auto _ : state) {
    const auto plan = engine::settlement::plan_claims(store, policy, domain, 1'800'000'000);
    for (const auto& batch : plan.batches)
      benchmark::DoNotOptimize(engine::settlement::claim_request(options, domain, batch));
  }
  state.counters["claims/s"] = benchmark::Counter(static_cast<double>(state.iterations() * store.size()),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BuildAndSignClaimBatches)->Arg(100)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
