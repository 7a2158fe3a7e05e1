// Channel store commit throughput: group commit (durable: one fsync per batch) against the same
// store with durability off, with N committer threads (a gate's concurrent paid requests). Each
// thread commits its own channel's next state and waits until the store acknowledges it.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "persistence/channel_store.hpp"

namespace paychan::persistence {
namespace {

std::unique_ptr<ChannelStore> g_store;
std::filesystem::path g_dir;

void BM_StoreCommit(benchmark::State& st) {
  if (st.thread_index() == 0) {
    char tmpl[] = "/tmp/paychan-bench-XXXXXX";
    g_dir = mkdtemp(tmpl);
    g_store = std::move(*ChannelStore::open((g_dir / "gate.sqlite").string(), StoreOptions{st.range(0) != 0}));
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

// Arg: durable (1) or not (0). Threads: concurrent committers.
BENCHMARK(BM_StoreCommit)->Arg(1)->Arg(0)->Threads(1)->Threads(8)->Threads(64)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace paychan::persistence

BENCHMARK_MAIN();
