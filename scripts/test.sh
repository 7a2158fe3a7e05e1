#!/usr/bin/env bash
# Sets up, builds and runs paychan's whole test suite: unit, property, vector, cross-implementation
# (viem / @x402/evm) and chain tests via CTest, then every fuzz target briefly under ASan+UBSan.
# Usage: scripts/test.sh                 (FUZZ_SECONDS=N to fuzz longer, FUZZ_SECONDS=0 to skip)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=$(nproc)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ctest --test-dir build --output-on-failure -j"$jobs" | tee "$log"
tests=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$log")

fuzzers=0
if [ "${FUZZ_SECONDS:-10}" != 0 ]; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-10}" | tee "$log"
  fuzzers=$(grep -c '^fuzz: .* ok ' "$log" || true)
fi
# Reached only when every test and fuzzer passed (set -e and pipefail stop at the first failure).
echo "paychan: $((tests + fuzzers)) passed, 0 failed"
