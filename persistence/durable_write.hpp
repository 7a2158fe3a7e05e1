// One write made durable before it returns, through Linux's native AIO: a write with RWF_DSYNC.
//
// Why: a direct write and then fdatasync() put the calling thread to sleep twice, and the file
// system's sync and the disk's flush request are issued from its core: in a gate, the core that
// serves the requests. Submitted as one asynchronous write with RWF_DSYNC, the sync after it is
// run from the write's completion, by a kernel worker on the core that takes the disk's interrupt,
// and the caller wakes once, when both are done. The durability is the same: RWF_DSYNC is O_DSYNC
// for one write, the fdatasync() of what it wrote (one flush request reaches the disk for each,
// either way). Measured here (a 4 KiB direct append each time, the core otherwise busy with a
// spinning thread, whose lost work is the cost): 72-81 µs of that core per append with pwrite and
// fdatasync, 33-41 µs this way, and a p50 latency of 170-186 against 150-157 µs.
//
// Thread-safety: none; one thread at a time (the store's writer).
#pragma once

#include <linux/aio_abi.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace paychan::persistence {

class DurableWriter {
 public:
  // A context for one request at a time; nullopt where the kernel gives none (no AIO in it, a
  // seccomp filter refusing it, fs.aio-max-nr reached): the caller writes and syncs itself.
  [[nodiscard]] static std::optional<DurableWriter> open() noexcept;
  DurableWriter(DurableWriter&& other) noexcept;
  DurableWriter& operator=(DurableWriter&& other) noexcept;
  DurableWriter(const DurableWriter&) = delete;
  ~DurableWriter();

  // Writes `bytes` at `offset` of `fd` and returns when they are durable: 0, or the errno of the
  // write or of its sync. EINVAL: refused, nothing written (a file system that takes no direct
  // writes of this size; a kernel without RWF_DSYNC). A short write is EIO: what it wrote may
  // stay in the file, as after any failed write.
  [[nodiscard]] int write(int fd, std::string_view bytes, std::uint64_t offset) noexcept;

 private:
  explicit DurableWriter(aio_context_t context) noexcept : context_(context) {}
  aio_context_t context_ = 0;
};

}  // namespace paychan::persistence

// The system calls DurableWriter makes, each a function of its own with C linkage: defined weak
// here, so that a test binary's own definitions replace them (tests/persistence/sync_faults: a
// disk failing a write or its flush cannot be made real on the test machines).
extern "C" {
long paychan_io_setup(unsigned nr, aio_context_t* context);
long paychan_io_destroy(aio_context_t context);
long paychan_io_submit(aio_context_t context, long n, struct iocb** iocbs);
long paychan_io_getevents(aio_context_t context, long min, long max, struct io_event* events);
}
