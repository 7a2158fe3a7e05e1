#include "engine/gate/metrics.hpp"

#include "persistence/channel_store.hpp"

namespace paychan::engine::gate {

void GateMetrics::count_refusal(ErrorCode code) noexcept { refusals_.count(code); }

void GateMetrics::count_payment_required() noexcept { payment_required_.fetch_add(1, std::memory_order_relaxed); }

std::string GateMetrics::render(const ChannelTotals& channels, const persistence::LogBacklog& store) const {
  std::string out;
  out.reserve(4096);
  append_counter(out, "paychan_paid_requests_total", "Requests served and charged.", paid_requests.load());
  append_counter(out, "paychan_free_requests_total", "Requests to unpriced routes passed through.",
                 free_requests.load());
  append_counter(out, "paychan_deposits_total", "Deposit payloads settled on chain.", deposits.load());
  append_counter(out, "paychan_refunds_total", "Cooperative refunds settled on chain.", refunds.load());
  append_counter(out, "paychan_handler_failures_total", "Paid requests whose upstream failed (nothing charged).",
                 handler_failures.load());
  append_counter(out, "paychan_local_verifications_total", "Vouchers checked locally against the on-chain mirror.",
                 local_verification.count());
  append_counter(out, "paychan_facilitator_verifications_total",
                 "Answers from the facilitator's /verify (a payload may be asked about twice).",
                 facilitator_verifications.load());
  append_counter(out, "paychan_stale_state_fallbacks_total",
                 "Vouchers checked on a stale mirror because the facilitator was unreachable.",
                 stale_state_fallbacks.load());
  append_counter(out, "paychan_forgotten_channels_total",
                 "Channels spent and claimed that the gate stopped holding once the settle job deleted them.",
                 forgotten_channels.load());

  append_metric_head(out, "paychan_refusals_total", "Payments refused, by reason (402, 400 or 503).", "counter");
  append_metric_row(out, "paychan_refusals_total", "reason", "payment_required",
                    std::to_string(payment_required_.load()));
  refusals_.render_rows(out, "paychan_refusals_total", "reason");
  verification.render(out, "paychan_verification_seconds", "Time to accept or refuse a payment.");
  local_verification.render(out, "paychan_local_verification_seconds",
                            "Time to check a voucher locally (digest, signature recovery, funding).");
  store_commit.render(out, "paychan_store_commit_seconds", "Time for a channel state to become durable.");
  append_gauge(out, "paychan_open_channels", "Channels the gate holds state for.", std::to_string(channels.open));
  append_gauge(out, "paychan_withdrawal_pending_channels", "Channels with a timed withdrawal pending (claim first).",
               std::to_string(channels.withdrawal_pending));
  append_gauge(out, "paychan_unclaimed_amount", "Charged but not yet claimed on chain, atomic units.",
               to_decimal(channels.unclaimed));
  append_gauge(out, "paychan_store_unfolded_commits",
               "Group commits durable in the voucher log but not yet in the SQLite file (what the settle job does "
               "not see yet).",
               std::to_string(store.unfolded_commits));
  append_counter(out, "paychan_store_fold_failures_total",
                 "Failed folds of the voucher log into the SQLite file (retried).", store.fold_failures);
  return out;
}

}  // namespace paychan::engine::gate
