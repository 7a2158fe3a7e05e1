#include "failing_fdatasync.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <string_view>

namespace paychan::persistence::test {
namespace {

std::atomic<int> to_fail{0};
std::atomic<int> failed{0};

bool is_voucher_log(int fd) {
  char target[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
  if (n <= 0) return false;
  const std::string_view path(target, static_cast<std::size_t>(n));
  return path.ends_with("-vlog") || path.ends_with("-vlog1");
}

}  // namespace

void fail_next_log_syncs(int n) { to_fail = n; }
int log_syncs_failed() { return failed; }

}  // namespace paychan::persistence::test

// Defined in the executable, this is the fdatasync() every caller in the process links to.
extern "C" int fdatasync(int fd) {
  using namespace paychan::persistence::test;
  int left = to_fail.load();
  while (left > 0 && is_voucher_log(fd)) {
    if (to_fail.compare_exchange_weak(left, left - 1)) {
      ++failed;
      errno = EIO;
      return -1;
    }
  }
  return static_cast<int>(::syscall(SYS_fdatasync, fd));
}
