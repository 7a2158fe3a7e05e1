#include "persistence/durable_write.hpp"

#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

extern "C" {
__attribute__((weak)) long paychan_io_setup(unsigned nr, aio_context_t* context) {
  return ::syscall(SYS_io_setup, nr, context);
}
__attribute__((weak)) long paychan_io_destroy(aio_context_t context) { return ::syscall(SYS_io_destroy, context); }
__attribute__((weak)) long paychan_io_submit(aio_context_t context, long n, struct iocb** iocbs) {
  return ::syscall(SYS_io_submit, context, n, iocbs);
}
__attribute__((weak)) long paychan_io_getevents(aio_context_t context, long min, long max, struct io_event* events) {
  return ::syscall(SYS_io_getevents, context, min, max, events, nullptr);
}
}

namespace paychan::persistence {

std::optional<DurableWriter> DurableWriter::open() noexcept {
  aio_context_t context = 0;
  if (paychan_io_setup(1, &context) != 0) return std::nullopt;
  return DurableWriter(context);
}

DurableWriter::DurableWriter(DurableWriter&& other) noexcept : context_(std::exchange(other.context_, 0)) {}

DurableWriter& DurableWriter::operator=(DurableWriter&& other) noexcept {
  if (this != &other) {
    if (context_ != 0) (void)paychan_io_destroy(context_);
    context_ = std::exchange(other.context_, 0);
  }
  return *this;
}

DurableWriter::~DurableWriter() {
  if (context_ != 0) (void)paychan_io_destroy(context_);
}

int DurableWriter::write(int fd, std::string_view bytes, std::uint64_t offset) noexcept {
  struct iocb request {};
  request.aio_lio_opcode = IOCB_CMD_PWRITE;
  request.aio_fildes = static_cast<std::uint32_t>(fd);
  request.aio_buf = reinterpret_cast<std::uintptr_t>(bytes.data());
  request.aio_nbytes = bytes.size();
  request.aio_offset = static_cast<std::int64_t>(offset);
  request.aio_rw_flags = RWF_DSYNC;
  struct iocb* requests[] = {&request};
  long submitted;
  while ((submitted = paychan_io_submit(context_, 1, requests)) < 0 && errno == EINTR) {
  }
  if (submitted < 0) return errno;
  if (submitted == 0) return EAGAIN;  // taken by nothing: the context's one slot is never busy here
  // The request is the kernel's until its event comes: wait for it whatever interrupts.
  struct io_event done {};
  long got;
  while ((got = paychan_io_getevents(context_, 1, 1, &done)) != 1) {
    if (got < 0 && errno != EINTR) return errno;  // EFAULT or EINVAL: a broken context, not a busy one
  }
  if (done.res < 0) return static_cast<int>(-done.res);
  return static_cast<std::uint64_t>(done.res) == bytes.size() ? 0 : EIO;
}

}  // namespace paychan::persistence
