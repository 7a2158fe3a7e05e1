#include "engine/http/heap_retention.hpp"

#include <malloc.h>

#include <algorithm>
#include <climits>

namespace paychan::engine::http {

bool retain_freed_heap(std::size_t bytes) {
  // Setting the trim threshold also freezes glibc's mmap threshold, which otherwise rises with the
  // large blocks a program frees (up to 32 MiB): it is fixed first, so that large response bodies
  // keep coming from the heap rather than from an mmap and a munmap each. Should glibc refuse
  // it, the trim threshold is left alone too: it would freeze the mmap threshold at 128 KiB.
  constexpr int kMmapThreshold = 16 << 20;
  if (mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 0) return false;
  return mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<std::size_t>(bytes, INT_MAX))) != 0;
}

}  // namespace paychan::engine::http
