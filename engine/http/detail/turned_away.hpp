// The operator's lines for connections the server turns away before any request: accept() failing
// (out of file descriptors or memory) and connections over max_connections. A client can cause
// them, so they are throttled (LogThrottle), the rest counted.
// Thread-safety: tell() may be called from every worker thread.
#pragma once

#include <functional>
#include <string>
#include <utility>

#include "engine/log_throttle.hpp"

namespace paychan::engine::http::detail {

class TurnedAway {
 public:
  explicit TurnedAway(std::function<void(const std::string&)> sink) : sink_(std::move(sink)) {}

  void tell(std::string line) {
    if (!sink_) return;
    if (auto admitted = throttle_.admit(std::move(line))) sink_(*admitted);
  }

 private:
  const std::function<void(const std::string&)> sink_;
  LogThrottle throttle_;
};

}  // namespace paychan::engine::http::detail
