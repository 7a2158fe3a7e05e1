#!/usr/bin/env bash
# The hot path's figures, twice: wall clock (Google Benchmark, noisy on a shared machine) and
# instructions per call under callgrind (repeatable), each as a ratio to a bare libsecp256k1
# recover measured in the same run. Needs a build (build/) and valgrind + python3.
# Usage: scripts/bench-hot-path.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bench=$build/bench/bench_channel
"$bench" --benchmark_min_time=1 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$bench" \
  --benchmark_filter='BM_PaidVoucherPath$|BM_Secp256k1RecoverBare' --benchmark_min_time=0.3 >/dev/null 2>&1
python3 - "$out" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split('\n')
names, calls, cost, callee = {}, {}, {}, None
for i, line in enumerate(lines):
    m = re.match(r'^(c?)fn=\((\d+)\)(?: (.*))?$', line)
    if m:
        if m.group(3): names[m.group(2)] = m.group(3)
        callee = m.group(2) if m.group(1) else None
        continue
    m = re.match(r'^calls=(\d+)', line)
    if m and callee:
        fields = lines[i + 1].split()
        calls[callee] = calls.get(callee, 0) + int(m.group(1))
        cost[callee] = cost.get(callee, 0) + (int(fields[1]) if len(fields) > 1 else 0)
        callee = None
per_call = {}
for k, name in names.items():
    for key in ('paid_voucher_path', 'decode_payment_signature', 'recover_signer'):
        if key in name and k in calls: per_call[key] = cost[k] / calls[k]
    if name == 'secp256k1_ecdsa_recover' and k in calls: per_call['secp256k1_ecdsa_recover'] = cost[k] / calls[k]
base = per_call['secp256k1_ecdsa_recover']
print('\ninstructions per call (callgrind):')
for key, value in per_call.items(): print(f'  {key:28s} {value:10.0f}  {value / base:5.3f} x bare recover')
PY
