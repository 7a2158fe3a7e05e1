// The gate under load, in one run: paid requests/s and added latency against the same server with
// payment off, durable vs non-durable group commit, and memory per idle channel.
//
// A server process (pinned to core 0, one HTTP worker; the store's writer thread shares that core)
// runs the gate embedded in front of a tiny in-process handler; the load generator (pinned to core
// 1) drives it over keep-alive connections, one channel per connection, with vouchers signed before
// the clock starts. Channels are seeded into the store funded and freshly mirrored, so every paid
// request takes the hot path: decode, one EIP-712 digest, one secp256k1 recover, the rules, a
// group-committed store write. Compare rows of the same run only.
//
// Options: kUsage below, or gate_load --help.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <malloc.h>
#ifdef PAYCHAN_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <numeric>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "channel/eip712.hpp"
#include "channel/hex.hpp"
#include "bench_gate_server.hpp"
#include "engine/http/beast.hpp"
#include "engine/http/heap_retention.hpp"
#include "protocol/headers.hpp"

namespace gate = paychan::engine::gate;
namespace http = paychan::engine::http;
using namespace paychan;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kUsage = R"(usage: gate_load [options]
  --connections N              closed-loop connections of the saturation rows (default 64)
  --requests-per-connection N  requests on each of them (default 400)
  --high-connections N         the paid rows again at N connections (default 256), as many requests
                               in all. Group commit shares one fsync among the requests in flight,
                               so the durable cost per request falls as concurrency rises; the two
                               levels show how far.
  --latency-connections N      connections of the moderate-load rows (default 8)
  --rate R                     requests/s of the moderate-load rows (default 1000): open loop, paid
                               and free requests alternating, about 2 s each; each connection's
                               first two leave before the clock starts and are reported apart
                               (the server's first requests run cold: a cost of its start)
  --slices N                   the saturation rows of a round (and the goal's t_recover) taken in
                               turns of N slices each (default 8; at most a request of each
                               connection a slice), so that a host whose speed drifts within a
                               minute shifts them alike; 1 runs each row whole, as under a
                               profiler, where time does not drift
  --rounds N                   every row N times (default 3, at most 15), in turn; the summary gives
                               medians of ratios taken within a round, so that a machine slowing
                               down between rows does not skew them
  --idle-channels N            N more channels in the store and the gate's table, never paid on
                               (default none). With a few channels their rows share a few pages;
                               with many, each paid request's row is a page of its own in the
                               write-ahead log, as in a gate that serves many agents.
  --active-channels N          the channels paid on in each row (default: one a connection); each
                               connection pays on N / connections of them in turn. With many,
                               nearly every request writes a channel of its own, and the store's
                               folds of its voucher log into SQLite write a row for each.
)";

using bench::kChainId;
using bench::kPrice;
using bench::key;
using bench::channel_config;
using bench::kNow;

void pin(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core % static_cast<int>(std::thread::hardware_concurrency()), &set);
  sched_setaffinity(0, sizeof set, &set);
}

// The server's core, for the server and for what is timed against it; GATE_LOAD_NO_PIN leaves the
// thread where it is (under a profiler, say).
void pin_to_server_core() {
  if (!std::getenv("GATE_LOAD_NO_PIN")) pin(0);
}

// ---- server side ----------------------------------------------------------------------------

struct ServerSpec {
  std::string store;
  bool durable = true;
  std::vector<ChannelState> channels;  // seeded before the server starts
};

// The means of two of the gate's timings, in seconds (0 without any).
struct ServerTimings {
  double local_check = 0;  // its local voucher checks: digest, verify, funding rules
  double authorize = 0;    // authorize() as a whole: the header's decode, the offer, the lease, the check
  double store_commit = 0;  // a paid request's state queued → durable (or written, durability off)
};

double mean_seconds(const engine::LatencyHistogram& h) {
  return h.count() == 0 ? 0 : std::chrono::duration<double>(h.sum()).count() / static_cast<double>(h.count());
}

// Writes the port to `fd` once listening and, at SIGTERM, its ServerTimings, then exits.
[[noreturn]] void serve(const ServerSpec& spec, int fd) {
  pin_to_server_core();
  // SIGTERM ends the server with an ordinary exit, so a profiler wrapped around the run (valgrind
  // follows the fork) writes its output.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);  // before any thread starts: they inherit the mask
  (void)http::retain_freed_heap();  // as `paychan gate` does
  auto gate = bench::BenchGate::start(spec.store, spec.durable, 1, spec.channels);
  if (!gate) std::_Exit(3);
  const std::uint16_t port = (*gate)->port();
  (void)!write(fd, &port, sizeof port);
  int signal = 0;
  sigwait(&term, &signal);  // until the load generator is done
  const ServerTimings timings{mean_seconds((*gate)->metrics().local_verification),
                              mean_seconds((*gate)->metrics().verification),
                              mean_seconds((*gate)->metrics().store_commit)};
  (void)!write(fd, &timings, sizeof timings);
  std::_Exit(0);
}

