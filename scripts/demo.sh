#!/usr/bin/env bash
# Sets up, builds and runs the paychan demo on a fresh Debian 12 machine: Debian packages and the
# pinned npm peers (scripts/setup.sh; anvil and solc come from npm), the `paychan` target (which
# compiles the contracts), then `paychan demo` — a local chain, a facilitator, a gate, agents and
# the settle job, ending in a reconciled table (exit 0) or a mismatch (exit 1).
# Usage: scripts/demo.sh [paychan demo options, e.g. --requests 5000 --agents 8]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target paychan
exec build/apps/paychan demo "$@"
