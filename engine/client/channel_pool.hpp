// The agent's channels in use by this process. The scheme serializes requests per channel, so
// parallel requests to one provider need distinct channels: each request leases one; a request that
// finds every channel to its provider leased opens another (a new salt), within the budget.
//
// The pool also holds each channel's latest state as this process left it. The store is written
// only when something must be durable (a budget reservation, a deposit, a suspension, a close):
// between two reservations a voucher's progress (charged, balance, signedMax) lives here, and
// flush() writes it. A crash loses at most that progress, which is safe: every voucher signed is
// covered by the durable reservation, and the provider's corrective 402 returns the running total
// with the agent's own signature on it (payment_client.hpp).
//
// It also keeps, per channel, the highest voucher its provider may hold (the store's heldCeiling,
// made exact as the provider answers): a corrective 402 presenting a higher one is refused.
//
// Shared by the PaymentClients of one process (one per thread) that use the same store; one
// process per store file.
// Thread-safety: all members may be called concurrently.
#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "channel/amount.hpp"
#include "channel/bytes.hpp"
#include "persistence/client_store.hpp"

namespace paychan::engine::client {

class ChannelPool {
 public:
  // True when `channelId` was free and is now leased by the caller.
  [[nodiscard]] bool try_lease(const Bytes32& channelId) {
    std::lock_guard lock(mutex_);
    return leased_.insert(channelId).second;
  }
  // One pass over the channels this process holds: the first free one `wanted` accepts, leased —
  // unless `refuses` returns a Failure for any of them, which is returned instead (nothing leased).
  template <typename Wanted, typename Refuses>
  [[nodiscard]] Result<std::optional<persistence::ClientChannel>> lease_held(const Wanted& wanted, const Refuses& refuses) {
    std::lock_guard lock(mutex_);
    const Held* found = nullptr;
    for (const auto& [id, held] : held_) {
      if (std::optional<Failure> refusal = refuses(held.channel)) return std::move(*refusal);
      if (found == nullptr && !leased_.contains(id) && wanted(held.channel)) found = &held;
    }
    if (found == nullptr) return std::optional<persistence::ClientChannel>{};
    leased_.insert(found->channel.channelId);
    return std::optional{found->channel};
  }
  template <typename Wanted>
  [[nodiscard]] std::optional<persistence::ClientChannel> lease_held(const Wanted& wanted) {
    return *lease_held(wanted, [](const persistence::ClientChannel&) { return std::optional<Failure>{}; });
  }
  // The latest state of a channel the caller has leased, when this process holds one (fresher
  // than the store's).
  [[nodiscard]] std::optional<persistence::ClientChannel> held(const Bytes32& channelId) {
    std::lock_guard lock(mutex_);
    const auto it = held_.find(channelId);
    if (it == held_.end()) return std::nullopt;
    return it->second.channel;
  }
  // Records that the store holds `channel` exactly as given: the lease holder wrote or read it.
  void saved(const persistence::ClientChannel& channel) {
    std::lock_guard lock(mutex_);
    const auto [it, first] = held_.try_emplace(channel.channelId);
    if (first) it->second.first_seen(channel);
    it->second.channel = it->second.saved = channel;
  }
  // Ends a lease, keeping `latest` as the channel's state.
  void release(persistence::ClientChannel latest) {
    std::lock_guard lock(mutex_);
    const auto [it, first] = held_.try_emplace(latest.channelId);
    if (first) it->second.first_seen(latest);  // unknown to the pool: keep its reservation
    leased_.erase(latest.channelId);
    it->second.channel = std::move(latest);
  }
  // Ends a lease on a channel whose state did not change.
  void release(const Bytes32& channelId) {
    std::lock_guard lock(mutex_);
    leased_.erase(channelId);
  }
  // Writes every channel no request is using whose latest state the store lags, and returns the
  // unused part of the reservations this process made: reserved falls to signedMax, but never
  // below what the store held when the process found the channel (an earlier run that crashed may
  // have signed up to that). heldCeiling falls to what the provider may hold now. Not durably: a
  // crash can lose this write, which leaves the larger reservation and ceiling, and progress the
  // provider gives back (see above). The next voucher reserves again.
  [[nodiscard]] Status flush(persistence::ClientStore& store) {
    std::lock_guard lock(mutex_);
    for (auto& [id, held] : held_) {
      if (leased_.contains(id)) continue;
      persistence::ClientChannel trimmed = held.channel;
      trimmed.reserved = std::min(trimmed.reserved, std::max(trimmed.signedMax, held.found_reserved));
      trimmed.heldCeiling = std::min(trimmed.heldCeiling, held.ceiling);
      if (trimmed == held.saved) continue;
      // The bounds fall only once the store has them: a failed write must leave the lease holder's
      // next voucher reserving (and writing) again.
      PAYCHAN_TRY(store.put(trimmed, false));
      held.channel = held.saved = std::move(trimmed);
      admitted_.erase(id);
    }
    return {};
  }
  // The highest voucher the provider of `channelId` may hold: what a corrective 402 may present.
  // A channel the pool has not seen: unknown (kUint128Max).
  [[nodiscard]] Uint128 held_ceiling(const Bytes32& channelId) {
    std::lock_guard lock(mutex_);
    const auto it = held_.find(channelId);
    return it == held_.end() ? kUint128Max : it->second.ceiling;
  }
  // By the lease holder: a voucher was sent and not refused (raise), or the provider told what it
  // holds (set). The store's heldCeiling must already be at least `ceiling` (see reserve()).
  void set_held_ceiling(const Bytes32& channelId, Uint128 ceiling) {
    std::lock_guard lock(mutex_);
    if (const auto it = held_.find(channelId); it != held_.end()) it->second.ceiling = ceiling;
  }
  // How far vouchers on `channelId` may go without checking the budget again: the part of its
  // reservation this process checked against its own budget (a reservation an earlier run made,
  // under another budget, is checked before it is used). Nullopt: not checked yet.
  [[nodiscard]] std::optional<Uint128> admitted(const Bytes32& channelId) {
    std::lock_guard lock(mutex_);
    const auto it = admitted_.find(channelId);
    if (it == admitted_.end()) return std::nullopt;
    return it->second;
  }
  void admit(const Bytes32& channelId, Uint128 ceiling) {
    std::lock_guard lock(mutex_);
    admitted_.insert_or_assign(channelId, ceiling);
  }
  // Held while a request checks the budget and reserves against it, so that parallel requests
  // cannot both take the last of it.
  [[nodiscard]] std::mutex& budget_mutex() noexcept { return budget_mutex_; }
  // Held while channels found on chain are recorded (recovery), one recovery at a time.
  [[nodiscard]] std::mutex& recovery_mutex() noexcept { return recovery_mutex_; }