struct Server {
  pid_t pid = -1;
  int fd = -1;  // the server's reports (serve())
  std::uint16_t port = 0;
  // Stops the server; its timings.
  ServerTimings stop() {
    ServerTimings timings;
    if (pid > 0) {
      kill(pid, SIGTERM);
      if (read(fd, &timings, sizeof timings) != sizeof timings) timings = {};
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
    if (fd >= 0) close(fd);
    fd = -1;
    return timings;
  }
  ~Server() { stop(); }
};

std::unique_ptr<Server> start_server(const ServerSpec& spec) {
  int fds[2];
  if (pipe(fds) != 0) return nullptr;
  auto s = std::make_unique<Server>();
  s->pid = fork();
  if (s->pid == 0) {
    close(fds[0]);
    serve(spec, fds[1]);
  }
  close(fds[1]);
  s->fd = fds[0];
  if (read(s->fd, &s->port, sizeof s->port) != sizeof s->port) s->port = 0;
  return s;
}

// ---- load generator -------------------------------------------------------------------------

struct ThreadCpu {
  double user = 0, system = 0;  // seconds
};

struct Stats {
  double seconds = 0;
  double server_cpu_seconds = 0;  // user + system time of the whole server process during the run
                                  // (the flush probe's: its own thread's)
  double busy_cpu_seconds = 0;  // the same while the requests ran (not the wait for it to go quiet)
  ServerTimings server_timings;
  std::map<std::string, ThreadCpu> threads;  // the server's threads' CPU during the run, by name
  std::size_t ok = 0;
  std::size_t failed = 0;
  std::vector<double> latency_us;       // paid requests (every request of an unpaid workload)
  std::vector<double> free_latency_us;  // the free-route requests of a mixed workload
  double first_us = 0;                  // the slowest of an open-loop run's first requests (drive())

  [[nodiscard]] double rate() const { return static_cast<double>(ok) / seconds; }
  [[nodiscard]] double cpu_us_per_request() const { return server_cpu_seconds * 1e6 / static_cast<double>(ok + failed); }
  // The server's CPU time while the requests ran, over their wall time.
  [[nodiscard]] double core_busy_percent() const { return 100 * busy_cpu_seconds / seconds; }
  // A thread's (by name) CPU per request in µs, user or system (kernel) time.
  [[nodiscard]] double thread_us_per_request(const std::string& name, bool system) const {
    const auto it = threads.find(name);
    if (it == threads.end()) return 0;
    return (system ? it->second.system : it->second.user) * 1e6 / static_cast<double>(ok + failed);
  }
  [[nodiscard]] double percentile(double p) { return percentile_of(latency_us, p); }
  [[nodiscard]] double free_percentile(double p) { return percentile_of(free_latency_us, p); }

 private:
  static double percentile_of(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
  }
};

// Keep-alive connections to one server, opened before any clock starts and reused by every
// drive() over them: a row taken in slices pays for its connections once, as a row run whole does.
class Connections {
 public:
  Connections(std::uint16_t port, std::size_t n) {
    pin(1);
    const auto endpoint = http::tcp::endpoint(http::asio::ip::make_address("127.0.0.1"), port);
    for (std::size_t c = 0; c < n; ++c) {
      auto& stream = streams_.emplace_back(ctx_);
      http::error_code ec;
      stream.socket().connect(endpoint, ec);
      if (!ec) stream.socket().set_option(http::tcp::no_delay(true), ec);
      if (ec) {  // every later figure would be wrong
        std::fprintf(stderr, "gate_load: connection %zu of %zu to port %u: %s\n", c + 1, n, port, ec.message().c_str());
        std::exit(1);
      }
    }
    buffers_.resize(n);
  }
  [[nodiscard]] http::asio::io_context& context() noexcept { return ctx_; }
  [[nodiscard]] http::beast::tcp_stream& stream(std::size_t c) { return streams_[c]; }
  [[nodiscard]] http::beast::flat_buffer& buffer(std::size_t c) { return buffers_[c]; }
  void close() {
    streams_.clear();
    buffers_.clear();
  }

 private:
  http::asio::io_context ctx_;
  std::deque<http::beast::tcp_stream> streams_;  // a deque: streams neither move nor copy
  std::vector<http::beast::flat_buffer> buffers_;
};

// Sends each connection's requests in order over keep-alive and times every one. rate 0: closed
// loop (each request leaves when the previous answer is in). rate R: open loop at R requests/s over
// all connections, request k due at start + k/R; its latency runs from when it was due, so a
// server that falls behind is charged for the wait (no coordinated omission). An open-loop run's
// first request of each kind on each connection leaves at once and is timed apart
// (Stats::first_us), and the clock starts once they are all answered: the first requests a server
// serves after its start take 3-5 ms here (cold code and memory; a CPU profile accounts for little
// of it), a cost of its start, not of a gate at moderate load, and in a row of ~1,000 paid
// requests eight of them would be most of its p99.
// A request to the gate's free path (see free_request).
bool is_free(std::string_view request) { return request.starts_with("POST /v1/free_ "); }

// When request j of connection c is due in an open-loop run at `rate` requests/s over
// `connections`, in seconds after the start: the connections take turns, one request each.
double due_seconds(std::size_t j, std::size_t c, std::size_t connections, double rate) {
  return static_cast<double>(j * connections + c) / rate;
}

// mixed: the requests to the free route are timed apart (Stats::free_latency_us).
// Connection c of `connections` sends requests[c]; there are at most as many request lists as
// connections.
Stats drive(Connections& connections, const std::vector<std::vector<std::string>>& requests, bool mixed, double rate = 0) {
  pin(1);
  http::asio::io_context& ctx = connections.context();
  Stats stats;
  // Open loop: the clock starts once every connection has had its first requests answered.
  std::size_t warming = requests.size();
  http::asio::steady_timer all_warm(ctx, Clock::time_point::max());
  Clock::time_point due_start;
  for (std::size_t c = 0; c < requests.size(); ++c) {
    http::asio::co_spawn(
        ctx,
        [&, c]() -> http::Awaitable<void> {
          http::beast::tcp_stream& stream = connections.stream(c);
          http::beast::flat_buffer& buffer = connections.buffer(c);
          // One request and its answer: its latency from t0, in µs.
          const auto exchange = [&](const std::string& request, Clock::time_point t0) -> http::Awaitable<double> {
            co_await http::asio::async_write(stream, http::asio::buffer(request), http::asio::use_awaitable);
            http::bhttp::response<http::bhttp::string_body> response;
            co_await http::bhttp::async_read(stream, buffer, response, http::asio::use_awaitable);
            if (response.result_int() == 200) ++stats.ok; else ++stats.failed;
            co_return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
          };
          std::size_t j = 0;
          if (rate > 0) {
            for (const std::size_t untimed = mixed ? 2 : 1; j < std::min(untimed, requests[c].size()); ++j)
              stats.first_us = std::max(stats.first_us, co_await exchange(requests[c][j], Clock::now()));
            if (--warming == 0) {
              due_start = Clock::now() + std::chrono::milliseconds(10);
              all_warm.cancel();
            } else {
              http::error_code cancelled;
              co_await all_warm.async_wait(http::use(cancelled));
            }
          }
          http::asio::steady_timer timer(co_await http::asio::this_coro::executor);
          for (const std::size_t untimed = j; j < requests[c].size(); ++j) {
            const std::string& request = requests[c][j];
            auto t0 = Clock::now();
            if (rate > 0) {
              t0 = due_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                   due_seconds(j - untimed, c, requests.size(), rate)));
              timer.expires_at(t0);
              co_await timer.async_wait(http::asio::use_awaitable);
            }
            const double us = co_await exchange(request, t0);
            (mixed && is_free(request) ? stats.free_latency_us : stats.latency_us).push_back(us);
          }
        },
        [c](const std::exception_ptr& failure) {
          if (!failure) return;
          // A connection the server dropped: the row's figures would count its requests nowhere.
          try {
            std::rethrow_exception(failure);
          } catch (const std::exception& e) {
            std::fprintf(stderr, "gate_load: connection %zu failed: %s\n", c + 1, e.what());
          }
          std::exit(1);
        });
  }
  const auto start = Clock::now();
  ctx.run();
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ctx.restart();
  return stats;
}

