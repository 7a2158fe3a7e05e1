// The gate's counters and latency histograms, rendered as Prometheus text for GET /metrics
// (engine/metrics_text.hpp). A paid request bumps two or three relaxed atomics, far below the cost
// of its signature check, and no lock is taken on the hot path.
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
#include "engine/metrics_text.hpp"

namespace paychan::persistence {
struct LogBacklog;
}  // namespace paychan::persistence

namespace paychan::engine::gate {

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
  ReasonCounts refusals_;
  std::atomic<std::uint64_t> payment_required_{0};
};

}  // namespace paychan::engine::gate
