// LogThrottle: a flood of one kind of line is capped, and what was held back is counted.
#include "engine/log_throttle.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

namespace paychan::engine {
namespace {

using namespace std::chrono_literals;

TEST(LogThrottle, LetsTheFirstLinesOfAWindowThroughAndCountsTheRest) {
  LogThrottle throttle(2, 10s);
  const LogThrottle::Clock::time_point t0{1h};
  EXPECT_EQ(throttle.admit("a", t0), "a");
  EXPECT_EQ(throttle.admit("b", t0 + 1s), "b");
  EXPECT_EQ(throttle.admit("c", t0 + 2s), std::nullopt);
  EXPECT_EQ(throttle.admit("d", t0 + 9s), std::nullopt);
  EXPECT_EQ(throttle.admit("e", t0 + 10s), "e (2 more like it not logged before this one: at most 2 per 10 s)");
  EXPECT_EQ(throttle.admit("f", t0 + 11s), "f");
}

TEST(LogThrottle, AQuietStretchStartsAFreshWindow) {
  LogThrottle throttle(1, 10s);
  const LogThrottle::Clock::time_point t0{1h};
  EXPECT_EQ(throttle.admit("a", t0), "a");
  EXPECT_EQ(throttle.admit("b", t0 + 5s), std::nullopt);
  EXPECT_EQ(throttle.admit("c", t0 + 1h), "c (1 more like it not logged before this one: at most 1 per 10 s)");
  EXPECT_EQ(throttle.admit("d", t0 + 1h + 1s), std::nullopt);
}

// Whatever the arrival times: an event is held back only when the cap's worth of lines was written
// within the window before it; no window-long stretch holds more than two windows' caps; and every
// event held back is counted, exactly, in the next line written.
RC_GTEST_PROP(LogThrottle, HoldsBackOnlyOverTheCapAndCountsExactly, ()) {
  const std::size_t cap = *rc::gen::inRange<std::size_t>(1, 5);
  const auto gaps = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 700));
  constexpr auto kWindow = 1000ms;
  LogThrottle throttle(cap, kWindow);
  LogThrottle::Clock::time_point now{1h};
  std::vector<LogThrottle::Clock::time_point> written;
  std::size_t pending = 0;
  for (const int gap : gaps) {
    now += std::chrono::milliseconds(gap);
    std::size_t recent = 0;  // lines written within the window before now
    for (const auto t : written) recent += now - t < kWindow;
    const auto line = throttle.admit("x", now);
    if (!line) {
      RC_ASSERT(recent >= cap);
      ++pending;
      continue;
    }
    RC_ASSERT(recent + 1 <= 2 * cap);
    const std::string told = pending == 0 ? "x"
                                          : "x (" + std::to_string(pending) +
                                                " more like it not logged before this one: at most " +
                                                std::to_string(cap) + " per 1 s)";
    RC_ASSERT(*line == told);
    pending = 0;
    written.push_back(now);
  }
}

}  // namespace
}  // namespace paychan::engine