std::string http_request(std::string_view payment) {
  std::string r = "POST /v1/infer HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: 2\r\n";
  if (!payment.empty()) r.append("PAYMENT-SIGNATURE: ").append(payment).append("\r\n");
  return r + "\r\n{}";
}

// The same handler through the gate's free path: a request to an unpriced route.
std::string free_request() {
  std::string r = http_request("");
  r.replace(r.find("/v1/infer"), 9, "/v1/free_");
  return r;
}

struct Workload {
  std::vector<ChannelState> channels;
  std::vector<std::vector<std::string>> requests;
  bool mixed = false;  // paid and free requests alternate
};

// `w` with `n` channels no request pays on, seeded with its own: ids spread over the store's key
// space as real ones are (the ids are random, not derived from their config, which nothing checks
// for a channel that is never paid on).
Workload with_idle_channels(Workload w, std::size_t n) {
  ChannelState idle;
  idle.config = channel_config(bench::gate_config(), key(1'000'000), 0);
  idle.onchain.balance = kPrice;
  idle.onchainSyncedAt = kNow;
  std::mt19937_64 ids(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t b = 0; b < idle.channelId.size(); b += 8) {
      const std::uint64_t r = ids();
      std::memcpy(idle.channelId.data() + b, &r, 8);
    }
    w.channels.push_back(idle);
  }
  return w;
}

// `connections` connections paying `per` vouchers each, signed now (on both cores, before any
// clock runs), on `channels` channels (at least one a connection): connection c pays on channels
// c, c + connections, ... in turn, each voucher its channel's next.
Workload paid_workload(std::size_t connections, std::size_t per, std::uint8_t salt, std::size_t channels) {
  const auto config = bench::gate_config();
  const auto offer = gate::OfferTable::build(config).offers()[0].requirements;
  const Bytes32 domain = batch_settlement_domain_separator(kChainId);
  const std::size_t each = std::max<std::size_t>(1, channels / connections);
  Workload w;
  w.channels.resize(connections * each);
  w.requests.resize(connections);
  std::vector<std::thread> signers;
  for (unsigned t = 0; t < 2; ++t) {
    signers.emplace_back([&, t] {
      for (std::size_t c = t; c < connections; c += 2) {
        std::vector<PrivateKey> payers;
        for (std::size_t m = 0; m < each; ++m) {
          const std::size_t n = c + connections * m;
          payers.push_back(key(static_cast<std::uint32_t>(n + 1)));
          ChannelState& s = w.channels[n];
          s.config = channel_config(config, payers.back(), salt);
          s.channelId = channel_id(domain, s.config);
          s.onchain.balance = kPrice * (per / each + 2);
          s.onchainSyncedAt = kNow;
        }
        for (std::size_t j = 0; j < per; ++j) {
          const ChannelState& s = w.channels[c + connections * (j % each)];
          const Voucher v{s.channelId, kPrice * (j / each + 1)};
          protocol::PaymentPayload p;
          p.accepted = offer;
          p.payload = protocol::BatchSettlementPayload{
              protocol::VoucherPayload{s.config, SignedVoucher{v, payers[j % each].sign(voucher_digest(domain, v))}}};
          w.requests[c].push_back(http_request(protocol::encode_payment_signature(p)));
        }
      }
    });
  }
  for (auto& t : signers) t.join();
  return w;
}

// User + system CPU seconds a process has used so far (/proc/PID/stat, fields 14 and 15).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// User and system CPU seconds of each of a process's threads so far, summed by thread name
// (/proc/PID/task/TID/stat: the name in parentheses, then fields 14 and 15).
std::map<std::string, ThreadCpu> thread_cpu(pid_t pid) {
  std::map<std::string, ThreadCpu> by_name;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) fields >> skip;
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    const auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    ThreadCpu& t = by_name[text.substr(open + 1, close - open - 1)];
    t.user += utime / tick;
    t.system += stime / tick;
  }
  return by_name;
}