 private:
  struct Held {
    persistence::ClientChannel channel;
    persistence::ClientChannel saved;  // as the store holds it
    Uint128 found_reserved = 0;        // the reservation in the store when this process first saw it
    Uint128 ceiling = 0;               // heldCeiling, exact since the provider last answered
    void first_seen(const persistence::ClientChannel& c) {
      found_reserved = c.reserved;
      ceiling = c.heldCeiling;
    }
  };
  std::mutex mutex_;
  std::set<Bytes32> leased_;
  std::map<Bytes32, Held> held_;
  std::map<Bytes32, Uint128> admitted_;
  std::mutex budget_mutex_;
  std::mutex recovery_mutex_;
};

// Releases a lease when the request is over, with the channel's latest state once it is known.
class PoolLease {
 public:
  PoolLease(ChannelPool& pool, const Bytes32& id) : pool_(&pool), id_(id) {}
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  // The request is done with the channel, leaving it in state `latest`. Once only: later calls do nothing.
  void release(persistence::ClientChannel latest) {
    if (!pool_) return;
    pool_->release(std::move(latest));
    pool_ = nullptr;
  }
  ~PoolLease() {
    if (pool_) pool_->release(id_);
  }

 private:
  ChannelPool* pool_;
  Bytes32 id_;
};

}  // namespace paychan::engine::client
