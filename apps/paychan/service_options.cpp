#include "service_options.hpp"

#include <atomic>
#include <cstdio>
#include <thread>

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
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

const char* stop_signal_name(int signal) noexcept {
  return signal == SIGINT ? "SIGINT" : signal == SIGHUP ? "SIGHUP" : "SIGTERM";
}

std::size_t stop_unless_signalled_again(const sigset_t& stop_signals, const char* command,
                                        const std::function<std::size_t()>& stop, const std::function<void()>& end_grace) {
  std::atomic<bool> stopped{false};
  std::thread second_signal([&] {
    const timespec tick{0, 100'000'000};
    while (!stopped.load()) {
      if (sigtimedwait(&stop_signals, nullptr, &tick) > 0) {
        std::fprintf(stderr, "paychan %s: second signal: closing what is still open\n", command);
        end_grace();
        return;
      }
    }
  });
  const std::size_t cut = stop();
  stopped = true;
  second_signal.join();
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
