// The benchmarks' gate: the real Gate embedded in an HttpServer in front of a handler answering
// {"ok":true} at once, on the benchmarks' offer (gate_bench_setup.hpp), without a facilitator —
// its channels are seeded into the store funded and freshly mirrored, so paid requests take the
// hot path. POST /v1/infer is priced; any other path passes through unpaid.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "engine/gate/gate.hpp"
#include "engine/gate/gate_handler.hpp"
#include "engine/gate/service.hpp"
#include "engine/http/server.hpp"
#include "gate_bench_setup.hpp"
#include "persistence/channel_store.hpp"

namespace paychan::bench {

namespace http = engine::http;

inline constexpr std::uint64_t kNow = 1'800'000'000;  // the gate's clock: seeded mirrors stay fresh

class BenchGate {
 public:
  // A new store at `path` (a file there is replaced) holding `channels`, and the server on a free
  // port. Errors: the store's, the server's.
  [[nodiscard]] static Result<std::unique_ptr<BenchGate>> start(const std::string& path, bool durable, unsigned threads,
                                                                const std::vector<ChannelState>& channels = {}) {
    for (const auto& file : persistence::store_files(path)) std::filesystem::remove(file);
    {
      PAYCHAN_ASSIGN(auto seeding, persistence::ChannelStore::open(path, {false}));
      // First commits that change every row (its last-request time) until the write-ahead log has
      // passed its checkpoint size (1,000 pages; one a commit here) and restarted, then the seeds:
      // the measured store's log is at its working size, as in a gate that has run a few seconds,
      // and its commits overwrite the log rather than grow it. (A commit of an unchanged row writes
      // no page.) PAYCHAN_BENCH_COLD_LOG skips the warm-up for callgrind, which would count these
      // commits as the server's but not the kernel's file work, the only thing a warm log changes.
      const std::size_t warm_up = channels.empty() || std::getenv("PAYCHAN_BENCH_COLD_LOG") ? 0 : 1'200;
      for (std::size_t i = 0; i < warm_up; ++i) {
        ChannelState touched = channels[i % channels.size()];
        touched.lastRequestTimestamp = i + 1;
        PAYCHAN_TRY(seeding->commit_and_wait(touched));
      }
      for (const auto& c : channels) PAYCHAN_TRY(seeding->commit_and_wait(c));
    }
    // Those commits did not sync: flush them now, or the measured store's first commit waits for
    // all of them (6-9 ms here), as in no gate restarted after a durable run.
    for (const char* suffix : {"", "-wal"}) {
      const int fd = ::open((path + suffix).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      (void)::fsync(fd);
      ::close(fd);
    }
    persistence::StoreOptions options;
    options.durable = durable;
    options.voucher_log = true;  // as the gate's own store
    PAYCHAN_ASSIGN(auto store, persistence::ChannelStore::open(path, options));
    std::unique_ptr<BenchGate> g(new BenchGate(std::move(store), threads));
    PAYCHAN_TRY(g->gate_.restore());
    PAYCHAN_TRY(g->server_.start());
    return g;
  }
  // The store goes before the server's io_contexts: requests a stop cut short may still have states
  // queued, and the store's last commits report to those contexts.
  ~BenchGate() {
    server_.stop(std::chrono::seconds(1));
    store_.reset();
  }

  [[nodiscard]] std::uint16_t port() const { return server_.port(); }
  [[nodiscard]] std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(port()) + target;
  }
  [[nodiscard]] const protocol::PaymentRequirements& offer() const { return offers_->offers()[0].requirements; }
  [[nodiscard]] const engine::gate::GateMetrics& metrics() const { return metrics_; }

 private:
  BenchGate(std::unique_ptr<persistence::ChannelStore> store, unsigned threads)
      : store_(std::move(store)), server_(handler_, server_options(threads)) {}
  static http::ServerOptions server_options(unsigned threads) {
    http::ServerOptions o;
    o.threads = threads;
    // A load generator keeps its connections across rows and slices (gate_load): none may be
    // closed for idling while other rows run, or for having served its share of requests.
    o.limits.idle_timeout = std::chrono::hours(1);
    o.limits.max_requests_per_connection = std::numeric_limits<std::uint32_t>::max();
    return o;
  }

  engine::gate::GateConfig config_ = gate_config();
  std::unique_ptr<persistence::ChannelStore> store_;
  engine::gate::GateMetrics metrics_;
  engine::gate::Gate gate_{engine::gate::GateOptions{kChainId, config_.network, 1u << 30, 600, std::nullopt, [] { return kNow; }},
                           *store_, nullptr, metrics_};
  std::shared_ptr<const engine::gate::OfferTable> offers_ =
      std::make_shared<const engine::gate::OfferTable>(engine::gate::OfferTable::build(config_));
  engine::gate::FunctionService service_{[](http::Exchange& ex) -> http::Awaitable<void> {
    ex.response().set(200, "application/json", "{\"ok\":true}");
    co_return;
  }};
  engine::gate::GateHandler handler_{gate_, offers_, service_, metrics_, 6};
  http::HttpServer server_;
};

}  // namespace paychan::bench
