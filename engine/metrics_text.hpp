// Prometheus text exposition for the gate's and the facilitator's GET /metrics: latency
// histograms, counters, counts by error code, gauges. Counters are relaxed atomics: bumping one
// costs far less than the request it counts, and no lock is taken.
// Thread-safety: LatencyHistogram and ReasonCounts may be used concurrently; the render functions
// append to the caller's string.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "channel/error.hpp"

namespace paychan::engine {

// Cumulative buckets in seconds, fixed for the histogram's life (Prometheus `le` labels).
class LatencyHistogram {
 public:
  using Bounds = std::array<double, 12>;
  // A request answered in microseconds to a second: a verification, a store commit.
  static constexpr Bounds kFast{20e-6, 50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 50e-3, 200e-3, 1.0};
  // One that may wait for a node or a block: milliseconds to half a minute.
  static constexpr Bounds kSlow{500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1.0, 5.0, 30.0};

  explicit LatencyHistogram(const Bounds& bounds = kFast) noexcept : bounds_(bounds) {}
  void observe(std::chrono::nanoseconds elapsed) noexcept;
  void render(std::string& out, std::string_view name, std::string_view help) const;
  // Observations so far, and their total time (for a mean; the buckets are for percentiles).
  [[nodiscard]] std::uint64_t count() const noexcept;
  [[nodiscard]] std::chrono::nanoseconds sum() const noexcept;

 private:
  const Bounds bounds_;
  std::array<std::atomic<std::uint64_t>, std::tuple_size_v<Bounds> + 1> buckets_{};  // last: +Inf
  std::atomic<std::uint64_t> sum_ns_{0};
};

// Counts by ErrorCode, rendered as one counter with a label naming the code.
class ReasonCounts {
 public:
  void count(ErrorCode code) noexcept {
    counts_[static_cast<std::size_t>(code)].fetch_add(1, std::memory_order_relaxed);
  }
  // The rows `name{label="code"} n` of the codes counted at least once (HELP and TYPE are the
  // caller's: it may add rows of its own to the counter).
  void render_rows(std::string& out, std::string_view name, std::string_view label) const;

 private:
  std::array<std::atomic<std::uint64_t>, kErrorCodeCount> counts_{};
};

// `# HELP` and `# TYPE` lines.
void append_metric_head(std::string& out, std::string_view name, std::string_view help, std::string_view type);
// One row, `name{label="value"} n`, or `name n` with an empty label.
void append_metric_row(std::string& out, std::string_view name, std::string_view label, std::string_view value,
                       std::string_view number);
// A counter or gauge of one row.
void append_counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t value);
void append_gauge(std::string& out, std::string_view name, std::string_view help, std::string_view value);

}  // namespace paychan::engine
