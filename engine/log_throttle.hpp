// A cap on the log lines one kind of event can write, for events anyone can cause (a request
// without a token, a forged payload): a flood of them must not fill the operator's disk or bury
// the lines that matter. Lines beyond the cap are counted, and the count is told with the next
// line let through.
// Thread-safety: admit() may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

namespace paychan::engine {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  // paychan's cap for lines anyone can cause: about one a fifth of a second, in bursts.
  static constexpr std::size_t kLines = 50;
  static constexpr std::chrono::seconds kWindow{10};

  // At most `lines` lines in any `window` that starts with a line let through.
  explicit LogThrottle(std::size_t lines = kLines, Clock::duration window = kWindow) noexcept
      : lines_(lines), window_(window) {}

  // The line to write for one more event at `now`: `line`, followed by how many were held back
  // since the last one written; nothing when this one is held back.
  [[nodiscard]] std::optional<std::string> admit(std::string line, Clock::time_point now = Clock::now());

 private:
  const std::size_t lines_;
  const Clock::duration window_;
  std::mutex mutex_;
  Clock::time_point window_start_{};
  std::size_t written_ = 0;  // in the current window
  std::size_t held_ = 0;     // since the last line written
};

}  // namespace paychan::engine
