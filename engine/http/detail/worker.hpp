// One I/O thread of the server: its own io_context, its own listening socket (SO_REUSEPORT), and
// the sessions of the connections it accepted, which never leave it. Everything a worker touches
// on its thread needs no lock.
// Thread-safety: listen/start/stop/abort/join are called by the HttpServer's controlling thread;
// the rest is used on the worker's own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <thread>

#include "channel/result.hpp"
#include "engine/http/beast.hpp"
#include "engine/http/detail/connection_budget.hpp"
#include "engine/http/detail/turned_away.hpp"
#include "engine/http/handler.hpp"
#include "engine/http/server_options.hpp"

namespace paychan::engine::http::detail {

class Session;

class Worker {
 public:
  Worker(Handler& handler, const ServerLimits& limits, ConnectionBudget& budget, TurnedAway& turned_away);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();  // joins the thread

  // Opens the listening socket; returns the port bound. Error: http_listen_failed.
  [[nodiscard]] Result<std::uint16_t> listen(const tcp::endpoint& endpoint, int backlog);
  // Starts the thread; `on_exit` runs on it once the worker has no work left.
  void start(std::function<void()> on_exit);
  // Stops accepting, closes idle connections, lets the others finish their current request.
  void stop();
  // Closes every connection and ends the thread's loop, abandoning handlers still awaiting I/O.
  void abort();
  void join();

  [[nodiscard]] Handler& handler() noexcept { return handler_; }
  [[nodiscard]] const ServerLimits& limits() const noexcept { return limits_; }
  [[nodiscard]] ConnectionBudget& budget() noexcept { return budget_; }
  [[nodiscard]] TurnedAway& turned_away() noexcept { return turned_away_; }

  // The sessions alive on this worker (for stop/abort). Called on the worker's thread.
  std::list<Session*>::iterator attach(Session* session);
  void detach(std::list<Session*>::iterator registration) noexcept;

 private:
  Handler& handler_;
  const ServerLimits& limits_;
  ConnectionBudget& budget_;
  TurnedAway& turned_away_;
  std::list<Session*> sessions_;  // declared before context_: sessions still alive detach on its destruction
  asio::io_context context_{1};
  std::optional<tcp::acceptor> acceptor_;
  std::thread thread_;
};

}  // namespace paychan::engine::http::detail
