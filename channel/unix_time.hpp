// The wall clock in Unix seconds: the contract's clock (block timestamps, withdrawDelay) and the
// x402 authorizations' (validBefore). Components take a `now` function so tests can move time;
// this is their default.
#pragma once

#include <chrono>
#include <cstdint>

namespace paychan {

inline std::uint64_t unix_now() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace paychan