// Waits until the server at `pid` has used no CPU for 50 ms (at most a second): what a row's
// requests left it to do (closing connections; its store's fold of the voucher log, due 20 ms after
// the last commit) is done before the next row, and counted in this one.
void wait_quiet(pid_t pid) {
  double last = cpu_seconds(pid);
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const double now = cpu_seconds(pid);
    if (now == last) return;
    last = now;
  }
}

// Drives `requests` over `connections` to `server` (drive()), with the CPU its process and each of
// its threads used meanwhile and until it went quiet after.
Stats measure(const Server& server, Connections& connections, const std::vector<std::vector<std::string>>& requests,
              bool mixed, double rate = 0) {
  const double before = cpu_seconds(server.pid);
  const auto threads_before = thread_cpu(server.pid);
  Stats stats = drive(connections, requests, mixed, rate);
  stats.busy_cpu_seconds = cpu_seconds(server.pid) - before;
  wait_quiet(server.pid);
  stats.server_cpu_seconds = cpu_seconds(server.pid) - before;
  stats.threads = thread_cpu(server.pid);
  for (auto& [name, t] : stats.threads) {
    if (const auto it = threads_before.find(name); it != threads_before.end()) {
      t.user -= it->second.user;
      t.system -= it->second.system;
    }
  }
  return stats;
}

Stats run(const std::string& store, bool durable, const Workload& w, double rate = 0) {
  auto server = start_server({store, durable, w.channels});
  Connections connections(server->port, w.requests.size());
  Stats stats = measure(*server, connections, w.requests, w.mixed, rate);
  stats.server_timings = server->stop();
  return stats;
}

// Adds a slice's figures to its row's (Sliced).
void add(Stats& row, Stats slice) {
  row.seconds += slice.seconds;
  row.busy_cpu_seconds += slice.busy_cpu_seconds;
  row.server_cpu_seconds += slice.server_cpu_seconds;
  row.ok += slice.ok;
  row.failed += slice.failed;
  for (const auto& [name, t] : slice.threads) {
    row.threads[name].user += t.user;
    row.threads[name].system += t.system;
  }
  row.latency_us.insert(row.latency_us.end(), slice.latency_us.begin(), slice.latency_us.end());
}

// A saturation row measured in slices: its server stays up, with its connections open, while the
// rows of its round take turns, a slice each (run_round), so that a host whose speed drifts within
// a minute (by a third here) shifts every row of the round alike. Slice k sends requests
// [per·k/n, per·(k+1)/n) of each connection: the channels' vouchers stay in order.
class Sliced {
 public:
  Sliced(const std::string& store, bool durable, Workload w)
      : server_(start_server({store, durable, w.channels})),
        connections_(server_->port, w.requests.size()),
        requests_(std::move(w.requests)) {}

  // Measures slice k of n.
  void run_slice(std::size_t k, std::size_t n) {
    std::vector<std::vector<std::string>> slice;
    for (const auto& all : requests_) {
      const auto from = static_cast<std::ptrdiff_t>(all.size() * k / n), to = static_cast<std::ptrdiff_t>(all.size() * (k + 1) / n);
      slice.emplace_back(all.begin() + from, all.begin() + to);
    }
    add(stats_, measure(*server_, connections_, slice, false));
  }
  // The row's figures, the server stopped.
  Stats finish() {
    connections_.close();
    stats_.server_timings = server_->stop();
    return std::move(stats_);
  }

 private:
  std::unique_ptr<Server> server_;
  Connections connections_;
  std::vector<std::vector<std::string>> requests_;
  Stats stats_;
};

std::vector<std::vector<std::string>> unpaid_requests(std::size_t connections, std::size_t per) {
  return std::vector<std::vector<std::string>>(connections, std::vector<std::string>(per, free_request()));
}

// Every paid request followed by a free one on the same connection: both kinds meet the same
// server in the same milliseconds, so what the machine does meanwhile (steal, other processes)
// shifts both alike, and their difference is what payment adds.
Workload mixed_workload(std::size_t connections, std::size_t per, std::uint8_t salt, std::size_t channels) {
  Workload w = paid_workload(connections, per, salt, channels);
  for (auto& requests : w.requests) {
    std::vector<std::string> mixed;
    for (auto& paid : requests) {
      mixed.push_back(std::move(paid));
      mixed.push_back(free_request());
    }
    requests = std::move(mixed);
  }
  w.mixed = true;
  return w;
}

// One secp256k1 recover, timed on the server's core (unless GATE_LOAD_NO_PIN): the two cores of a
// shared VM can run at different speeds for minutes at a time, and the goal compares against the
// server's own.
double recover_seconds(int n) {
  double seconds = 0;
  std::thread([&] {
    pin_to_server_core();
    const PrivateKey k = key(7);
    Bytes32 digest{};
    const Signature sig = k.sign(digest);
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      digest[0] = static_cast<std::uint8_t>(i);
      (void)recover_signer(digest, sig);
    }
    seconds = std::chrono::duration<double>(Clock::now() - t0).count() / n;
  }).join();
  return seconds;
}

