#include "synchronous_aio.hpp"

#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <deque>

#include "persistence/durable_write.hpp"

namespace {

// The events of the writes submitted on this thread, not yet collected: the writer submits and
// collects on one thread.
thread_local std::deque<io_event> done;

}  // namespace

extern "C" {

long paychan_io_setup(unsigned nr, aio_context_t* context) {
  if (std::getenv("PAYCHAN_TEST_NO_AIO") != nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return ::syscall(SYS_io_setup, nr, context);
}

long paychan_io_destroy(aio_context_t context) { return ::syscall(SYS_io_destroy, context); }

long paychan_io_submit(aio_context_t, long n, struct iocb** iocbs) {
  for (long i = 0; i < n; ++i) {
    const iocb& r = *iocbs[i];
    const auto fd = static_cast<int>(r.aio_fildes);
    const ssize_t written = pwrite(fd, reinterpret_cast<const void*>(r.aio_buf), r.aio_nbytes,
                                   static_cast<off_t>(r.aio_offset));
    long long result = written < 0 ? -errno : written;
    if (result == static_cast<long long>(r.aio_nbytes) && (r.aio_rw_flags & RWF_DSYNC) != 0 && fdatasync(fd) != 0)
      result = -errno;
    done.push_back(io_event{r.aio_data, reinterpret_cast<std::uintptr_t>(&r), result, 0});
  }
  return n;
}

long paychan_io_getevents(aio_context_t, long min, long max, struct io_event* events) {
  long n = 0;
  for (; n < max && !done.empty(); ++n) {
    events[n] = done.front();
    done.pop_front();
  }
  if (n < min) {  // nothing was submitted that could complete: a real call would wait forever
    errno = EINVAL;
    return -1;
  }
  return n;
}

}  // extern "C"
