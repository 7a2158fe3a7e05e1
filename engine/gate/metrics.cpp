#include "engine/gate/metrics.hpp"

#include <cstdio>

#include "persistence/channel_store.hpp"

namespace paychan::engine::gate {
namespace {

void append_number(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  out += buf;
}

void counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" counter\n");
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

void gauge(std::string& out, std::string_view name, std::string_view help, std::string_view value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" gauge\n");
  out.append(name).append(" ").append(value).append("\n");
}

}  // namespace

void LatencyHistogram::observe(std::chrono::nanoseconds elapsed) noexcept {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

void LatencyHistogram::render(std::string& out, std::string_view name, std::string_view help) const {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" histogram\n");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out.append(name).append("_bucket{le=\"");
    if (i < kBounds.size()) append_number(out, kBounds[i]); else out += "+Inf";
    out.append("\"} ").append(std::to_string(cumulative)).append("\n");
  }
  out.append(name).append("_sum ");
  append_number(out, static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  out.append("\n").append(name).append("_count ").append(std::to_string(cumulative)).append("\n");
}

std::uint64_t LatencyHistogram::count() const noexcept {
  std::uint64_t n = 0;
  for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

std::chrono::nanoseconds LatencyHistogram::sum() const noexcept {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(sum_ns_.load(std::memory_order_relaxed)));
}

void GateMetrics::count_refusal(ErrorCode code) noexcept {
  refusals_[static_cast<std::size_t>(code)].fetch_add(1, std::memory_order_relaxed);
}

void GateMetrics::count_payment_required() noexcept { payment_required_.fetch_add(1, std::memory_order_relaxed); }

std::string GateMetrics::render(const ChannelTotals& channels, const persistence::LogBacklog& store) const {
  std::string out;
  out.reserve(4096);
  counter(out, "paychan_paid_requests_total", "Requests served and charged.", paid_requests.load());
  counter(out, "paychan_free_requests_total", "Requests to unpriced routes passed through.", free_requests.load());
  counter(out, "paychan_deposits_total", "Deposit payloads settled on chain.", deposits.load());
  counter(out, "paychan_refunds_total", "Cooperative refunds settled on chain.", refunds.load());
  counter(out, "paychan_handler_failures_total", "Paid requests whose upstream failed (nothing charged).",
          handler_failures.load());
  counter(out, "paychan_local_verifications_total", "Vouchers checked locally against the on-chain mirror.",
          local_verification.count());
  counter(out, "paychan_facilitator_verifications_total", "Answers from the facilitator's /verify (a payload may be asked about twice).",
          facilitator_verifications.load());
  counter(out, "paychan_stale_state_fallbacks_total",
          "Vouchers checked on a stale mirror because the facilitator was unreachable.", stale_state_fallbacks.load());
  counter(out, "paychan_forgotten_channels_total",
          "Channels spent and claimed that the gate stopped holding once the settle job deleted them.",
          forgotten_channels.load());

  out += "# HELP paychan_refusals_total Payments refused, by reason (402, 400 or 503).\n"
         "# TYPE paychan_refusals_total counter\n";
  out.append("paychan_refusals_total{reason=\"payment_required\"} ")
      .append(std::to_string(payment_required_.load()))
      .append("\n");
  for (std::size_t i = 0; i < refusals_.size(); ++i) {
    const auto n = refusals_[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    out.append("paychan_refusals_total{reason=\"").append(to_string(static_cast<ErrorCode>(i))).append("\"} ");
    out.append(std::to_string(n)).append("\n");
  }
  verification.render(out, "paychan_verification_seconds", "Time to accept or refuse a payment.");
  local_verification.render(out, "paychan_local_verification_seconds",
                            "Time to check a voucher locally (digest, signature recovery, funding).");
  store_commit.render(out, "paychan_store_commit_seconds", "Time for a channel state to become durable.");
  gauge(out, "paychan_open_channels", "Channels the gate holds state for.", std::to_string(channels.open));
  gauge(out, "paychan_withdrawal_pending_channels", "Channels with a timed withdrawal pending (claim first).",
        std::to_string(channels.withdrawal_pending));
  gauge(out, "paychan_unclaimed_amount", "Charged but not yet claimed on chain, atomic units.",
        to_decimal(channels.unclaimed));
  gauge(out, "paychan_store_unfolded_commits",
        "Group commits durable in the voucher log but not yet in the SQLite file (what the settle job does not see yet).",
        std::to_string(store.unfolded_commits));
  counter(out, "paychan_store_fold_failures_total", "Failed folds of the voucher log into the SQLite file (retried).",
          store.fold_failures);
  return out;
}

}  // namespace paychan::engine::gate