// The calling thread's user + system time, in seconds.
double thread_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// The floor under a durable answer: a 4 KiB write and fdatasync in the store's directory, the write
// around the page cache as the voucher log's (BlockAppender) where the file system allows, timed on
// the server's core (unless GATE_LOAD_NO_PIN). No write-ahead log or journal answers sooner than
// the disk flushes its cache, so a durable paid request's added latency cannot fall below this.
// Its CPU time (the thread's user + system time, in the CPU column) is what every group commit's
// fdatasync costs the server's core in the kernel, shared by the batch's requests.
// With `rate` zero the flushes run back to back. Otherwise the i-th starts when the moderate-load
// rows' i-th paid request is due (paid and free requests alternate on each of `connections`), or
// at once if the previous flush ran past that, as the store's one writer would: on a virtual disk
// a flush after an idle pause can take twice as long as one of a busy stream, so the floor under
// those rows is this timing, not back to back.
Stats disk_flush(const std::string& dir, double rate = 0, std::size_t connections = 1) {
  Stats s;
  std::thread([&] {
    pin_to_server_core();
    const std::string path = dir + "/flush-probe";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
      std::perror(("gate_load: disk flush probe " + path).c_str());
      return;
    }
    std::unique_ptr<char, decltype(&std::free)> page(static_cast<char*>(std::aligned_alloc(4096, 4096)), &std::free);
    std::memset(page.get(), 'x', 4096);
    constexpr int kPages = 64, kN = 200;
    for (int i = 0; i < kPages; ++i) (void)!pwrite(fd, page.get(), 4096, off_t{4096} * i);
    (void)fdatasync(fd);  // allocated and flushed once: the timed writes overwrite, as the log's do
    const int direct = ::open(path.c_str(), O_WRONLY | O_DIRECT);
    const int writer = direct >= 0 ? direct : fd;
    const double cpu_before = thread_cpu_seconds();
    const auto start = Clock::now();
    for (int i = 0; i < kN; ++i) {
      if (rate > 0) {
        const auto paid = static_cast<std::size_t>(i);
        const double due = due_seconds(2 * (paid / connections), paid % connections, connections, rate);
        std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(due)));
      }
      const auto t0 = Clock::now();
      (void)!pwrite(writer, page.get(), 4096, off_t{4096} * (i % kPages));
      if (fdatasync(fd) != 0) ++s.failed; else ++s.ok;
      s.latency_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    s.server_cpu_seconds = thread_cpu_seconds() - cpu_before;
    s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (direct >= 0) ::close(direct);
    ::close(fd);
    std::filesystem::remove(path);
  }).join();
  return s;
}

// The bytes the program holds from its allocator. tcmalloc's: its objects at their size classes'
// sizes. glibc's: its chunks with their headers, those from the heap (uordblks) and those mapped on
// their own (hblkhd: a table's bucket array can be large enough).
std::size_t heap_in_use() {
#ifdef PAYCHAN_TCMALLOC
  std::size_t bytes = 0;
  if (!MallocExtension_GetNumericProperty("generic.current_allocated_bytes", &bytes)) {
    std::fprintf(stderr, "gate_load: tcmalloc does not report the bytes it has allocated\n");
    std::exit(2);
  }
  return bytes;
#else
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#endif
}

// Heap bytes per channel held by the gate's table (heap_in_use before and after).
double bytes_per_channel(std::size_t n) {
  const auto config = bench::gate_config();
  const Bytes32 domain = batch_settlement_domain_separator(kChainId);
  const PrivateKey payer = key(9);
  ChannelState s;
  s.config = channel_config(config, payer, 1);
  std::vector<Bytes32> ids(n);
  for (std::size_t i = 0; i < n; ++i) {
    s.config.salt[1] = static_cast<std::uint8_t>(i), s.config.salt[2] = static_cast<std::uint8_t>(i >> 8),
    s.config.salt[3] = static_cast<std::uint8_t>(i >> 16);
    ids[i] = channel_id(domain, s.config);
  }
  const std::size_t before = heap_in_use();
  auto table = std::make_unique<engine::ChannelTable>();
  for (std::size_t i = 0; i < n; ++i) {
    s.channelId = ids[i];
    s.config.salt[1] = static_cast<std::uint8_t>(i);
    table->restore(s);
  }
  const std::size_t after = heap_in_use();
  if (after <= before) {
    // Another allocator than the one asked took the table (one preloaded): no figure rather than 0.
    std::fflush(stdout);  // the rows so far, before the reason
    std::fprintf(stderr, "gate_load: the allocator's figures did not grow with %zu channels: not this program's "
                         "allocator (another one preloaded?)\n", n);
    std::exit(2);
  }
  return static_cast<double>(after - before) / static_cast<double>(n);
}

// The command line as --name N pairs, every N a whole number >= 1, each into its slot of
// `options` (name, slot). False, with the reason on stderr, on anything else.
template <std::size_t K>
bool parse_options(int argc, char** argv, const std::array<std::pair<const char*, std::size_t*>, K>& options) {
  for (int i = 1; i < argc; i += 2) {
    const auto known = std::find_if(options.begin(), options.end(),
                                    [&](const auto& o) { return std::strcmp(o.first, argv[i]) == 0; });
    if (known == options.end()) {
      std::fprintf(stderr, "gate_load: unknown option %s\n", argv[i]);
      return false;
    }
    const char* text = i + 1 < argc ? argv[i + 1] : "";
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (!std::isdigit(static_cast<unsigned char>(text[0])) || *end != '\0' || errno != 0 || value == 0) {
      std::fprintf(stderr, "gate_load: %s needs a whole number >= 1, not \"%s\"\n", argv[i], text);
      return false;
    }
    *known->second = static_cast<std::size_t>(value);
  }
  return true;
}

void row(const char* name, Stats& s) {
  std::printf("| %-36s | %9.0f | %8.1f | %8.1f | %13.1f | %9.0f%% | %6zu |\n", name, s.rate(), s.percentile(0.5),
              s.percentile(0.99), s.cpu_us_per_request(), s.core_busy_percent(), s.failed);
}

// A line of the table with only a name and latencies.
void latency_row(const char* name, double p50, double p99) {
  std::printf("| %-36s | %9s | %8.1f | %8.1f | %13s | %10s | %6s |\n", name, "", p50, p99, "", "", "");
}

