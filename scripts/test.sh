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
ctest --test-dir build --output-on-failure -j"$jobs"

if [ "${FUZZ_SECONDS:-10}" != 0 ]; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-10}"
fi
