#include "file_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "persistence/file_lock.hpp"

namespace paychan::cli {

Result<FileLock> FileLock::take(const std::string& path, std::string_view holder, std::chrono::milliseconds wait,
                                const std::function<void()>& waiting) {
  // Not through a symlink or into a FIFO someone left at the path.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) return fail(ErrorCode::store_failed, "cannot open the lock file " + path + ": " + std::strerror(errno));
  auto locked = persistence::lock_exclusive(fd, path, std::chrono::milliseconds{0});
  if (locked && !*locked && wait.count() > 0) {
    if (waiting) waiting();
    locked = persistence::lock_exclusive(fd, path, wait);
  }
  if (!locked || !*locked) {
    ::close(fd);
    if (!locked) return locked.failure();
    return fail(ErrorCode::store_failed, std::string(holder) + " holds " + path);
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

void FileLock::release() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

FileLock::~FileLock() { release(); }

}  // namespace paychan::cli
