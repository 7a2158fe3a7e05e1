#!/usr/bin/env bash
# Builds every libFuzzer target with clang under ASan+UBSan and runs each for SECONDS over its seed
# corpus (copied to a scratch directory so runs never write into the repo). Fails on any crash.
# Usage: scripts/fuzz.sh [SECONDS]      (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPAYCHAN_FUZZ=ON -DPAYCHAN_BUILD_TESTS=OFF -DPAYCHAN_BUILD_BENCH=OFF -DPAYCHAN_BUILD_APPS=OFF >/dev/null
cmake --build build-fuzz --target fuzzers -j"$(nproc)"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
for target in build-fuzz/fuzz/fuzz_*; do
  name=$(basename "$target")
  mkdir -p "$scratch/$name"
  [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$scratch/$name/"
  if "$target" "$scratch/$name" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$scratch/" -print_final_stats=1 >"$scratch/$name.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$name.log" | grep -o '[0-9]*$' || echo '?')
    printf 'fuzz: %-32s ok   %s runs in %ss\n' "$name" "$runs" "$seconds"
  else
    printf 'fuzz: %-32s FAILED\n' "$name"
    tail -n 40 "$scratch/$name.log"
    mkdir -p fuzz/artifacts && cp "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-* fuzz/artifacts/ 2>/dev/null || true
    failed=1
  fi
done
exit $failed