// The flush probe: its latencies, and its CPU time per flush (no rate: it is not served traffic).
void flush_row(const char* name, Stats& s) {
  std::printf("| %-36s | %9s | %8.1f | %8.1f | %13.1f | %10s | %6zu |\n", name, "", s.percentile(0.5),
              s.percentile(0.99), s.cpu_us_per_request(), "", s.failed);
}

// A line of the table that carries only a note in its first column.
void note_row(const char* note) {
  std::printf("| %-36s | %9s | %8s | %8s | %13s | %10s | %6s |\n", note, "", "", "", "", "", "");
}

// A mixed run: both kinds together (req/s, CPU), then each kind's latency.
void latency_rows(const char* title, Stats& s) {
  std::printf("| %-36s | %9.0f | %8s | %8s | %13.1f | %9.0f%% | %6zu |\n", title, s.rate(), "", "",
              s.cpu_us_per_request(), s.core_busy_percent(), s.failed);
  latency_row("  its free requests", s.free_percentile(0.5), s.free_percentile(0.99));
  latency_row("  its paid requests", s.percentile(0.5), s.percentile(0.99));
  char note[64];
  std::snprintf(note, sizeof note, "  (its first requests: max %.0f µs)", s.first_us);
  note_row(note);
  // Where a paid request's time went inside the server, at this load (means).
  char timings[128];
  std::snprintf(timings, sizeof timings, "  (in server: local check %.1f us, authorize %.1f, store commit %.1f)",
                s.server_timings.local_check * 1e6, s.server_timings.authorize * 1e6, s.server_timings.store_commit * 1e6);
  note_row(timings);
}

// Where a row's server CPU went: the HTTP worker's, the store writer's and the voucher log's fold
// thread's, user + system (the writer's system time is mostly its fsyncs).
void thread_row(const Stats& s) {
  const auto us = [&](const char* thread, bool system) { return s.thread_us_per_request(thread, system); };
  char note[128];
  std::snprintf(note, sizeof note, "  (µs/req: http %.1f+%.1f, store %.1f+%.1f, fold %.1f+%.1f)", us("paychan-http", false),
                us("paychan-http", true), us("paychan-store", false), us("paychan-store", true),
                us("paychan-fold", false), us("paychan-fold", true));
  note_row(note);
}

// One round's figures, for the medians over rounds.
struct Round {
  double t_recover = 0;      // the mean of the round's slices'
  double t_recover_min = 0;  // its fastest slice's
  double unpaid = 0, durable = 0, volatile_ = 0;  // req/s at saturation
  double durable_high = 0, volatile_high = 0;      // the same at --high-connections
  double durable_cpu = 0, volatile_cpu = 0;  // server CPU µs per paid request at saturation
  double durable_busy = 0;                      // the server core's busy share in the durable row (%)
  double durable_cpu_added = 0;  // server CPU µs per paid request, durable less durability off
  double durable_fsync_added = 0;  // of which the store writer's system time (its fsyncs)
  double added_p50 = 0, added_p99 = 0, added_p50_volatile = 0, added_p99_volatile = 0;  // µs at moderate load
  double flush_p50 = 0, flush_p99 = 0, flush_cpu = 0;  // µs, disk_flush (its CPU: per flush)
  double timed_flush_p50 = 0, timed_flush_p99 = 0;     // µs, disk_flush timed as paid requests
};

struct Load {
  std::size_t connections, per, high, light;
  double rate;
  std::size_t slices;  // --slices
  std::size_t idle;    // --idle-channels
  std::size_t active;  // --active-channels (0: one a connection)
};

