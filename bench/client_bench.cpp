// The agent's cost per paid request, next to one secp256k1 signature (the unavoidable part):
//   BM_Sign                 one RFC 6979 recoverable signature
//   BM_VoucherHeader        sign the next voucher and encode the PAYMENT-SIGNATURE header (VoucherHeaders)
//   BM_ClientStorePut/1|0   the bookkeeping write, durable (one fsync) or not (process-crash safe only);
//                           PaymentClient makes one durable write per up to 256 vouchers (its budget
//                           reservation) or per deposit, and writes a voucher's progress when it ends
//   BM_SigningAndBookkeeping
//                           what PaymentClient does per paid voucher apart from the HTTP exchange,
//                           with the same functions: lease the channel from the pool, reserve budget
//                           durably once per 256 vouchers (an fsync), sign and encode the voucher,
//                           read and check the PAYMENT-RESPONSE, release the channel
//   BM_PaidFetch            a whole paid request through PaymentClient (durable store) against the
//                           benchmarks' gate running on other threads of this process: the CPU
//                           column is the calling thread's alone, i.e. the agent's side
//   BM_UnpaidFetch          the same HTTP exchange without payment (a free route): PaidFetch minus
//                           this is what paying adds on the agent's side
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <filesystem>

#include "bench_gate_server.hpp"
#include "channel/client_rules.hpp"
#include "channel/eip712.hpp"
#include "engine/client/payloads.hpp"
#include "engine/client/payment_client.hpp"
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

