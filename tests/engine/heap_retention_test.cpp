// A server's freed heap stays mapped for the next burst of requests (engine/http/heap_retention.hpp).
// Each test runs in its own process (gtest_discover_tests), so the process-wide setting is this one's.
#include "engine/http/heap_retention.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <vector>

// clang says so by __has_feature, gcc by __SANITIZE_ADDRESS__.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PAYCHAN_CLANG_ASAN 1
#endif
#endif
#ifndef PAYCHAN_CLANG_ASAN
#define PAYCHAN_CLANG_ASAN 0
#endif

namespace paychan::engine::http {
namespace {

TEST(HeapRetention, ABurstsFreedMemoryStaysForTheNext) {
#if defined(__SANITIZE_ADDRESS__) || PAYCHAN_CLANG_ASAN
  GTEST_SKIP() << "AddressSanitizer replaces glibc's allocator";
#else
  retain_freed_heap();
  // 1 MiB in blocks glibc serves from the heap's top (too large for its per-thread caches), freed
  // last first so that each joins the top again. By default glibc hands the top back to the kernel
  // past 128 KiB (plus 128 KiB of padding kept).
  constexpr std::size_t kBlocks = 256;
  constexpr std::size_t kSize = 4096;
  std::vector<void*> blocks;
  blocks.reserve(kBlocks);
  for (std::size_t i = 0; i < kBlocks; ++i) blocks.push_back(std::malloc(kSize));
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
  // keepcost: the main heap's top, what a trim would release. Some blocks may have come from freed
  // chunks elsewhere, so half the burst is asked for, still twice what glibc keeps by default.
  EXPECT_GE(mallinfo2().keepcost, kBlocks * kSize / 2);
#endif
}

}  // namespace
}  // namespace paychan::engine::http
