#include "engine/channel_table.hpp"

#include <algorithm>
#include <utility>

namespace paychan::engine {

Lease::Lease(Lease&& other) noexcept
    : table_(std::exchange(other.table_, nullptr)),
      id_(other.id_),
      state_(std::move(other.state_)),
      payerKey_(other.payerKey_),
      pendingRefund_(other.pendingRefund_),
      staged_(other.staged_) {}

Lease::~Lease() { release(staged_ ? &*state_ : nullptr, false); }

void Lease::stage(const ChannelState& durable) {
  state_ = durable;
  staged_ = true;
}

void Lease::commit(const ChannelState& next) { release(&next, false); }

void Lease::erase() { release(nullptr, true); }

void Lease::release(const ChannelState* next, bool erase) {
  if (table_ != nullptr) std::exchange(table_, nullptr)->release(id_, next, payerKey_, pendingRefund_, erase);
}

Result<Lease> ChannelTable::acquire(const Bytes32& channelId) {
  Shard& s = shard(channelId);
  std::lock_guard lock(s.mutex);
  Entry& entry = s.entries[channelId];
  if (entry.leased)
    return fail(ErrorCode::invalid_batch_settlement_evm_channel_busy, "another request holds this channel");
  entry.leased = true;
  const auto pending = entry.pendingRefund ? std::optional<PendingRefund>{*entry.pendingRefund} : std::nullopt;
  return Lease(this, channelId, entry.state, entry.payerKey, pending);
}

void ChannelTable::release(const Bytes32& id, const ChannelState* next, const std::optional<PublicKey>& payerKey,
                           const std::optional<PendingRefund>& pendingRefund, bool erase) {
  Shard& s = shard(id);
  std::lock_guard lock(s.mutex);
  const auto it = s.entries.find(id);
  if (it == s.entries.end()) return;
  if (next != nullptr) {
    // totalClaimed only grows: a raise_claimed() while the lease was out is not undone by the
    // older mirror the lease started from.
    const Uint128 claimed = it->second.state ? it->second.state->onchain.totalClaimed : 0;
    it->second.state = *next;
    it->second.state->onchain.totalClaimed = std::max(claimed, next->onchain.totalClaimed);
  }
  // A channel that was never committed (its first request failed) leaves no entry behind, so
  // hostile requests naming random channel ids cannot grow the table.
  if (erase || !it->second.state) {
    s.entries.erase(it);
    return;
  }
  if (payerKey) it->second.payerKey = payerKey;
  it->second.pendingRefund = pendingRefund ? std::make_unique<PendingRefund>(*pendingRefund) : nullptr;
  it->second.leased = false;
}

void ChannelTable::restore(const ChannelState& state, const std::optional<PendingRefund>& pendingRefund) {
  Shard& s = shard(state.channelId);
  std::lock_guard lock(s.mutex);
  Entry& entry = s.entries[state.channelId];
  entry.state = state;
  entry.pendingRefund = pendingRefund ? std::make_unique<PendingRefund>(*pendingRefund) : nullptr;
}

void ChannelTable::raise_claimed(const Bytes32& channelId, Uint128 totalClaimed) {
  Shard& s = shard(channelId);
  std::lock_guard lock(s.mutex);
  const auto it = s.entries.find(channelId);
  if (it == s.entries.end() || !it->second.state) return;
  Uint128& claimed = it->second.state->onchain.totalClaimed;
  claimed = std::max(claimed, totalClaimed);
}

bool ChannelTable::forget_deleted(const Bytes32& channelId, Uint128 claimedAtClose, const U256& refundNonceAtClose) {
  Shard& s = shard(channelId);
  std::lock_guard lock(s.mutex);
  const auto it = s.entries.find(channelId);
  if (it == s.entries.end() || it->second.leased || !it->second.state) return false;
  const ChannelState& state = *it->second.state;
  const PendingRefund* pending = it->second.pendingRefund.get();
  if (pending != nullptr && !(refundNonceAtClose > pending->nonce)) return false;
  if (state.chargedCumulativeAmount > claimedAtClose || refundNonceAtClose < state.onchain.refundNonce) return false;
  if (pending == nullptr && state.onchain.balance > state.chargedCumulativeAmount) return false;
  s.entries.erase(it);
  return true;
}

std::optional<ChannelState> ChannelTable::find(const Bytes32& channelId) const {
  const Shard& s = shard(channelId);
  std::lock_guard lock(s.mutex);
  const auto it = s.entries.find(channelId);
  if (it == s.entries.end()) return std::nullopt;
  return it->second.state;
}

std::size_t ChannelTable::size() const {
  std::size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (const auto& [id, entry] : s.entries) n += entry.state ? 1 : 0;
  }
  return n;
}

void ChannelTable::for_each(const std::function<void(const ChannelState&)>& fn) const {
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    for (const auto& [id, entry] : s.entries)
      if (entry.state) fn(*entry.state);
  }
}

}  // namespace paychan::engine
