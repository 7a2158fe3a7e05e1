#include "engine/http/heap_retention.hpp"

#include <malloc.h>

#include <algorithm>
#include <climits>

namespace paychan::engine::http {

void retain_freed_heap(std::size_t bytes) {
  // Setting the trim threshold also freezes glibc's mmap threshold, which otherwise rises with the
  // large blocks a program frees (up to 32 MiB); it is fixed here instead, so that large response
  // bodies keep coming from the heap rather than from an mmap and a munmap each.
  constexpr int kMmapThreshold = 16 << 20;
  (void)mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  (void)mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min<std::size_t>(bytes, INT_MAX)));
}

}  // namespace paychan::engine::http
