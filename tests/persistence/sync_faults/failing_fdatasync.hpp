// A test double for a disk whose flush fails: this test binary's own fdatasync(), to which the
// persistence library's calls and SQLite's resolve instead of libc's (a program's own definition
// comes first). It fails the next calls on a voucher log file when told to, and passes every other
// call to the kernel.
//
// A double, because the fault cannot be made real here: a failing flush needs a failing device
// (device-mapper's dm-error or dm-flakey), which needs root and loop devices the test machines do
// not offer. Everything else in these tests is real: the files, the store, the crash.
#pragma once

namespace paychan::persistence::test {

// The next `n` fdatasync() calls on a file named *-vlog or *-vlog1 fail with EIO.
void fail_next_log_syncs(int n);
// How many have failed so far.
int log_syncs_failed();
// How many fdatasync() calls on a voucher log file were made so far, failed or not.
int log_syncs();

}  // namespace paychan::persistence::test
