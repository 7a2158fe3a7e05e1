// run_blocking: runs one coroutine to completion on a private io_context, for code that is not a
// coroutine itself (CLI commands, start-up of a tool, tests). Never call it on an I/O thread.
// An exception escaping the coroutine is rethrown here.
// Thread-safety: each call has its own io_context; calls may run concurrently on different threads.
#pragma once

#include <exception>
#include <optional>

#include "engine/http/asio.hpp"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace paychan::engine::http {

template <typename T>
T run_blocking(Awaitable<T> awaitable) {
  asio::io_context context{1};
  std::optional<T> result;  // T need not be default-constructible
  std::exception_ptr error;
  asio::co_spawn(
      context, [&]() -> Awaitable<void> { result.emplace(co_await std::move(awaitable)); },
      [&](std::exception_ptr e) { error = e; });
  context.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

}  // namespace paychan::engine::http
