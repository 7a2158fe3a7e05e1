#!/usr/bin/env bash
# Server instructions per request under bench/gate_load, counted by callgrind (repeatable on a
# loaded machine, unlike wall clock). Only the gate server's HTTP worker thread and the store's
# batch writes and voucher-log folds are counted (--toggle-collect), so neither the load generator nor the forked
# server's start-up pollutes the figures. The allocator's instructions count too: tcmalloc's
# since the programs link it (PAYCHAN_TCMALLOC), glibc's in figures before. Kernel time (syscalls, fsync) is not counted, so the
# stores are not warmed first (PAYCHAN_BENCH_COLD_LOG): their warm-up commits would count as the
# server's.
# Usage: scripts/callgrind-gate-load.sh [BUILD_DIR] [CONNECTIONS] [REQUESTS_PER_CONNECTION]
#        KEEP=dir to keep the callgrind files there (for callgrind_annotate, callgrind_per_call.py)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
connections=${2:-16}
per=${3:-100}
high=64   # the paid rows again at this many connections
per_high=$((connections * per / high > 0 ? connections * per / high : 1))
light=8
rate=200  # the moderate-load rows: requests/s, open loop (slow under valgrind, but counted the same)
paced=$((rate / light))
if [ -n "${KEEP:-}" ]; then
  out=$KEEP
  mkdir -p "$out"
  rm -f "$out"/cg.*
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
PAYCHAN_BENCH_COLD_LOG=1 valgrind --tool=callgrind --collect-atstart=no \
  --toggle-collect='std::thread::_State_impl<*Worker::start*>::_M_run()' \
  --toggle-collect='*ChannelStore::Impl::write_batch*' --toggle-collect='*ChannelStore::Impl::append_batch*' \
  --toggle-collect='*ChannelStore::Impl::fold*' \
  --callgrind-out-file="$out/cg.%p" "$build/bench/gate_load" \
  --connections "$connections" --requests-per-connection "$per" --high-connections "$high" --latency-connections "$light" --rate "$rate" \
  --slices 1 --rounds 1 >"$out/log" 2>&1
# gate_load starts one server per row, in order; the lowest pid is gate_load itself.
rows=("payment off" "paid, durable" "paid, durability off" "paid, durable, $high conn." "paid, off, $high conn." "moderate, durable: paid + free" "moderate, off: paid + free")
# The payment-off row sends four free requests for each paid one of the next (gate_load's
# kFreePerPaid); the moderate-load rows alternate paid and free requests: counted per pair.
requests=($((4 * connections * per)) $((connections * per)) $((connections * per)) $((high * per_high)) $((high * per_high)) $((light * paced)) $((light * paced)))
units=(request request request request request pair pair)
i=0
for f in $(ls "$out"/cg.* | sort -t. -k2 -n | tail -n +2); do
  total=$(grep -m1 -E '^(summary|totals):' "$f" | awk '{print $2}')
  printf '  %-30s %10.0f instructions/%s\n' "${rows[$i]}" "$(echo "$total / ${requests[$i]}" | bc -l)" "${units[$i]}"
  i=$((i + 1))
done
