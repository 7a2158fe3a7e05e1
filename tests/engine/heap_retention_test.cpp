// A server's freed heap stays mapped for the next burst of requests (engine/http/heap_retention.hpp).
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

// 1 MiB in blocks glibc serves from the main heap's top (too large for its per-thread caches),
// freed last first so that each joins the top again; then what the top holds (keepcost: what a
// trim would release). glibc's default trims it past 128 KiB, keeping 128 KiB of padding.
std::size_t top_after_a_freed_burst() {
  constexpr std::size_t kBlocks = 256;
  constexpr std::size_t kSize = 4096;
  std::vector<void*> blocks;
  blocks.reserve(kBlocks);
  for (std::size_t i = 0; i < kBlocks; ++i) blocks.push_back(std::malloc(kSize));
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
  return mallinfo2().keepcost;
}

TEST(HeapRetention, ABurstsFreedMemoryStaysForTheNext) {
#if defined(__SANITIZE_ADDRESS__) || PAYCHAN_CLANG_ASAN
  GTEST_SKIP() << "AddressSanitizer replaces glibc's allocator";
#else
  // In a process of its own (the binary run again for this test alone): a fresh heap, whose top
  // serves the burst, and the process-wide setting left behind in no other test's process.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        if (!retain_freed_heap()) std::_Exit(2);
        // Half the burst is asked for (a block may come from a chunk freed elsewhere): still twice
        // what glibc keeps by default.
        std::_Exit(top_after_a_freed_burst() >= (std::size_t{1} << 19) ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
#endif
}

}  // namespace
}  // namespace paychan::engine::http
