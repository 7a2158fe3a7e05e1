// An exclusive advisory lock (flock) on an open file, with a short wait for a holder about to let
// go: the voucher log's owner (voucher_log.hpp) and the CLI's lock files beside its stores. The
// kernel releases it when the file is closed, on any exit, crash included.
// Thread-safety: a pure function of the file descriptor.
#pragma once

#include <chrono>
#include <string>

#include "channel/result.hpp"

namespace paychan::persistence {

// Takes the lock on `fd` (the file at `path`), trying again every 50 ms for up to `wait` while
// another open file holds it: whether it got it. Errors: store_failed (flock refused otherwise).
[[nodiscard]] Result<bool> lock_exclusive(int fd, const std::string& path, std::chrono::milliseconds wait);

}  // namespace paychan::persistence
