// Keeping freed heap memory for the next burst of requests, instead of handing it back to the
// kernel after every burst and faulting it in again.
//
// glibc returns the top of a thread's heap to the kernel (madvise) whenever a free leaves more than
// 128 KiB there. A server's in-flight requests free their memory in bursts (a group commit ends,
// and all of its requests finish at once), so under load the heap shrinks and grows again many
// times a second: gate_load at 256 connections spent 15-20 µs of each paid request's ~95 in the
// allocator's growth, madvise and the page faults that follow (perf; bench/gate_load).
//
// Process-wide, so it is the program's choice, not the server's: `paychan gate` and
// `paychan facilitator` call it, as do the embedding example and the benchmarks' gate.
// Thread-safety: any thread; meant to be called once, at start-up.
#pragma once

#include <cstddef>

namespace paychan::engine::http {

// Up to `bytes` freed at the top of a heap stay mapped (default 64 MiB: a memory high-water mark a
// server keeps, not a leak). Blocks of 16 MiB or more are still mapped on their own and returned on
// free, as glibc does by default for large blocks.
void retain_freed_heap(std::size_t bytes = std::size_t{64} << 20);

}  // namespace paychan::engine::http
