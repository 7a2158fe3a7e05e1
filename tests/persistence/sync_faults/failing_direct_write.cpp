#include "failing_direct_write.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "voucher_log_descriptor.hpp"

namespace paychan::persistence::test {
namespace {

std::atomic<int> to_fail{0};
std::atomic<DirectWriteFault> how{DirectWriteFault::refused};
std::atomic<int> tried{0};

bool is_direct_voucher_log(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_DIRECT) != 0 && is_voucher_log(fd);
}

}  // namespace

void fail_next_direct_log_writes(int n, DirectWriteFault fault) {
  how = fault;
  to_fail = n;
}
int direct_log_writes() { return tried; }

}  // namespace paychan::persistence::test

// Defined in the executable, this is the pwrite() the persistence library links to.
extern "C" ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) {
  using namespace paychan::persistence::test;
  const auto write = [&] { return static_cast<ssize_t>(::syscall(SYS_pwrite64, fd, buf, n, offset)); };
  if (!is_direct_voucher_log(fd)) return write();
  ++tried;
  for (int left = to_fail.load(); left > 0;) {
    if (!to_fail.compare_exchange_weak(left, left - 1)) continue;
    if (how == DirectWriteFault::failed_after) (void)write();
    errno = how == DirectWriteFault::refused ? EINVAL : EIO;
    return -1;
  }
  return write();
}
