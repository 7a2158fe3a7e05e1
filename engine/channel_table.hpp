// The gate's in-memory view of its channels: ChannelState by channelId, with the per-channel
// serialization the scheme requires ("serialize request processing per channel").
//
// A request takes a Lease on its channel; a second request on a leased channel is told it is busy
// at once (invalid_batch_settlement_evm_channel_busy, as the reference server does) rather than
// queued, so a slow handler never piles up work. Different channels never contend beyond a
// short shard lock, so paid requests on different channels run in parallel on all cores.
//
// Thread-safety: all members may be called concurrently. A Lease is used by one thread at a time.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "channel/channel_state.hpp"
#include "channel/ecdsa.hpp"
#include "channel/result.hpp"

namespace paychan::engine {

class ChannelTable;

// Exclusive right to process one request on one channel. Releases on destruction, leaving the
// state as it was unless commit() was called.
class Lease {
 public:
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  ~Lease();

  // The channel's state when leased; nullopt for a channel the gate has never seen.
  [[nodiscard]] const std::optional<ChannelState>& state() const noexcept { return state_; }
  // Publishes the new state (already durable in the store) and releases the lease.
  void commit(const ChannelState& next);
  // Forgets the channel (full refund) and releases the lease.
  void erase();
  // Makes `durable` (already in the store) the channel's state, published when the lease ends
  // unless commit() or erase() replaces it: a step taken before an outcome that may never come.
  void stage(const ChannelState& durable);
  // The payerAuthorizer's public key once a voucher on this channel revealed it, for
  // check_voucher_signature; what is set here stays with the channel when the lease ends.
  [[nodiscard]] std::optional<PublicKey>& payer_key() noexcept { return payerKey_; }
  // The channel's refund of unknown outcome, if any; what is set here stays with the channel when
  // the lease ends (the gate writes it to the store with the channel).
  [[nodiscard]] std::optional<PendingRefund>& pending_refund() noexcept { return pendingRefund_; }

 private:
  friend class ChannelTable;
  Lease(ChannelTable* table, const Bytes32& id, std::optional<ChannelState> state, std::optional<PublicKey> payerKey,
        std::optional<PendingRefund> pendingRefund) noexcept
      : table_(table), id_(id), state_(std::move(state)), payerKey_(payerKey), pendingRefund_(pendingRefund) {}
  void release(const ChannelState* next, bool erase);
  ChannelTable* table_;
  Bytes32 id_;
  std::optional<ChannelState> state_;
  std::optional<PublicKey> payerKey_;
  std::optional<PendingRefund> pendingRefund_;
  bool staged_ = false;
};

class ChannelTable {
 public:
  // Lease `channelId`. Error: invalid_batch_settlement_evm_channel_busy while another lease is held.
  [[nodiscard]] Result<Lease> acquire(const Bytes32& channelId);

  // Restores a channel from the store at start-up (no lease involved), with its refund of unknown
  // outcome if it has one.
  void restore(const ChannelState& state, const std::optional<PendingRefund>& pendingRefund = std::nullopt);
  // Raises a held channel's mirrored totalClaimed to `totalClaimed` (a claim the settle job
  // recorded); a lease out on it keeps the raise when it commits. Unknown channels are left alone.
  void raise_claimed(const Bytes32& channelId, Uint128 totalClaimed);
  // Forgets a channel whose store row was deleted (by the settle job: spent and claimed) with
  // `claimedAtClose` claimed and `refundNonceAtClose` seen, as a restart would, unless its state is
  // newer than that row (charged beyond that claim, a later refund, or a balance left to serve: a
  // top-up since, say) or a lease is out on it. A refund of unknown outcome keeps it unless the
  // row's nonce is past the refund's (the deleter read a chain past it); the mirror's balance is
  // then not the chain's, and the deleter read the chain's. The next request on it is judged as on
  // a channel the gate does not hold. Whether it was forgotten.
  bool forget_deleted(const Bytes32& channelId, Uint128 claimedAtClose, const U256& refundNonceAtClose);
  // A copy of a channel's state, leased or not; for metrics, tools and tests.
  [[nodiscard]] std::optional<ChannelState> find(const Bytes32& channelId) const;
  [[nodiscard]] std::size_t size() const;
  // Calls fn for every channel's state (each shard locked in turn; fn must not call back in).
  void for_each(const std::function<void(const ChannelState&)>& fn) const;

 private:
  friend class Lease;
  struct Entry {
    std::optional<ChannelState> state;  // nullopt while a first request on a new channel runs
    std::optional<PublicKey> payerKey;  // learned from the channel's first locally checked voucher
    // Rare, so held out of line: an idle channel pays a pointer for it, not the refund's 80 bytes.
    std::unique_ptr<PendingRefund> pendingRefund;
    bool leased = false;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<Bytes32, Entry, Bytes32Hash> entries;
  };
  static constexpr std::size_t kShards = 64;

  Shard& shard(const Bytes32& id) noexcept { return shards_[Bytes32Hash{}(id) % kShards]; }
  const Shard& shard(const Bytes32& id) const noexcept { return shards_[Bytes32Hash{}(id) % kShards]; }
  void release(const Bytes32& id, const ChannelState* next, const std::optional<PublicKey>& payerKey,
               const std::optional<PendingRefund>& pendingRefund, bool erase);

  std::array<Shard, kShards> shards_;
};

}  // namespace paychan::engine
