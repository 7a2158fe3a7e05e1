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

}  // namespace

Result<tcp::acceptor> open_listener(asio::io_context& context, const tcp::endpoint& endpoint, int backlog) {
  tcp::acceptor acceptor(context);
  error_code ec;
  auto failed = [&](const char* step) {
    return fail(ErrorCode::http_listen_failed, std::string(step) + " " + endpoint.address().to_string() + ":" +
                                                   std::to_string(endpoint.port()) + ": " + ec.message());
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return failed("open");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) return failed("SO_REUSEADDR");
  if (acceptor.set_option(ReusePort{}, ec); ec) return failed("SO_REUSEPORT");
  if (acceptor.bind(endpoint, ec); ec) return failed("bind");
  if (acceptor.listen(backlog, ec); ec) return failed("listen");
  return acceptor;
}

Awaitable<void> accept_connections(tcp::acceptor& acceptor, Worker& worker) {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(use(ec));
    if (!acceptor.is_open()) co_return;  // the worker is stopping
    if (ec) {
      asio::steady_timer pause(acceptor.get_executor(), kAcceptPause);
      co_await pause.async_wait(use(ec));
      continue;
    }
    auto slot = worker.budget().try_acquire();
    if (!slot) continue;  // over max_connections: the socket closes as it goes out of scope
    try {
      std::make_shared<Session>(std::move(socket), std::move(*slot), worker)->start();
    } catch (...) {
      // Out of memory for one connection: it is dropped (its slot returned), the server goes on.
    }
  }
}

}  // namespace paychan::engine::http::detail
