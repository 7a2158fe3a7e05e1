#include "engine/metrics_text.hpp"

#include <cstdio>

namespace paychan::engine {
namespace {

void append_number(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  out += buf;
}

}  // namespace

void LatencyHistogram::observe(std::chrono::nanoseconds elapsed) noexcept {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(elapsed.count()), std::memory_order_relaxed);
}

void LatencyHistogram::render(std::string& out, std::string_view name, std::string_view help) const {
  append_metric_head(out, name, help, "histogram");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out.append(name).append("_bucket{le=\"");
    if (i < bounds_.size()) append_number(out, bounds_[i]); else out += "+Inf";
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

void ReasonCounts::render_rows(std::string& out, std::string_view name, std::string_view label) const {
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    const auto n = counts_[i].load(std::memory_order_relaxed);
    if (n != 0) append_metric_row(out, name, label, to_string(static_cast<ErrorCode>(i)), std::to_string(n));
  }
}

void append_metric_head(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
  out.append(type).append("\n");
}

void append_metric_row(std::string& out, std::string_view name, std::string_view label, std::string_view value,
                       std::string_view number) {
  out.append(name);
  if (!label.empty()) out.append("{").append(label).append("=\"").append(value).append("\"}");
  out.append(" ").append(number).append("\n");
}

void append_counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t value) {
  append_metric_head(out, name, help, "counter");
  append_metric_row(out, name, "", "", std::to_string(value));
}

void append_gauge(std::string& out, std::string_view name, std::string_view help, std::string_view value) {
  append_metric_head(out, name, help, "gauge");
  append_metric_row(out, name, "", "", value);
}

}  // namespace paychan::engine
