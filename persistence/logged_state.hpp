// What the gate asks the channel store to make durable for one channel: the unit of a group
// commit, and of a record in the voucher log (voucher_log_format.hpp).
#pragma once

#include <optional>

#include "channel/channel_state.hpp"

namespace paychan::persistence {

// What to do with the state (ChannelStore::Write documents each).
enum class StateWrite : std::uint8_t { keep, erase, mark_stale };

struct LoggedState {
  ChannelState state;
  StateWrite write = StateWrite::keep;
  std::optional<PendingRefund> pendingRefund;  // written with the state, whatever `write` is

  friend bool operator==(const LoggedState&, const LoggedState&) = default;
};

}  // namespace paychan::persistence
