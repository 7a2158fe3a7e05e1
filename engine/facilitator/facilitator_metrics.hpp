// The facilitator's counters and latency histograms, rendered as Prometheus text for its
// GET /metrics (engine/metrics_text.hpp): its answers to /verify and /settle by outcome (a refusal
// by its reason, which is also what a malformed request was answered), the 401s, how long each
// answer took, and, read at scrape time, the transactions sent and not yet resolved.
// Thread-safety: every member may be used concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/metrics_text.hpp"

namespace paychan::engine::facilitator {

class FacilitatorMetrics {
 public:
  // An answer to /verify (`verify`) or /settle: `accepted`, or refused with `reason` (an error
  // code's text; another text counts as "other"), after `elapsed`.
  void count_answer(bool verify, bool accepted, std::string_view reason, std::chrono::nanoseconds elapsed) noexcept;
  void count_unauthorized() noexcept { unauthorized_.fetch_add(1, std::memory_order_relaxed); }

  // `pending_transactions`: the journal's unresolved entries (nullopt: it could not be read).
  [[nodiscard]] std::string render(std::optional<std::size_t> pending_transactions) const;

 private:
  struct Endpoint {
    Endpoint() noexcept : seconds(LatencyHistogram::kSlow) {}
    std::atomic<std::uint64_t> accepted{0};
    ReasonCounts refused;
    std::atomic<std::uint64_t> refused_other{0};
    LatencyHistogram seconds;
  };
  void render(std::string& out, const Endpoint& e, std::string_view name, std::string_view accepted,
              std::string_view what) const;

  Endpoint verify_;
  Endpoint settle_;
  std::atomic<std::uint64_t> unauthorized_{0};
};

}  // namespace paychan::engine::facilitator
