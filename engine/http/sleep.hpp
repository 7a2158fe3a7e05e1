// A pause inside a coroutine (retry back-off, polling), on the coroutine's own executor.
// Thread-safety: as any coroutine.
#pragma once

#include <chrono>

#include "engine/http/beast.hpp"
#include <boost/asio/steady_timer.hpp>

namespace paychan::engine::http {

// Returns after `delay`, or early when the executor shuts down (never throws).
inline Awaitable<void> sleep_for(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  error_code ignored;
  co_await timer.async_wait(use(ignored));
}

}  // namespace paychan::engine::http
