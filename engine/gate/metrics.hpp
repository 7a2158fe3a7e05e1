// The gate's counters and latency histograms, rendered as Prometheus text for GET /metrics.
// Counters are relaxed atomics: a paid request bumps two or three of them, far below the cost of
// its signature check, and no lock is taken on the hot path.
// Thread-safety: every member may be used concurrently.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "channel/amount.hpp"
#include "channel/error.hpp"

namespace paychan::persistence {
struct LogBacklog;
}  // namespace paychan::persistence

namespace paychan::engine::gate {

// Cumulative buckets in seconds, fixed at compile time (Prometheus `le` labels).
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBounds{20e-6, 50e-6, 100e-6, 200e-6, 500e-6, 1e-3,
                                                  2e-3,  5e-3,  10e-3,  50e-3,  200e-3, 1.0};
  void observe(std::chrono::nanoseconds elapsed) noexcept;
  void render(std::string& out, std::string_view name, std::string_view help) const;
  // Observations so far, and their total time (for a mean; the buckets are for percentiles).
  [[nodiscard]] std::uint64_t count() const noexcept;
  [[nodiscard]] std::chrono::nanoseconds sum() const noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};  // last: +Inf
  std::atomic<std::uint64_t> sum_ns_{0};
};

// What /metrics computes from the channel table at scrape time.
struct ChannelTotals {
  std::uint64_t open = 0;
  std::uint64_t withdrawal_pending = 0;
  Uint128 unclaimed = 0;  // Σ chargedCumulativeAmount − totalClaimed, atomic units
};

class GateMetrics {
 public:
  std::atomic<std::uint64_t> paid_requests{0};      // served and charged
  std::atomic<std::uint64_t> free_requests{0};      // unpriced routes passed through
  std::atomic<std::uint64_t> deposits{0};           // deposit payloads settled
  std::atomic<std::uint64_t> refunds{0};            // refunds settled
  std::atomic<std::uint64_t> handler_failures{0};   // upstream answered ≥ 400: nothing charged
  std::atomic<std::uint64_t> facilitator_verifications{0};
  std::atomic<std::uint64_t> stale_state_fallbacks{0};  // facilitator down, served on the mirror
  std::atomic<std::uint64_t> forgotten_channels{0};  // the settle job deleted their rows (Gate::refresh_claimed)
  LatencyHistogram verification;  // decode → checks done (local or through the facilitator)
  LatencyHistogram local_verification;  // a voucher checked locally: digest, recover, funding rules
  LatencyHistogram store_commit;  // queued → durable

  // A 402 / 400 / 503 answered with `code`; a request without payment counts as payment_required.
  void count_refusal(ErrorCode code) noexcept;
  void count_payment_required() noexcept;

  [[nodiscard]] std::string render(const ChannelTotals& channels, const persistence::LogBacklog& store) const;

 private:
  std::array<std::atomic<std::uint64_t>, kErrorCodeCount> refusals_{};
  std::atomic<std::uint64_t> payment_required_{0};
};

}  // namespace paychan::engine::gate
