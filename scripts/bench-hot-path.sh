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
echo
echo 'instructions per call (callgrind):'
python3 scripts/callgrind_per_call.py --relative-to secp256k1_ecdsa_recover "$out" \
  'paid_voucher_path=paid_voucher_path\(' 'decode_payment_signature=decode_payment_signature\(' \
  'recover_signer=^paychan::recover_signer\(' 'secp256k1_ecdsa_recover=^secp256k1_ecdsa_recover$'
