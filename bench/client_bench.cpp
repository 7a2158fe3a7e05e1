// The agent's cost per paid request, next to one secp256k1 signature (the unavoidable part):
//   BM_Sign                 one RFC 6979 recoverable signature
//   BM_VoucherHeader        sign the next voucher and encode the PAYMENT-SIGNATURE header
//   BM_ClientStorePut/1|0   the bookkeeping write, durable (one fsync) or not (process-crash safe only);
//                           PaymentClient makes one relaxed write per voucher and one durable write per
//                           32 vouchers (its budget reservation) or per deposit
// PaymentClient writes the store twice per request (before the voucher leaves, after the answer).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "channel/eip712.hpp"
#include "engine/client/payloads.hpp"
#include "gate_bench_setup.hpp"
#include "persistence/client_store.hpp"
#include "protocol/headers.hpp"

namespace paychan {
namespace {

engine::client::ChosenOffer offer() {
  engine::client::ChosenOffer o;
  const auto config = bench::gate_config();
  o.chainId = bench::kChainId;
  o.asset = config.asset;
  o.payTo = config.payTo;
  o.price = bench::kPrice;
  o.extra.receiverAuthorizer = config.receiverAuthorizer;
  o.extra.withdrawDelay = config.withdrawDelay;
  o.extra.name = "USDC";
  o.extra.version = "2";
  o.requirements.scheme = "batch-settlement";
  o.requirements.network = config.network;
  o.requirements.amount = "10000";
  o.requirements.extra = protocol::make_extra(o.extra);
  return o;
}

void BM_Sign(benchmark::State& state) {
  const PrivateKey key = bench::key(1);
  Bytes32 digest{};
  for (auto _ : state) {
    ++digest[0];
    benchmark::DoNotOptimize(key.sign(digest));
  }
}

void BM_VoucherHeader(benchmark::State& state) {
  const engine::client::ClientKeys keys{bench::key(1), std::nullopt};
  const auto o = offer();
  const ChannelConfig config = engine::client::channel_config_for(o, keys, Bytes32{});
  const Bytes32 id = channel_id(batch_settlement_domain_separator(o.chainId), config);
  Uint128 cumulative = 0;
  for (auto _ : state) {
    cumulative += bench::kPrice;
    benchmark::DoNotOptimize(
        protocol::encode_payment_signature(engine::client::voucher_payload(o, config, id, cumulative, keys)));
  }
}

void BM_ClientStorePut(benchmark::State& state) {
  const std::string dir = std::filesystem::temp_directory_path() / "paychan-client-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = std::move(*persistence::ClientStore::open(dir + "/agent.sqlite"));
  persistence::ClientChannel ch;
  ch.network = "eip155:31337";
  for (auto _ : state) {
    ch.charged += bench::kPrice;
    if (!store->put(ch, state.range(0) != 0)) state.SkipWithError("put failed");
  }
  store.reset();
  std::filesystem::remove_all(dir);
}

BENCHMARK(BM_Sign);
BENCHMARK(BM_VoucherHeader);
BENCHMARK(BM_ClientStorePut)->Arg(1)->Arg(0);

}  // namespace
}  // namespace paychan

BENCHMARK_MAIN();
