// A test double for the Linux AIO calls of the voucher log's durable writes
// (persistence/durable_write.hpp): this binary's own paychan_io_setup() and the rest, which replace
// the library's weak ones. A write is made at its submission, through pwrite() and, with RWF_DSYNC,
// fdatasync(): this binary's doubles of those two (failing_direct_write.hpp, failing_fdatasync.hpp)
// then fail the log's durable writes as a disk would fail the write or its flush. Its event waits
// for io_getevents().
//
// A double, because those faults cannot be made real here (the two headers say why). With
// PAYCHAN_TEST_NO_AIO set in the environment, io_setup fails (ENOSYS), as in a kernel without AIO:
// the log then writes and syncs with pwrite() and fdatasync() themselves, and the same tests check
// that path (ctest runs the binary both ways).
#pragma once