using bench::BenchGate;
using bench::kNow;
using bench::kPrice;

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
  const engine::client::VoucherHeaders headers(o, config, id);
  Uint128 cumulative = 0;
  for (auto _ : state) {
    cumulative += bench::kPrice;
    benchmark::DoNotOptimize(headers.encode(engine::client::sign_voucher(o.chainId, id, cumulative, keys)));
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

void BM_SigningAndBookkeeping(benchmark::State& state) {
  const std::string dir = std::filesystem::temp_directory_path() / "paychan-client-bookkeeping-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = std::move(*persistence::ClientStore::open(dir + "/agent.sqlite"));
  const engine::client::ClientKeys keys{bench::key(1), std::nullopt};
  const auto o = offer();
  persistence::ClientChannel ch;
  ch.config = engine::client::channel_config_for(o, keys, engine::client::channel_salt(0));
  ch.channelId = channel_id(batch_settlement_domain_separator(o.chainId), ch.config);
  ch.network = o.requirements.network;
  ch.method = "POST";
  ch.url = "http://127.0.0.1:8402/v1/infer";
  ch.offer = protocol::encode_payment_requirements(o.requirements);
  ch.deposited = ch.balance = kPrice * 1'000'000'000;
  engine::client::ChannelPool pool;
  pool.saved(ch);
  // The gate's answer to a voucher (its content does not change what reading it costs).
  protocol::SettlementResponse answer;
  answer.success = true;
  answer.network = o.requirements.network;
  answer.payer = to_checksum_hex(keys.payer.address());
  answer.amount = "";
  answer.extra = protocol::make_response_extra(protocol::BatchSettlementResponseExtra{
      kPrice, protocol::ChannelSnapshot{ch.channelId, ch.balance, 0, 0, U256{}, kPrice}, std::nullopt});
  const std::string response_header = protocol::encode_payment_response(answer);
  const auto to_provider = [](const persistence::ClientChannel&) { return true; };
  const engine::client::VoucherHeaders headers(o, ch.config, ch.channelId);
  for (auto _ : state) {
    auto leased = *pool.lease_held(to_provider);
    const Uint128 cumulative = leased.charged + kPrice;
    if (cumulative > leased.reserved) {
      leased.reserved = cumulative + 256 * kPrice;
      if (!store->put(leased, true)) state.SkipWithError("put failed");
      pool.saved(leased);
    }
    leased.signedMax = cumulative;
    benchmark::DoNotOptimize(headers.encode(engine::client::sign_voucher(o.chainId, leased.channelId, cumulative, keys)));
    const auto extra = protocol::decode_payment_response_extra(response_header);
    const ClientExpectation expected{leased.channelId, 0, kPrice, leased.balance};
    const ChargeReport report{extra->channelState->channelId, *extra->chargedAmount,
                                              *extra->channelState->chargedCumulativeAmount, extra->channelState->balance};
    if (!check_charge_report(expected, report)) state.SkipWithError("check failed");
    leased.charged = cumulative;
    leased.balance = report.balance;
    pool.release(leased);
  }
  store.reset();
  std::filesystem::remove_all(dir);
}

// The agent's store and the gate's, both holding one funded channel with room for ~10^9 requests.
struct PaidRoute {
  std::string dir = std::filesystem::temp_directory_path() / "paychan-client-fetch-bench";
  std::unique_ptr<BenchGate> gate;
  std::unique_ptr<persistence::ClientStore> store;
  engine::client::ClientKeys keys{bench::key(1), std::nullopt};

  PaidRoute() {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto o = offer();
    const Uint128 funds = kPrice * 1'000'000'000;
    persistence::ClientChannel ch;
    ch.config = engine::client::channel_config_for(o, keys, engine::client::channel_salt(0));
    ch.channelId = channel_id(batch_settlement_domain_separator(o.chainId), ch.config);
    ChannelState s;
    s.config = ch.config;
    s.channelId = ch.channelId;
    s.onchain.balance = funds;
    s.onchainSyncedAt = kNow;
    gate = std::move(*BenchGate::start(dir + "/gate.sqlite", false, 1, {s}));
    ch.network = o.requirements.network;
    ch.method = "POST";
    ch.url = gate->url("/v1/infer");
    ch.offer = protocol::encode_payment_requirements(gate->offer());
    ch.deposited = ch.balance = funds;
    store = std::move(*persistence::ClientStore::open(dir + "/agent.sqlite"));
    (void)store->put(ch);
  }
  ~PaidRoute() {
    gate.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
};

// The calling thread's user and system CPU seconds so far.
std::pair<double, double> thread_cpu() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return {seconds(u.ru_utime), seconds(u.ru_stime)};
}

// Reports user and system CPU µs per iteration since `start` (the CPU column is their sum).
void report_cpu_split(benchmark::State& state, std::pair<double, double> start) {
  const auto [user, sys] = thread_cpu();
  const double n = static_cast<double>(state.iterations());
  state.counters["user_us"] = (user - start.first) * 1e6 / n;
  state.counters["sys_us"] = (sys - start.second) * 1e6 / n;
}

void BM_PaidFetch(benchmark::State& state) {
  PaidRoute route;
  engine::client::ClientPolicy policy;
  policy.maxPrice = kPrice;
  policy.budget = kUint128Max;
  engine::http::BlockingHttpClient http;
  engine::client::PaymentClient client(route.keys, {policy, {}, {}, 4}, *route.store, http);
  const auto request = engine::http::ClientRequest::post(route.gate->url("/v1/infer"), "{}");
  if (!client.fetch(request)) state.SkipWithError("the first request failed");  // learns the offer
  const auto start = thread_cpu();
  for (auto _ : state) {
    auto paid = client.fetch(request);
    if (!paid || paid->charged != kPrice) state.SkipWithError(paid ? "not charged" : paid.error().to_string().c_str());
  }
  report_cpu_split(state, start);
}

void BM_UnpaidFetch(benchmark::State& state) {
  PaidRoute route;
  engine::http::BlockingHttpClient http;
  const auto request = engine::http::ClientRequest::post(route.gate->url("/v1/free"), "{}");
  const auto start = thread_cpu();
  for (auto _ : state) {
    auto res = http.request(request);
    if (!res || res->status != 200) state.SkipWithError("the free route failed");
  }
  report_cpu_split(state, start);
}

BENCHMARK(BM_Sign);
BENCHMARK(BM_VoucherHeader);
BENCHMARK(BM_ClientStorePut)->Arg(1)->Arg(0);
BENCHMARK(BM_SigningAndBookkeeping);
BENCHMARK(BM_PaidFetch);
BENCHMARK(BM_UnpaidFetch);

}  // namespace
}  // namespace paychan

BENCHMARK_MAIN();
