// Gate::refresh_claimed() every `interval`, on a thread of its own: the settle job claims while the
// gate runs (another process, the same store), and without this a channel no request touches
// would show its claimed charge as unclaimed in /metrics for good.
// Thread-safety: construct and destroy from one thread; the destructor stops and joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace paychan::engine::gate {

class Gate;

class ClaimedRefresh {
 public:
  ClaimedRefresh(Gate& gate, std::chrono::milliseconds interval);
  ~ClaimedRefresh();
  ClaimedRefresh(const ClaimedRefresh&) = delete;
  ClaimedRefresh& operator=(const ClaimedRefresh&) = delete;

 private:
  void run();

  Gate& gate_;
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable stopped_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace paychan::engine::gate
