#include "file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace paychan::cli {

Result<FileLock> FileLock::take(const std::string& path, std::string_view holder, std::chrono::milliseconds wait) {
  // Not through a symlink or into a FIFO someone left at the path.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) return fail(ErrorCode::store_failed, "cannot open the lock file " + path + ": " + std::strerror(errno));
  const auto give_up = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error != EWOULDBLOCK || std::chrono::steady_clock::now() >= give_up) {
      ::close(fd);
      if (error != EWOULDBLOCK) return fail(ErrorCode::store_failed, "cannot lock " + path + ": " + std::strerror(error));
      return fail(ErrorCode::store_failed, std::string(holder) + " holds " + path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace paychan::cli
