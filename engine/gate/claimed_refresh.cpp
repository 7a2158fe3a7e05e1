#include "engine/gate/claimed_refresh.hpp"

#include <pthread.h>

#include <utility>

#include "engine/gate/gate.hpp"

namespace paychan::engine::gate {

ClaimedRefresh::ClaimedRefresh(Gate& gate, std::chrono::milliseconds interval, Report report)
    : gate_(gate), interval_(interval), report_(std::move(report)), thread_([this] { run(); }) {}

ClaimedRefresh::~ClaimedRefresh() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stopped_.notify_one();
  thread_.join();
}

void ClaimedRefresh::run() {
  pthread_setname_np(pthread_self(), "paychan-claimed");
  std::unique_lock lock(mutex_);
  while (!stopped_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    // A failed read (the store busy or failing) leaves the mirror as it was: the next one catches up.
    const Status refreshed = gate_.refresh_claimed();
    if (refreshed.ok() == failing_) {
      failing_ = !refreshed.ok();
      if (report_) report_(refreshed);
    }
    lock.lock();
  }
}

}  // namespace paychan::engine::gate
