#include "failing_allocation.hpp"

#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

namespace paychan::persistence::test {
namespace {

std::atomic<int> to_fail{0};
std::atomic<int> failed{0};

bool on_fold_thread() noexcept {
  char name[16] = {};
  return pthread_getname_np(pthread_self(), name, sizeof name) == 0 && std::strcmp(name, "paychan-fold") == 0;
}

}  // namespace

void fail_next_fold_allocations(int n) { to_fail = n; }
int fold_allocations_failed() { return failed; }

}  // namespace paychan::persistence::test

// Replaces the library's: operator new[] and the default operator delete (free()) follow it.
void* operator new(std::size_t size) {
  using namespace paychan::persistence::test;
  if (to_fail.load(std::memory_order_relaxed) > 0 && on_fold_thread() && to_fail.fetch_sub(1) > 0) {
    ++failed;
    throw std::bad_alloc();
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
