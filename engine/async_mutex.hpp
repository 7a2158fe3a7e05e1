// AsyncMutex: mutual exclusion for coroutines that must hold a lock across co_await (a signer's
// nonce: take it, sign, journal, send — nothing else may take the next nonce in between), without
// blocking the I/O thread a waiter runs on. Waiters are resumed in arrival order, each on its own
// executor.
// Thread-safety: lock() may be called concurrently from coroutines on any executors.
#pragma once

// clang-format off
#include "engine/http/asio.hpp"
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
// clang-format on

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace paychan::engine {

class AsyncMutex {
 public:
  // Held while alive; releases (handing the lock to the next waiter) on destruction.
  class [[nodiscard]] Guard {
   public:
    Guard(Guard&& other) noexcept : mutex_(std::exchange(other.mutex_, nullptr)) {}
    Guard& operator=(Guard&&) = delete;
    ~Guard() {
      if (mutex_ != nullptr) mutex_->unlock();
    }

   private:
    friend class AsyncMutex;
    explicit Guard(AsyncMutex* m) noexcept : mutex_(m) {}
    AsyncMutex* mutex_;
  };

  [[nodiscard]] http::Awaitable<Guard> lock() {
    co_await http::asio::async_initiate<decltype(http::asio::use_awaitable), void()>(
        [this](auto handler) { enqueue(std::move(handler)); }, http::asio::use_awaitable);
    co_return Guard(this);
  }

 private:
  template <typename Handler>
  void enqueue(Handler handler) {
    // The handler is move-only; std::function needs a copyable callable, hence the shared_ptr. It
    // is resumed through its own executor, never inline on the thread that released the lock.
    auto h = std::make_shared<Handler>(std::move(handler));
    std::function<void()> resume = [h] {
      auto ex = http::asio::get_associated_executor(*h);
      http::asio::post(ex, std::move(*h));
    };
    {
      std::lock_guard lock(mutex_);
      if (locked_) {
        waiters_.push_back(std::move(resume));
        return;
      }
      locked_ = true;
    }
    resume();
  }

  void unlock() {
    std::function<void()> next;
    {
      std::lock_guard lock(mutex_);
      if (waiters_.empty()) {
        locked_ = false;
        return;
      }
      next = std::move(waiters_.front());  // ownership passes straight to the next waiter
      waiters_.pop_front();
    }
    next();
  }

  std::mutex mutex_;
  bool locked_ = false;
  std::deque<std::function<void()>> waiters_;
};

}  // namespace paychan::engine
