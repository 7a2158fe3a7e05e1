#include "persistence/file_lock.hpp"

#include <sys/file.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace paychan::persistence {

Result<bool> lock_exclusive(int fd, const std::string& path, std::chrono::milliseconds wait) {
  const auto give_up = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return fail(ErrorCode::store_failed, "cannot lock " + path + ": " + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace paychan::persistence