Round run_round(const std::string& store, const Load& load, int round) {
  const auto [connections, per, high, light, rate, slices, idle, active] = load;
  // (An init-capture: clang before 16 cannot capture a structured binding itself.)
  const auto run = [&store, idle_channels = idle](bool durable, Workload w, double rate_per_second = 0) {
    return ::run(store, durable, with_idle_channels(std::move(w), idle_channels), rate_per_second);
  };
  Round r;
  const auto salt = [&](int k) { return static_cast<std::uint8_t>(16 * round + k); };
  // Saturation, many connections: the rows' servers all start first (in this order, which
  // scripts/callgrind-gate-load.sh counts on), then take turns a slice at a time, and so does the
  // goal's t_recover, timed on the server's core between them.
  const std::size_t per_high = std::max<std::size_t>(1, connections * per / high);
  constexpr std::size_t kFreePerPaid = 4;
  const auto sliced = [&store, idle_channels = idle](const char* name, bool durable, Workload w) {
    return Sliced(store + name, durable, with_idle_channels(std::move(w), idle_channels));
  };
  // Free requests are ~8x faster than paid ones: four times as many keep their slices long beside
  // what each slice costs at its edges (the ramp up and down, the wait for the server to go quiet).
  Sliced unpaid_row = sliced("-free", true, Workload{{}, unpaid_requests(connections, kFreePerPaid * per)});
  Sliced durable_row = sliced("-durable", true, paid_workload(connections, per, salt(1), active));
  Sliced volatile_row = sliced("-off", false, paid_workload(connections, per, salt(2), active));
  Sliced durable_high_row = sliced("-durable-high", true, paid_workload(high, per_high, salt(5), active));
  Sliced volatile_high_row = sliced("-off-high", false, paid_workload(high, per_high, salt(6), active));
  const int recovers_per_slice = static_cast<int>(std::max<std::size_t>(1, 4000 / slices));
  double recover_sum = 0, recover_min = 1, recover_max = 0;
  std::vector<std::function<void(std::size_t)>> turns{[&](std::size_t) {
    const double recover = recover_seconds(recovers_per_slice);
    recover_sum += recover, recover_min = std::min(recover_min, recover), recover_max = std::max(recover_max, recover);
  }};
  for (Sliced* row : {&unpaid_row, &durable_row, &volatile_row, &durable_high_row, &volatile_high_row})
    turns.emplace_back([row, slices](std::size_t k) { row->run_slice(k, slices); });
  // Each slice takes the turns in an order of its own (the same in every run): no row always
  // follows the same neighbour.
  std::vector<std::size_t> order(turns.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 shuffled(static_cast<std::mt19937::result_type>(round));
  for (std::size_t k = 0; k < slices; ++k) {
    std::shuffle(order.begin(), order.end(), shuffled);
    for (const std::size_t t : order) turns[t](k);
  }
  r.t_recover = recover_sum / static_cast<double>(slices);
  r.t_recover_min = recover_min;
  char title[96];
  std::snprintf(title, sizeof title, "round %d (secp256k1 recover %.1f us: %.1f-%.1f)", round, r.t_recover * 1e6,
                recover_min * 1e6, recover_max * 1e6);
  note_row(title);
  Stats unpaid = unpaid_row.finish();
  row("payment off (same gate, free route)", unpaid);
  Stats durable = durable_row.finish();
  row("paid, durable (group commit)", durable);
  thread_row(durable);
  Stats volatile_ = volatile_row.finish();
  row("paid, durability off", volatile_);
  thread_row(volatile_);
  char name[64];
  std::snprintf(name, sizeof name, "paid, durable, %zu conn.", high);
  Stats durable_high = durable_high_row.finish();
  row(name, durable_high);
  std::snprintf(name, sizeof name, "paid, durability off, %zu conn.", high);
  Stats volatile_high = volatile_high_row.finish();
  row(name, volatile_high);
  // The same signature work inside the loaded server (digest + verify with the payer's known key +
  // funding rules): what the server's caches make of it, beside t_recover measured alone. And the
  // whole of authorize() around it, mainly the header's decode: what payment adds before serving.
  std::snprintf(title, sizeof title, "  (in server: local check %.1f us, authorize %.1f)",
                volatile_.server_timings.local_check * 1e6, volatile_.server_timings.authorize * 1e6);
  note_row(title);
  // Moderate load, for latency: a fixed rate well below what the server sustains, open loop, paid
  // and free requests alternating (about 2 s a row).
  const std::size_t paced = std::max<std::size_t>(1, static_cast<std::size_t>(rate) / light);
  Stats light_durable = run(true, mixed_workload(light, paced, salt(3), active), rate);
  latency_rows("moderate load, durable, free + paid", light_durable);
  Stats light_volatile = run(false, mixed_workload(light, paced, salt(4), active), rate);
  latency_rows("moderate load, durability off, ditto", light_volatile);
  const std::string dir = std::filesystem::path(store).parent_path();
  Stats flush = disk_flush(dir);
  if (flush.ok != 0)
    flush_row("disk flush, 4 KiB direct + fdatasync", flush);
  else
    note_row("disk flush alone: probe failed (stderr)");
  Stats timed = disk_flush(dir, rate, light);
  if (timed.ok != 0)
    flush_row("  the same, timed as paid requests", timed);
  else
    note_row("  the same, timed: probe failed (stderr)");
  r.flush_p50 = flush.percentile(0.5), r.flush_p99 = flush.percentile(0.99), r.flush_cpu = flush.cpu_us_per_request();
  r.timed_flush_p50 = timed.percentile(0.5), r.timed_flush_p99 = timed.percentile(0.99);
  r.unpaid = unpaid.rate(), r.durable = durable.rate(), r.volatile_ = volatile_.rate();
  r.durable_cpu = durable.cpu_us_per_request(), r.volatile_cpu = volatile_.cpu_us_per_request();
  r.durable_busy = durable.core_busy_percent();
  r.durable_cpu_added = r.durable_cpu - r.volatile_cpu;
  r.durable_fsync_added =
      durable.thread_us_per_request("paychan-store", true) - volatile_.thread_us_per_request("paychan-store", true);
  r.durable_high = durable_high.rate(), r.volatile_high = volatile_high.rate();
  r.added_p50 = light_durable.percentile(0.5) - light_durable.free_percentile(0.5);
  r.added_p99 = light_durable.percentile(0.99) - light_durable.free_percentile(0.99);
  r.added_p50_volatile = light_volatile.percentile(0.5) - light_volatile.free_percentile(0.5);
  r.added_p99_volatile = light_volatile.percentile(0.99) - light_volatile.free_percentile(0.99);
  return r;
}

template <typename F>
double median_of(const std::vector<Round>& rounds, F field) {
  std::vector<double> v;
  for (const Round& r : rounds) v.push_back(field(r));
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A ratio taken within each round: its median, then each round's.
template <typename F>
void print_ratio(const std::vector<Round>& rounds, F ratio) {
  std::printf("%.2f (per round:", median_of(rounds, ratio));
  for (const Round& r : rounds) std::printf(" %.2f", ratio(r));
  std::printf(")\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::printf("%s", kUsage);
    return 0;
  }
  std::size_t connections = 64, per = 400, high = 256, light = 8, rate_per_second = 1000, slices = 8, round_count = 3,
              idle = 0, active = 0;
  const std::array<std::pair<const char*, std::size_t*>, 9> options{{{"--connections", &connections},
                                                                      {"--requests-per-connection", &per},
                                                                      {"--high-connections", &high},
                                                                      {"--latency-connections", &light},
                                                                      {"--rate", &rate_per_second},
                                                                      {"--slices", &slices},
                                                                      {"--rounds", &round_count},
                                                                      {"--idle-channels", &idle},
                                                                      {"--active-channels", &active}}};
  if (!parse_options(argc, argv, options)) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  // A slice holds at least one request of each connection.
  slices = std::min({slices, per, std::max<std::size_t>(1, connections * per / high)});
  // Every row's connections stay open through the round's slices, both ends in this process tree.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  const Load load{connections, per, high, light, static_cast<double>(rate_per_second), slices, idle, active};
  const double rate = load.rate;
  const int rounds = static_cast<int>(std::min<std::size_t>(round_count, 15));
  const std::string dir = std::filesystem::temp_directory_path() / ("paychan-gate-load-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string store = dir + "/gate.sqlite";

  std::printf("gate_load: server on core 0 (1 HTTP worker + store writer), load on core 1; %zu connections x %zu requests;"
              " %zu active channels (0: one a connection), %zu idle; %d rounds\n\n",
              connections, per, active, idle, rounds);
  // "core busy": the server's CPU time over the row's wall time. Below 100% at saturation, the
  // server's core sat idle (waiting for an fsync with no request left to verify).
  std::printf("| %-36s | %9s | %8s | %8s | %13s | %10s | %6s |\n", "run", "req/s", "p50 µs", "p99 µs", "server CPU µs",
              "core busy", "failed");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(38, '-').c_str(), std::string(11, '-').c_str(),
              std::string(10, '-').c_str(), std::string(10, '-').c_str(), std::string(15, '-').c_str(),
              std::string(12, '-').c_str(), std::string(8, '-').c_str());
  std::vector<Round> all;
  for (int i = 1; i <= rounds; ++i) all.push_back(run_round(store, load, i));

  // Each ratio is taken within its round (same minutes of a noisy machine), then the median over rounds.
  const auto base = [](const Round& r) { return 1.0 / (r.t_recover + 1.0 / r.unpaid); };
  std::printf("\nmedians over %d rounds (each ratio within its round):\n", rounds);
  std::printf("paid throughput, durable: %.0f req/s; x of 1/(t_recover + t_unpaid), goal >= 0.8: ",
              median_of(all, [](const Round& r) { return r.durable; }));
  print_ratio(all, [&](const Round& r) { return r.durable / base(r); });
  std::printf("paid throughput, durability off: %.0f req/s; x of the same base: ",
              median_of(all, [](const Round& r) { return r.volatile_; }));
  print_ratio(all, [&](const Round& r) { return r.volatile_ / base(r); });
  // The strictest reading: every paid request against the host at its fastest moment of the round.
  std::printf("  the same two against the round's fastest slice's recover: ");
  print_ratio(all, [](const Round& r) { return r.durable * (r.t_recover_min + 1.0 / r.unpaid); });
  std::printf("                                                            ");
  print_ratio(all, [](const Round& r) { return r.volatile_ * (r.t_recover_min + 1.0 / r.unpaid); });
  std::printf("durable / non-durable throughput, goal >= 0.9: %zu connections: ", connections);
  print_ratio(all, [](const Round& r) { return r.durable / r.volatile_; });
  std::printf("                                      %zu connections: ", high);
  print_ratio(all, [](const Round& r) { return r.durable_high / r.volatile_high; });
  // Where a paid request's time goes against the goal: the CPU it costs, and the time the core
  // sat idle on its account (waiting for a flush with nothing left to verify).
  std::printf("  the goal's time per paid request, (t_recover + t_unpaid) / 0.8: %.1f µs; spent, durable: %.1f µs of\n"
              "  server CPU and %.1f µs of the core idle; durability off: %.1f µs of CPU\n",
              median_of(all, [&](const Round& r) { return 1e6 / (0.8 * base(r)); }),
              median_of(all, [](const Round& r) { return r.durable_cpu; }),
              median_of(all, [](const Round& r) { return std::max(0.0, r.durable_cpu * (100.0 / r.durable_busy - 1.0)); }),
              median_of(all, [](const Round& r) { return r.volatile_cpu; }));
  std::printf("  server CPU per paid request, durable less durability off (%zu connections): %+.1f µs, of which\n"
              "  the store writer's system time (its fsyncs): %+.1f µs\n",
              connections, median_of(all, [](const Round& r) { return r.durable_cpu_added; }),
              median_of(all, [](const Round& r) { return r.durable_fsync_added; }));
  std::printf("moderate load: %.0f requests/s, open loop over %zu connections\n", rate, light);
  std::printf("added latency at moderate load, durable: p50 %+.1f µs, p99 %+.1f µs (goal p99 <= 100 µs)\n",
              median_of(all, [](const Round& r) { return r.added_p50; }),
              median_of(all, [](const Round& r) { return r.added_p99; }));
  std::printf("  the disk's flush alone, timed as the paid requests come (its floor): p50 %.1f µs, p99 %.1f µs\n",
              median_of(all, [](const Round& r) { return r.timed_flush_p50; }),
              median_of(all, [](const Round& r) { return r.timed_flush_p99; }));
  std::printf("  the same back to back: p50 %.1f µs, p99 %.1f µs\n",
              median_of(all, [](const Round& r) { return r.flush_p50; }),
              median_of(all, [](const Round& r) { return r.flush_p99; }));
  std::printf("  each flush costs the server's core %.1f µs of CPU (kernel work; one per group commit)\n",
              median_of(all, [](const Round& r) { return r.flush_cpu; }));
  std::printf("added latency at moderate load, durability off: p50 %+.1f µs, p99 %+.1f µs\n",
              median_of(all, [](const Round& r) { return r.added_p50_volatile; }),
              median_of(all, [](const Round& r) { return r.added_p99_volatile; }));
  std::printf("memory per idle channel in the gate's table: %.0f bytes (goal <= 1024)\n", bytes_per_channel(100'000));
  std::filesystem::remove_all(dir);
  return 0;
}
