#include "engine/gate/durable_commit.hpp"

#include <memory>

#include "engine/http/beast.hpp"

namespace paychan::engine::gate {

http::Awaitable<Status> commit_durably(persistence::ChannelStore& store, const ChannelState& state,
                                       persistence::ChannelStore::Write write,
                                       std::optional<PendingRefund> pendingRefund) {
  namespace asio = http::asio;
  Status status = co_await asio::async_initiate<decltype(asio::use_awaitable), void(Status)>(
      [&store, &state, write, &pendingRefund](auto handler) {
        // The store's callback is a copyable std::function and runs on its writer thread; the
        // coroutine's handler is move-only and must run on the coroutine's executor.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto executor = asio::get_associated_executor(*shared);
        // The flusher is the executor's io_context (one per I/O thread in HttpServer): each paces
        // its own requests, and a request never waits for another context's pass to end.
        const persistence::ChannelStore::Flusher flusher = &asio::query(executor, asio::execution::context);
        const bool owes_flush = store.enqueue(
            state,
            [shared, executor](const Status& s) {
              asio::post(executor, [shared, s]() mutable { std::move (*shared)(s); });
            },
            flusher, write, pendingRefund);
        // Posted, the flush runs after the handlers already ready on this thread: the requests
        // verified in this pass share its transaction (a long pass's first half has one of its own).
        if (owes_flush) asio::post(executor, [&store, flusher] { store.flush(flusher); });
      },
      asio::use_awaitable);
  if (!status) co_return fail(ErrorCode::store_failed, status.error().to_string());
  co_return status;
}

}  // namespace paychan::engine::gate
