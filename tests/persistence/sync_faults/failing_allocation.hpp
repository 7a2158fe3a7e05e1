// A test double for a fold that runs out of memory: this test binary's own operator new, which
// every allocation in the process links to. Told to, it fails the next allocations on the store's
// fold thread ("paychan-fold") with std::bad_alloc, as a large allocation fails while smaller ones
// still succeed, and allocates from malloc() as usual everywhere else.
//
// A double, because the fault cannot be made real here: exhausting memory for one thread of a test
// would starve the whole machine's tests (and Linux overcommits rather than failing an allocation).
#pragma once

namespace paychan::persistence::test {

// The next `n` allocations on the fold thread throw std::bad_alloc.
void fail_next_fold_allocations(int n);
// How many have failed so far.
int fold_allocations_failed();

}  // namespace paychan::persistence::test
