// Awaiting the channel store's group commit from a coroutine: the request's coroutine suspends
// (its I/O thread serves other connections) until the writer thread reports the state durable,
// then resumes on its own executor.
#pragma once

#include "channel/channel_state.hpp"
#include "channel/result.hpp"
#include "engine/http/asio.hpp"
#include "persistence/channel_store.hpp"

namespace paychan::engine::gate {

// Errors: store_failed (the store's own error in the detail).
// `write`: erase deletes the channel's row instead (a channel refunded in full); mark_stale marks
// its mirror stale, and writes no row the settle job deleted unless `pendingRefund` must be kept.
// `pendingRefund`: the channel's refund of unknown outcome, written with it (none clears it).
[[nodiscard]] http::Awaitable<Status> commit_durably(
    persistence::ChannelStore& store, const ChannelState& state,
    persistence::ChannelStore::Write write = persistence::ChannelStore::Write::keep,
    std::optional<PendingRefund> pendingRefund = std::nullopt);

}  // namespace paychan::engine::gate
