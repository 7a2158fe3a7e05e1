// Channel store commit throughput: group commit (durable: one fsync per batch) against the same
// store with durability off, through SQLite or the voucher log (the gate's store), with N committer
// threads (a gate's concurrent paid requests). Each thread commits its own channel's next state and
// waits until the store acknowledges it.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

#include "persistence/channel_store.hpp"
#include "persistence/voucher_log.hpp"

namespace paychan::persistence {
namespace {

std::unique_ptr<ChannelStore> g_store;
std::filesystem::path g_dir;

void BM_StoreCommit(benchmark::State& st) {
  if (st.thread_index() == 0) {
    char tmpl[] = "/tmp/paychan-bench-XXXXXX";
    g_dir = mkdtemp(tmpl);
    StoreOptions options;
    options.durable = st.range(0) != 0;
    options.voucher_log = st.range(1) != 0;
    g_store = std::move(*ChannelStore::open((g_dir / "gate.sqlite").string(), options));
  }
  ChannelState s;
  s.channelId[0] = static_cast<std::uint8_t>(st.thread_index());
  s.config.withdrawDelay = 900;
  for (auto _ : st) {  // the loop's start and end synchronize the threads
    s.chargedCumulativeAmount += 7'000;
    s.signedMaxClaimable = s.chargedCumulativeAmount + 3'000;
    if (!g_store->commit_and_wait(s)) st.SkipWithError("commit failed");
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
  if (st.thread_index() == 0) {
    g_store.reset();
    std::filesystem::remove_all(g_dir);
  }
}

// Args: durable (1) or not (0); through the voucher log (1) or SQLite (0). Threads: concurrent
// committers.
BENCHMARK(BM_StoreCommit)
    ->ArgsProduct({{1, 0}, {0, 1}})
    ->Threads(1)
    ->Threads(8)
    ->Threads(64)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Commit latency while many channels pay: each of 64 threads commits to its own share of N
// channels in turn, so the log holds many channels between folds and folds write many rows. The
// counters give the commit latency's p50, p99 and maximum over the run: what folds running beside
// the commits add to a paid request's tail (durable, through the voucher log, as the gate commits).
std::mutex g_latencies_mutex;
std::vector<double> g_latencies_us;

void BM_StoreCommitManyChannels(benchmark::State& st) {
  const auto channels = static_cast<std::uint32_t>(st.range(0));
  if (st.thread_index() == 0) {
    char tmpl[] = "/tmp/paychan-bench-XXXXXX";
    g_dir = mkdtemp(tmpl);
    StoreOptions options;
    options.voucher_log = true;
    g_store = std::move(*ChannelStore::open((g_dir / "gate.sqlite").string(), options));
    g_latencies_us.clear();
  }
  const auto threads = static_cast<std::uint32_t>(st.threads());
  const auto me = static_cast<std::uint32_t>(st.thread_index());
  ChannelState s;
  s.config.withdrawDelay = 900;
  std::uint32_t next = me;
  for (auto _ : st) {
    std::memcpy(s.channelId.data(), &next, sizeof next);
    next = next + threads < channels ? next + threads : me;
    s.chargedCumulativeAmount += 7'000;
    s.signedMaxClaimable = s.chargedCumulativeAmount;
    const auto start = std::chrono::steady_clock::now();
    if (!g_store->commit_and_wait(s)) st.SkipWithError("commit failed");
    const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - start;
    std::lock_guard lock(g_latencies_mutex);
    g_latencies_us.push_back(took.count());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
  if (st.thread_index() == 0) {
    g_store.reset();
    std::filesystem::remove_all(g_dir);
    std::sort(g_latencies_us.begin(), g_latencies_us.end());
    if (!g_latencies_us.empty()) {
      st.counters["p50_us"] = g_latencies_us[g_latencies_us.size() / 2];
      st.counters["p99_us"] = g_latencies_us[g_latencies_us.size() * 99 / 100];
      st.counters["max_us"] = g_latencies_us.back();
    }
  }
}
BENCHMARK(BM_StoreCommitManyChannels)
    ->Arg(64)
    ->Arg(20000)
    ->Threads(64)
    ->MinTime(3.0)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// A store that owns its voucher log, as the gate's does, folding only when a read asks.
std::unique_ptr<ChannelStore> open_owner(const std::filesystem::path& dir) {
  StoreOptions options;
  options.voucher_log = true;
  options.fold_interval = std::chrono::hours{1};
  options.idle_fold = std::chrono::hours{1};
  return std::move(*ChannelStore::open((dir / "gate.sqlite").string(), options));
}

// Commits the next state of channels 0..n-1 (charged `round`, `claimed` on chain) and waits until
// they are durable: in the log, not yet folded.
void commit_channels(ChannelStore& store, std::uint32_t n, std::uint64_t round, Uint128 claimed = 0) {
  std::atomic<std::uint32_t> pending{n};
  std::promise<void> all;
  for (std::uint32_t i = 0; i < n; ++i) {
    ChannelState s;
    std::memcpy(s.channelId.data(), &i, sizeof i);
    s.config.withdrawDelay = 900;
    s.chargedCumulativeAmount = round;
    s.onchain.totalClaimed = claimed;
    (void)store.enqueue(s, [&](const Status&) { if (--pending == 0) all.set_value(); }, &pending);
  }
  store.flush(&pending);
  all.get_future().wait();
}

// The voucher log's fold: how long the fold thread spends writing N channels' states into SQLite (a
// read asks for it, so the read's time is the fold's, plus one row read): the longest a read
// waits for a fold of N channels (the gate folds once a second, or at 65,536 channels).
void BM_FoldChannels(benchmark::State& st) {
  char tmpl[] = "/tmp/paychan-bench-XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  auto store = open_owner(dir);
  const auto channels = static_cast<std::uint32_t>(st.range(0));
  std::uint64_t round = 0;
  for (auto _ : st) {
    st.PauseTiming();
    commit_channels(*store, channels, ++round);
    st.ResumeTiming();
    if (!store->get(ChannelState{}.channelId)) st.SkipWithError("read failed");
  }
  st.counters["channels"] = static_cast<double>(channels);
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_FoldChannels)->Arg(64)->Arg(1000)->Arg(2000)->Arg(20000)->UseRealTime()->Unit(benchmark::kMillisecond);

// The gate's read of a closed-channel record, on its I/O thread, for the first request on a channel
// it does not hold, with N channels' commits in the log (none of them an erase).
void BM_ClosedChannelRead(benchmark::State& st) {
  char tmpl[] = "/tmp/paychan-bench-XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  auto store = open_owner(dir);
  const auto channels = static_cast<std::uint32_t>(st.range(0));
  Bytes32 unknown{};
  unknown.fill(0xEE);
  std::uint64_t round = 0;
  for (auto _ : st) {
    st.PauseTiming();
    if (store->log_backlog().unfolded_commits == 0) commit_channels(*store, channels, ++round);
    st.ResumeTiming();
    if (!store->closed_channel(unknown)) st.SkipWithError("read failed");
  }
  st.counters["channels"] = static_cast<double>(channels);
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ClosedChannelRead)->Arg(20000)->UseRealTime()->Unit(benchmark::kMicrosecond);

// The gate's read-back of the settle job's claims (ClaimedRefresh, every 10 s, off the I/O threads):
// N channels' totals in one page (/20000), or one page of 512 (/512: what Gate::refresh_claimed
// reads at a time). Each page holds the store's reader lock, which closed_channel() (an I/O
// thread's read) waits for.
void BM_ClaimedTotals(benchmark::State& st) {
  char tmpl[] = "/tmp/paychan-bench-XXXXXX";
  const std::filesystem::path dir = mkdtemp(tmpl);
  auto store = open_owner(dir);
  const auto channels = static_cast<std::uint32_t>(st.range(0));
  commit_channels(*store, channels, 2, 1);
  if (!store->unclaimed()) st.SkipWithError("fold failed");  // everything in SQLite first
  const auto page = static_cast<std::size_t>(st.range(1));
  for (auto _ : st) {
    const auto claimed = store->claimed_totals({}, page);
    if (!claimed || claimed->size() != std::min<std::size_t>(page, channels)) st.SkipWithError("read failed");
  }
  st.counters["channels"] = static_cast<double>(channels);
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ClaimedTotals)->Args({20000, 20000})->Args({20000, 512})->UseRealTime()->Unit(benchmark::kMillisecond);

// One synced append to the voucher log, as a durable gate's store makes once per group commit: a
// frame of N states (~400 bytes each), written around the page cache (BlockAppender, as the gate
// does) or through it (the log before it), then fdatasync. The CPU column is the calling thread's,
// its system calls included; interrupt handlers and kernel threads are not counted.
void BM_LogAppend(benchmark::State& st) {
  char tmpl[] = "/tmp/paychan-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return st.SkipWithError("cannot make a directory in /tmp");
  const std::filesystem::path dir = tmpl;
  auto segments = VoucherLog::own((dir / "gate.sqlite").string(), st.range(0) != 0);
  if (!segments) return st.SkipWithError(segments.error().to_string().c_str());
  VoucherLog& log = (*segments)[0];
  std::uint64_t generation = 1;
  if (!log.read() || !log.preallocate(true) || !log.reset(generation, true)) return st.SkipWithError("cannot open the log");
  std::vector<LoggedState> states(static_cast<std::size_t>(st.range(1)));
  std::vector<const LoggedState*> pointers;
  for (std::size_t i = 0; i < states.size(); ++i) {
    states[i].state.channelId[0] = static_cast<std::uint8_t>(i);
    states[i].state.config.withdrawDelay = 900;
    pointers.push_back(&states[i]);
  }
  std::string frame;
  append_frame(frame, generation, pointers);
  for (auto _ : st) {
    if (log.size() + frame.size() > VoucherLog::kGrowth) {  // stay within the preallocated blocks
      st.PauseTiming();
      append_frame(frame = {}, ++generation, pointers);
      if (!log.reset(generation, true)) {
        st.SkipWithError("cannot reset the log");
        break;
      }
      st.ResumeTiming();
    }
    if (!log.append(frame, true)) {
      st.SkipWithError("append failed");
      break;
    }
  }
  st.counters["frame_bytes"] = static_cast<double>(frame.size());
  std::filesystem::remove_all(dir);
}
// Args: around the page cache (1) or through it (0); states a frame.
BENCHMARK(BM_LogAppend)->ArgsProduct({{1, 0}, {1, 8, 64}})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace paychan::persistence

BENCHMARK_MAIN();
