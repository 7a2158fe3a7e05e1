// How fast the settle job builds and signs claims: planning a store's worth of channels, then for
// each batch the ClaimBatch digest (a channel id per row), the receiver authorizer's signature and
// the facilitator request's JSON — what SettleJob does per batch before the network.
#include <benchmark/benchmark.h>

#include "channel/eip712.hpp"
#include "engine/settlement/claim_plan.hpp"
#include "protocol/claim_batch.hpp"
#include "protocol/facilitator_api.hpp"

namespace {

using namespace paychan;

PrivateKey key(std::uint8_t seed) {
  Bytes32 secret{};
  secret[31] = seed;
  return *PrivateKey::from_bytes(secret);
}

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
  const PrivateKey authorizer = key(2);
  engine::settlement::ClaimPolicy policy;  // batches of 100
  for (auto _ : state) {
    const auto plan = engine::settlement::plan_claims(store, policy, 1'800'000'000);
    for (const auto& batch : plan.batches) {
      protocol::ClaimPayload claim;
      for (const auto& p : batch) claim.claims.push_back(p.row);
      claim.claimAuthorizerSignature = authorizer.sign(protocol::claim_batch_digest(domain, claim.claims));
      protocol::FacilitatorRequest request;
      request.paymentPayload.payload = protocol::BatchSettlementPayload{std::move(claim)};
      benchmark::DoNotOptimize(protocol::encode_facilitator_request(request));
    }
  }
  state.counters["claims/s"] = benchmark::Counter(static_cast<double>(state.iterations() * store.size()),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BuildAndSignClaimBatches)->Arg(100)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
