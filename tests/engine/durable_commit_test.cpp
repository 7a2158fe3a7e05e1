#include "engine/gate/durable_commit.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <future>
#include <optional>
#include <thread>

#include "engine/http/beast.hpp"
#include "temp_dir.hpp"

namespace paychan::engine::gate {
namespace {

namespace asio = http::asio;

ChannelState state(std::uint32_t n) {
  ChannelState s;
  std::memcpy(s.channelId.data(), &n, sizeof n);
  s.config.withdrawDelay = 900;
  s.chargedCumulativeAmount = n;
  s.signedMaxClaimable = n;
  return s;
}

// Two I/O threads share a store, as a gate's do. Thread A has a commit waiting for its flush,
// which A posted behind a long handler (a pass with much work). A commit on thread B must not wait
// for A's pass to end: B flushes for itself. Before each thread flushed for itself, B's commit
// rode on A's pending flush and waited for A's whole pass.
TEST(DurableCommit, ACommitDoesNotWaitForAnotherThreadsPass) {
  test::TempDir dir;
  auto store = *persistence::ChannelStore::open(dir.file());
  asio::io_context a, b;
  std::promise<void> a_enqueued;
  std::promise<Status> b_committed;
  std::optional<bool> b_done_while_a_busy;
  std::optional<Status> a_committed;

  asio::co_spawn(a, [&]() -> http::Awaitable<void> { a_committed = co_await commit_durably(*store, state(1)); },
                 asio::detached);
  // Runs after the coroutine above suspended in commit_durably, with A's flush posted behind it.
  asio::post(a, [&] {
    a_enqueued.set_value();
    const auto b_result = b_committed.get_future();
    b_done_while_a_busy = b_result.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  });
  std::thread a_thread([&] { a.run(); });
  a_enqueued.get_future().wait();

  asio::co_spawn(
      b, [&]() -> http::Awaitable<void> { b_committed.set_value(co_await commit_durably(*store, state(2))); },
      asio::detached);
  std::thread b_thread([&] { b.run(); });
  b_thread.join();
  a_thread.join();

  ASSERT_TRUE(b_done_while_a_busy.has_value());
  EXPECT_TRUE(*b_done_while_a_busy) << "B's commit waited for A's pass";
  ASSERT_TRUE(a_committed.has_value());
  EXPECT_TRUE(*a_committed);
  EXPECT_EQ(store->load_all()->size(), 2u);
}

}  // namespace
}  // namespace paychan::engine::gate
