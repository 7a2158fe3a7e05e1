#include "engine/log_throttle.hpp"

namespace paychan::engine {

std::optional<std::string> LogThrottle::admit(std::string line, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  if (written_ == 0 || now - window_start_ >= window_) {
    window_start_ = now;
    written_ = 0;
  }
  if (written_ == lines_) {
    ++held_;
    return std::nullopt;
  }
  ++written_;
  if (held_ > 0) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(window_).count();
    line += " (" + std::to_string(held_) + " more like it not logged before this one: at most " + std::to_string(lines_) +
            " per " + std::to_string(seconds) + " s)";
  }
  held_ = 0;
  return line;
}

}  // namespace paychan::engine
