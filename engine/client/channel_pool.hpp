// The agent's channels in use right now. The scheme serializes requests per channel, so parallel
// requests to one provider need distinct channels: each request leases one; a request that finds
// every channel to its provider leased opens another (a new salt), within the budget.
// Shared by the PaymentClients of one process (one per thread) that use the same store.
// Thread-safety: all members may be called concurrently.
#pragma once

#include <mutex>
#include <set>

#include "channel/bytes.hpp"

namespace paychan::engine::client {

class ChannelPool {
 public:
  // True when `channelId` was free and is now leased by the caller.
  [[nodiscard]] bool try_lease(const Bytes32& channelId) {
    std::lock_guard lock(mutex_);
    return leased_.insert(channelId).second;
  }
  void release(const Bytes32& channelId) {
    std::lock_guard lock(mutex_);
    leased_.erase(channelId);
  }
  // Held while a request checks the budget and reserves against it, so that parallel requests
  // cannot both take the last of it.
  [[nodiscard]] std::mutex& budget_mutex() noexcept { return budget_mutex_; }
  // Held while channels found on chain are recorded (recovery), one recovery at a time.
  [[nodiscard]] std::mutex& recovery_mutex() noexcept { return recovery_mutex_; }

 private:
  std::mutex mutex_;
  std::set<Bytes32> leased_;
  std::mutex budget_mutex_;
  std::mutex recovery_mutex_;
};

// Releases a lease when the request is over.
class PoolLease {
 public:
  PoolLease(ChannelPool& pool, const Bytes32& id) : pool_(&pool), id_(id) {}
  PoolLease(const PoolLease&) = delete;
  PoolLease& operator=(const PoolLease&) = delete;
  ~PoolLease() { pool_->release(id_); }

 private:
  ChannelPool* pool_;
  Bytes32 id_;
};

}  // namespace paychan::engine::client
