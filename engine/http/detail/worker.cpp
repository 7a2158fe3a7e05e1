#include "engine/http/detail/worker.hpp"

#include <pthread.h>

#include "engine/http/detail/listener.hpp"
#include "engine/http/detail/session.hpp"

namespace paychan::engine::http::detail {

Worker::Worker(Handler& handler, const ServerLimits& limits, ConnectionBudget& budget, TurnedAway& turned_away)
    : handler_(handler), limits_(limits), budget_(budget), turned_away_(turned_away) {}

Worker::~Worker() { join(); }

Result<std::uint16_t> Worker::listen(const tcp::endpoint& endpoint, int backlog) {
  auto acceptor = open_listener(context_, endpoint, backlog);
  if (!acceptor) return acceptor.failure();
  acceptor_.emplace(std::move(*acceptor));
  error_code ec;
  auto local = acceptor_->local_endpoint(ec);
  if (ec) return fail(ErrorCode::http_listen_failed, ec.message());
  return local.port();
}

void Worker::start(std::function<void()> on_exit) {
  asio::co_spawn(context_, accept_connections(*acceptor_, *this), asio::detached);
  thread_ = std::thread([this, on_exit = std::move(on_exit)] {
    pthread_setname_np(pthread_self(), "paychan-http");  // as top -H and /proc show it
    for (;;) {
      try {
        context_.run();
        break;
      } catch (...) {
        // Sessions catch everything; should anything else throw out of a handler, keep serving.
      }
    }
    on_exit();
  });
}

void Worker::stop() {
  asio::post(context_, [this] {
    error_code ec;
    if (acceptor_) acceptor_->close(ec);
    for (Session* s : sessions_) s->stop();
  });
}

void Worker::abort() {
  asio::post(context_, [this] {
    error_code ec;
    if (acceptor_) acceptor_->close(ec);
    for (Session* s : sessions_) s->abort();
    context_.stop();
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

std::list<Session*>::iterator Worker::attach(Session* session) {
  return sessions_.insert(sessions_.end(), session);
}

void Worker::detach(std::list<Session*>::iterator registration) noexcept { sessions_.erase(registration); }

}  // namespace paychan::engine::http::detail
