#include "engine/facilitator/facilitator_metrics.hpp"

namespace paychan::engine::facilitator {

void FacilitatorMetrics::count_answer(bool verify, bool accepted, std::string_view reason,
                                      std::chrono::nanoseconds elapsed) noexcept {
  Endpoint& e = verify ? verify_ : settle_;
  e.seconds.observe(elapsed);
  ErrorCode code{};
  if (accepted) e.accepted.fetch_add(1, std::memory_order_relaxed);
  else if (error_code_from_string(reason, code)) e.refused.count(code);
  else e.refused_other.fetch_add(1, std::memory_order_relaxed);
}

void FacilitatorMetrics::render(std::string& out, const Endpoint& e, std::string_view name, std::string_view accepted,
                                std::string_view what) const {
  const std::string total = "paychan_facilitator_" + std::string(name) + "_total";
  append_metric_head(out, total, "Answers to POST /" + std::string(name) + ", by result: " + std::string(accepted) +
                                     ", or the reason it was refused (400s included).",
                     "counter");
  append_metric_row(out, total, "result", accepted, std::to_string(e.accepted.load()));
  e.refused.render_rows(out, total, "result");
  if (const auto other = e.refused_other.load(); other != 0)
    append_metric_row(out, total, "result", "other", std::to_string(other));
  e.seconds.render(out, "paychan_facilitator_" + std::string(name) + "_seconds",
                   "Time to answer POST /" + std::string(name) + " (" + std::string(what) + ").");
}

std::string FacilitatorMetrics::render(std::optional<std::size_t> pending_transactions) const {
  std::string out;
  out.reserve(4096);
  render(out, verify_, "verify", "valid", "a voucher's check, or a deposit's with the node's reads");
  render(out, settle_, "settle", "success", "a transaction sent and its receipt awaited, or a voucher's check");
  append_counter(out, "paychan_facilitator_unauthorized_total",
                 "Requests to /verify or /settle refused 401: no client's token.", unauthorized_.load());
  if (pending_transactions)
    append_gauge(out, "paychan_facilitator_pending_transactions",
                 "Transactions sent and not yet resolved by their receipts (the journal's pending entries).",
                 std::to_string(*pending_transactions));
  return out;
}

}  // namespace paychan::engine::facilitator
