// Keeping freed heap memory for the next burst of requests, instead of handing it back to the
// kernel after every burst and faulting it in again.
//
// By default glibc trims the top of a heap whenever a free leaves more than 128 KiB there (sbrk for
// the main heap, madvise for a thread's). A server's in-flight requests free their memory in bursts
// (a group commit ends, and all of its requests finish at once), so under load the heap shrinks
// and grows again many times a second: gate_load at 256 connections spent 15-20 µs of each paid
// request's ~95 in the allocator's growth, madvise and the page faults that follow (perf).
//
// Process-wide, so it is the program's choice, not the server's: `paychan gate` and
// `paychan facilitator` call it, as do the embedding example and gate_load's server. It tunes
// glibc's malloc only: under tcmalloc, which paychan's programs link unless configured with
// PAYCHAN_TCMALLOC=OFF, mallopt is a no-op that reports success (tcmalloc keeps freed memory in
// caches of its own, and hands it back to the kernel at a pace of its own).
// Thread-safety: any thread; meant to be called once, at start-up.
#pragma once

#include <cstddef>

namespace paychan::engine::http {

// A heap's top is trimmed only once more than `bytes` are free there (default 64 MiB, as much as a
// thread's heap holds: those are then never trimmed, though one left wholly free is still
// unmapped), and then down to glibc's padding. Blocks of 16 MiB or more are still mapped on their
// own and returned on free, as glibc does by default for large blocks. The process keeps its
// high-water mark of memory; not a leak.
// False, with glibc's defaults left as they were, when glibc refuses either value (its limit on
// the mmap threshold is lower with huge-page heaps, glibc.malloc.hugetlb=2).
[[nodiscard]] bool retain_freed_heap(std::size_t bytes = std::size_t{64} << 20);

}  // namespace paychan::engine::http
