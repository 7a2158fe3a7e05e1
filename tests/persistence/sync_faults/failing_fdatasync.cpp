#include "failing_fdatasync.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "voucher_log_descriptor.hpp"

namespace paychan::persistence::test {
namespace {

std::atomic<int> to_fail{0};
std::atomic<int> failed{0};
std::atomic<int> calls{0};

}  // namespace

void fail_next_log_syncs(int n) { to_fail = n; }
int log_syncs_failed() { return failed; }
int log_syncs() { return calls; }

}  // namespace paychan::persistence::test

// Defined in the executable, this is the fdatasync() every caller in the process links to.
extern "C" int fdatasync(int fd) {
  using namespace paychan::persistence::test;
  if (is_voucher_log(fd)) ++calls;
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
