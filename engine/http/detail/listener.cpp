#include "engine/http/detail/listener.hpp"

#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>

#include "engine/http/detail/session.hpp"
#include "engine/http/detail/worker.hpp"

namespace paychan::engine::http::detail {
namespace {

// SO_REUSEPORT as an Asio settable socket option (Asio has no public one).
struct ReusePort {
  int value = 1;
  template <typename Protocol>
  int level(const Protocol&) const noexcept { return SOL_SOCKET; }
  template <typename Protocol>
  int name(const Protocol&) const noexcept { return SO_REUSEPORT; }
  template <typename Protocol>
  const void* data(const Protocol&) const noexcept { return &value; }
  template <typename Protocol>
  std::size_t size(const Protocol&) const noexcept { return sizeof(value); }
};

// How long to stop accepting after accept() itself failed (out of descriptors or memory), instead
// of spinning on the error; pending connections wait in the backlog meanwhile.
constexpr std::chrono::milliseconds kAcceptPause{50};

// At most this many connections let in at once, so that a flood of them cannot hold the thread
// from the requests of those already in.
constexpr int kAcceptBurst = 256;

Failure listen_failure(const char* step, const tcp::endpoint& endpoint, const error_code& ec) {
  return fail(ErrorCode::http_listen_failed, std::string(step) + " " + endpoint.address().to_string() + ":" +
                                                 std::to_string(endpoint.port()) + ": " + ec.message());
}

// Starts a session for an accepted connection, within the worker's connection budget.
void admit(tcp::socket socket, Worker& worker) {
  auto slot = worker.budget().try_acquire();
  if (!slot) {  // the socket closes as it goes out of scope
    worker.turned_away().tell("a connection closed at once: max_connections (" +
                              std::to_string(worker.limits().max_connections) + ") are open");
    return;
  }
  try {
    std::make_shared<Session>(std::move(socket), std::move(*slot), worker)->start();
  } catch (...) {
    // Out of memory for one connection: it is dropped (its slot returned), the server goes on.
  }
}

}  // namespace

Result<tcp::acceptor> open_listener(asio::io_context& context, const tcp::endpoint& endpoint, int backlog) {
  tcp::acceptor acceptor(context);
  error_code ec;
  auto failed = [&](const char* step) { return listen_failure(step, endpoint, ec); };
  if (acceptor.open(endpoint.protocol(), ec); ec) return failed("open");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) return failed("SO_REUSEADDR");
  if (acceptor.set_option(ReusePort{}, ec); ec) return failed("SO_REUSEPORT");
  if (acceptor.bind(endpoint, ec); ec) return failed("bind");
  if (acceptor.listen(backlog, ec); ec) return failed("listen");
  return acceptor;
}

Status claim_port(asio::io_context& context, const tcp::endpoint& endpoint) {
  tcp::acceptor probe(context);
  error_code ec;
  auto failed = [&](const char* step) { return listen_failure(step, endpoint, ec); };
  if (probe.open(endpoint.protocol(), ec); ec) return failed("open");
  // SO_REUSEADDR (a previous server's connections in TIME_WAIT do not hold the port), without
  // SO_REUSEPORT: the bind fails where anything listens.
  if (probe.set_option(asio::socket_base::reuse_address(true), ec); ec) return failed("SO_REUSEADDR");
  if (probe.bind(endpoint, ec); ec) return failed("bind");
  return {};
}

Awaitable<void> accept_connections(tcp::acceptor& acceptor, Worker& worker) {
  error_code ec;
  acceptor.non_blocking(true, ec);  // for the drain below; if refused, connections come one a pass
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(use(ec));
    if (!acceptor.is_open()) co_return;  // the worker is stopping
    if (ec) {
      worker.turned_away().tell("cannot accept connections (" + ec.message() +
                                "): pausing 50 ms; they wait in the backlog meanwhile. Out of file descriptors? "
                                "Raise the limit (ulimit -n, systemd's LimitNOFILE)");
      asio::steady_timer pause(acceptor.get_executor(), kAcceptPause);
      co_await pause.async_wait(use(ec));
      continue;
    }
    admit(std::move(socket), worker);
    // Then the rest of the backlog (up to kAcceptBurst). Each async_accept resumes this loop only
    // after every handler already ready on the thread, so under load a burst of new connections
    // was let in one per pass of the event loop, each new client waiting behind all busy ones.
    for (int n = 1; n < kAcceptBurst && acceptor.non_blocking(); ++n) {
      tcp::socket next = acceptor.accept(ec);
      if (ec) break;  // would_block: the backlog is empty (any other error: async_accept meets it)
      admit(std::move(next), worker);
    }
  }
}

}  // namespace paychan::engine::http::detail
