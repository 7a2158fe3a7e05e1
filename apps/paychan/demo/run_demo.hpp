// `paychan demo` from start to finish: a local chain with paychan's contracts, a facilitator and a
// gate in front of a toy inference API, agents paying it concurrently, the operator's settle job,
// then the figures and their reconciliation (report.hpp). Everything it starts — anvil, the gate's
// server, the agents' threads — is stopped, and every file it writes removed, before it returns.
// Thread-safety: call from the main thread (anvil lives as long as the calling thread).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace paychan::cli::demo {

struct DemoOptions {
  std::uint64_t requests = 2000;  // paid requests in all
  std::size_t agents = 4;
  std::size_t batchSize = 100;  // claims per claimWithSignature transaction
};

// Returns the exit status: 0 when every figure reconciles, 1 when one does not (or a request,
// claim or sweep failed), 2 when the demo could not be set up. `stop` (e.g. set on SIGINT) ends
// the agents early; the demo then still cleans up and exits non-zero.
[[nodiscard]] int run_demo(const DemoOptions& options, const std::atomic<bool>& stop);

}  // namespace paychan::cli::demo
