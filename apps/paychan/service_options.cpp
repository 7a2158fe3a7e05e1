#include "service_options.hpp"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <utility>

#include "channel/amount.hpp"
#include "engine/http/heap_retention.hpp"

namespace paychan::cli {

Result<std::optional<unsigned>> threads_option(const Args& args) {
  auto text = args.option("threads");
  if (!text) return std::optional<unsigned>{};
  auto n = parse_uint128(*text);
  if (!n || *n > 256) return fail(ErrorCode::invalid_config, "--threads must be 0..256");
  return std::optional<unsigned>{static_cast<unsigned>(*n)};
}

sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  // A blocked signal is kept pending even while ignored, and sigwait would take it: a process
  // started with SIGHUP ignored (nohup) must go on when its terminal closes, and one started with
  // SIGINT ignored (a script's background job) when its script is interrupted.
  for (const int signal : {SIGINT, SIGHUP}) {
    struct sigaction current {};
    if (sigaction(signal, nullptr, &current) == 0 && current.sa_handler != SIG_IGN) sigaddset(&stop_signals, signal);
  }
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

sigset_t block_stop_and_reload_signals() {
  sigset_t stop_signals = block_stop_signals();
  sigdelset(&stop_signals, SIGHUP);
  sigset_t hangup;
  sigemptyset(&hangup);
  sigaddset(&hangup, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &hangup, nullptr);
  return stop_signals;
}

int wait_for_stop(const sigset_t& stop_signals, const std::function<void()>& reload) {
  sigset_t waited = stop_signals;
  sigaddset(&waited, SIGHUP);
  for (;;) {
    int signal = 0;
    if (sigwait(&waited, &signal) != 0) continue;  // EINVAL only, for a set built here: not seen
    if (signal != SIGHUP) return signal;
    reload();
  }
}

bool reload_config(const char* command, const std::string& config_file,
                   const std::function<Result<std::string>()>& reload) {
  // A missing file or a directory goes on to the loader, which says so.
  std::error_code ec;
  const auto type = std::filesystem::status(config_file, ec).type();
  if (type == std::filesystem::file_type::fifo || type == std::filesystem::file_type::socket ||
      type == std::filesystem::file_type::character || type == std::filesystem::file_type::block) {
    std::fprintf(stderr, "paychan %s: SIGHUP: --config %s is not a regular file (a pipe is read once, at start): "
                         "nothing reloaded; restart to apply a change\n", command, config_file.c_str());
    return false;
  }
  Result<std::string> reloaded = std::string{};
  try {
    reloaded = reload();
  } catch (const std::exception& e) {  // out of memory, say: the service goes on
    std::fprintf(stderr, "paychan %s: SIGHUP: reload failed: %s\n", command, e.what());
    return false;
  }
  if (!reloaded) {
    std::fprintf(stderr, "paychan %s: SIGHUP: reload refused, serving on as before: %s\n", command,
                 reloaded.error().to_string().c_str());
    return false;
  }
  std::fprintf(stderr, "paychan %s: SIGHUP: reloaded %s%s\n", command, config_file.c_str(), reloaded->c_str());
  return true;
}

const char* stop_signal_name(int signal) noexcept {
  return signal == SIGINT ? "SIGINT" : signal == SIGHUP ? "SIGHUP" : "SIGTERM";
}

void while_watching(const sigset_t& stop_signals, const std::function<void(int signal)>& on_signal,
                    const std::function<void()>& body) {
  std::atomic<bool> over{false};
  std::thread watch([&] {
    const timespec tick{0, 100'000'000};
    while (!over.load()) {
      if (const int signal = sigtimedwait(&stop_signals, nullptr, &tick); signal > 0) on_signal(signal);
    }
  });
  struct Join {
    std::atomic<bool>& over;
    std::thread& watch;
    ~Join() {
      over = true;
      watch.join();
    }
  } join{over, watch};
  body();
}

std::size_t stop_unless_signalled_again(const sigset_t& stop_signals, const char* command,
                                        const std::function<std::size_t()>& stop, const std::function<void()>& end_grace) {
  std::size_t cut = 0;
  bool ended = false;
  while_watching(
      stop_signals,
      [&](int) {
        if (std::exchange(ended, true)) return;
        std::fprintf(stderr, "paychan %s: second signal: closing what is still open\n", command);
        end_grace();
      },
      [&] { cut = stop(); });
  return cut;
}

void keep_freed_heap(const char* command) {
  if (!engine::http::retain_freed_heap())
    std::fprintf(stderr, "paychan %s: warning: glibc refused to keep freed memory between bursts of requests; "
                         "serving on, with more allocator work under load\n", command);
}

void announce_port(unsigned port) {
  std::printf("{\"port\":%u}\n", port);
  std::fflush(stdout);
}

}  // namespace paychan::cli
