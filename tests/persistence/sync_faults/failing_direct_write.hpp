// A test double for the voucher log's direct writes (BlockAppender) failing: this test binary's own
// pwrite(), to which the persistence library's calls resolve instead of libc's (SQLite calls
// pwrite64, untouched). When told to, it fails the next writes to a *-vlog or *-vlog1 descriptor
// opened O_DIRECT, in one of two ways; it passes every other call to the kernel.
//
// A double, because neither fault can be made real here: a file system that opens O_DIRECT but
// refuses 4 KiB blocks needs a device with larger logical blocks, and a write that fails after
// reaching the disk needs a failing device (device-mapper's dm-error); both need root and loop
// devices the test machines do not offer.
#pragma once

namespace paychan::persistence::test {

enum class DirectWriteFault {
  refused,         // EINVAL, nothing written: the file system takes no direct writes of this size
  failed_after,    // EIO after the bytes were written: the disk reported an error all the same
};

// The next `n` direct writes to a voucher log fail as `fault`.
void fail_next_direct_log_writes(int n, DirectWriteFault fault);
// Direct writes to a voucher log tried so far, failed or not.
int direct_log_writes();

}  // namespace paychan::persistence::test
