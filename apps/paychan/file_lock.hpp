// An advisory lock file beside a store, held for the life of the owning object; the kernel
// releases it on any exit, crash included. Two processes must not drive one store: `settle` runs
// would claim the same batches, and two agents would each spend the whole budget.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "channel/result.hpp"

namespace paychan::cli {

class FileLock {
 public:
  // Locks `path` (created if missing), waiting up to `wait` while another process holds it;
  // `waiting` is called first when it must wait (to say so). Errors: store_failed naming `holder`
  // (what the other process is) when it is still held.
  [[nodiscard]] static Result<FileLock> take(const std::string& path, std::string_view holder,
                                             std::chrono::milliseconds wait = std::chrono::milliseconds{0},
                                             const std::function<void()>& waiting = {});
  // Lets another process take the lock now, before this object ends; nothing may write the store after.
  void release() noexcept;
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) noexcept : fd_(fd) {}
  int fd_;
};

}  // namespace paychan::cli
