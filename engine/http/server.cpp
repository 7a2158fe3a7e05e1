#include "engine/http/server.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "engine/http/detail/connection_budget.hpp"
#include "engine/http/detail/listener.hpp"
#include "engine/http/detail/worker.hpp"

namespace paychan::engine::http {

struct HttpServer::Impl {
  Impl(Handler& h, ServerOptions o)
      : handler(h), options(std::move(o)), budget(options.limits.max_connections), turned_away(options.on_turned_away) {}

  Handler& handler;
  const ServerOptions options;
  detail::ConnectionBudget budget;  // before workers: their sessions hold slots of it
  detail::TurnedAway turned_away;
  std::vector<std::unique_ptr<detail::Worker>> workers;
  std::uint16_t port = 0;
  bool started = false;
  bool stopped = false;

  std::mutex mutex;
  std::condition_variable exited;
  std::size_t running = 0;  // worker threads not yet out of work
  bool grace_over = false;  // end_grace(): stop() waits no longer
};

HttpServer::HttpServer(Handler& handler, ServerOptions options)
    : impl_(std::make_unique<Impl>(handler, std::move(options))) {}

HttpServer::~HttpServer() { (void)stop(std::chrono::milliseconds{0}); }

Status HttpServer::start() {
  Impl& s = *impl_;
  if (s.started) return fail(ErrorCode::http_listen_failed, "already started");
  error_code ec;
  auto address = asio::ip::make_address(s.options.address, ec);
  if (ec) return fail(ErrorCode::http_listen_failed, "not an IP address: " + s.options.address);
  unsigned threads = s.options.threads != 0 ? s.options.threads : std::max(1u, std::thread::hardware_concurrency());

  tcp::endpoint endpoint{address, s.options.port};
  // A port asked for is checked free of another process's listeners first. Port 0 needs no check:
  // the kernel never hands out a port a SO_REUSEPORT group holds, and the first worker's is joined.
  if (endpoint.port() != 0) {
    asio::io_context probing;
    if (auto free = detail::claim_port(probing, endpoint); !free) return free.failure();
  }
  std::vector<std::unique_ptr<detail::Worker>> workers;
  for (unsigned i = 0; i < threads; ++i) {
    auto worker = std::make_unique<detail::Worker>(s.handler, s.options.limits, s.budget, s.turned_away);
    auto port = worker->listen(endpoint, s.options.backlog);
    if (!port) return port.failure();
    endpoint.port(*port);  // port 0: the others join the port the first one got
    workers.push_back(std::move(worker));
  }
  s.port = endpoint.port();
  s.workers = std::move(workers);
  s.started = true;
  auto exited = [&s] {
    std::lock_guard lock(s.mutex);
    --s.running;
    s.exited.notify_all();
  };
  for (auto& worker : s.workers) {
    {
      std::lock_guard lock(s.mutex);
      ++s.running;
    }
    try {
      worker->start(exited);
    } catch (const std::system_error& e) {  // no thread to be had
      exited();
      stop(std::chrono::milliseconds{0});
      return fail(ErrorCode::http_listen_failed, std::string("starting a worker thread: ") + e.what());
    }
  }
  return Status{};
}

std::uint16_t HttpServer::port() const noexcept { return impl_->port; }

std::size_t HttpServer::stop(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return 0;
  s.stopped = true;
  for (auto& worker : s.workers) worker->stop();
  bool drained;
  {
    std::unique_lock lock(s.mutex);
    s.exited.wait_for(lock, grace, [&s] { return s.running == 0 || s.grace_over; });
    drained = s.running == 0;
  }
  const std::size_t cut = drained ? 0 : s.budget.open();
  if (!drained) {
    for (auto& worker : s.workers) worker->abort();
  }
  for (auto& worker : s.workers) worker->join();
  return cut;
}

void HttpServer::end_grace() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->grace_over = true;
  }
  impl_->exited.notify_all();
}

std::size_t HttpServer::open_connections() const noexcept { return impl_->budget.open(); }

}  // namespace paychan::engine::http
