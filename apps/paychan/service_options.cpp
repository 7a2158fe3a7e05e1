#include "service_options.hpp"

#include <cstdio>

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
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
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
