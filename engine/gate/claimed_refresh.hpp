// Gate::refresh_claimed() every `interval`, on a thread of its own: the settle job claims while the
// gate runs (another process, the same store), and without this a channel no request touches
// would show its claimed charge as unclaimed in /metrics for good.
// Thread-safety: construct and destroy from one thread; the destructor stops and joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "channel/result.hpp"

namespace paychan::engine::gate {

class Gate;

class ClaimedRefresh {
 public:
  // Told, on the refresh thread, when reading the totals starts failing (with the error: the
  // unclaimed amount in /metrics then lags the settle job's claims) and when it works again (with
  // an ok Status): once for each change, not at every interval.
  using Report = std::function<void(const Status&)>;
  ClaimedRefresh(Gate& gate, std::chrono::milliseconds interval, Report report = {});
  ~ClaimedRefresh();
  ClaimedRefresh(const ClaimedRefresh&) = delete;
  ClaimedRefresh& operator=(const ClaimedRefresh&) = delete;

 private:
  void run();

  Gate& gate_;
  const std::chrono::milliseconds interval_;
  const Report report_;
  bool failing_ = false;  // the refresh thread's: the last read failed
  std::mutex mutex_;
  std::condition_variable stopped_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace paychan::engine::gate
