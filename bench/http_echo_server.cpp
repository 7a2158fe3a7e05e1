// A minimal HttpServer for scripts/bench-http.sh: answers GET with a short fixed body and echoes
// the body of anything else, through the plain-function fast path (no coroutine per request).
// Usage: http_echo_server [port] [threads]   (defaults: any free port, 1 thread)
// Prints "listening on <port>" once ready, then serves until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/http/server.hpp"

using namespace paychan::engine::http;

int main(int argc, char** argv) {
  ServerOptions options;
  options.port = argc > 1 ? static_cast<std::uint16_t>(std::atoi(argv[1])) : 0;
  options.threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1;

  // Signals are taken by sigwait below, not by whichever thread they happen to hit; the workers
  // inherit this mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  FunctionHandler handler{[](Exchange& ex) -> Handled {
    if (ex.request().method() == "GET") {
      ex.response().set(200, "text/plain", "hello, world\n");
    } else {
      ex.response().set(200, "application/octet-stream", std::string(ex.request().body()));
    }
    return std::nullopt;
  }};
  HttpServer server{handler, options};
  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "http_echo_server: %s\n", started.error().to_string().c_str());
    return 1;
  }
  std::printf("listening on %u\n", server.port());
  std::fflush(stdout);
  int signal = 0;
  sigwait(&stop_signals, &signal);
  server.stop(std::chrono::seconds(1));
  return 0;
}
