// The server-wide cap on open connections (ServerLimits::max_connections), shared by all workers.
// One atomic add per connection, never per request.
// Thread-safety: all members may be called concurrently.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <utility>

namespace paychan::engine::http::detail {

class ConnectionBudget;

// One open connection's share of the budget, given back when the slot is destroyed.
class ConnectionSlot {
 public:
  ConnectionSlot(ConnectionSlot&& other) noexcept : budget_(std::exchange(other.budget_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot();

 private:
  friend class ConnectionBudget;
  explicit ConnectionSlot(ConnectionBudget* budget) noexcept : budget_(budget) {}
  ConnectionBudget* budget_;
};

class ConnectionBudget {
 public:
  explicit ConnectionBudget(std::size_t limit) noexcept : limit_(limit) {}

  // A slot, or nullopt when `limit` connections are open.
  [[nodiscard]] std::optional<ConnectionSlot> try_acquire() noexcept {
    if (open_.fetch_add(1, std::memory_order_relaxed) < limit_) return ConnectionSlot{this};
    open_.fetch_sub(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  [[nodiscard]] std::size_t open() const noexcept { return open_.load(std::memory_order_relaxed); }

 private:
  friend class ConnectionSlot;
  const std::size_t limit_;
  std::atomic<std::size_t> open_{0};
};

inline ConnectionSlot::~ConnectionSlot() {
  if (budget_ != nullptr) budget_->open_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace paychan::engine::http::detail
