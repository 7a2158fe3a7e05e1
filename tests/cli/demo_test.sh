#!/usr/bin/env bash
# `paychan demo` end to end on a real anvil: exit 0 with a reconciled table, every key line present,
# and nothing left behind — no file in its TMPDIR, no anvil or gate still listening.
# Usage: demo_test.sh PATH_TO_PAYCHAN
set -uo pipefail
paychan=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/tmp"

TMPDIR="$work/tmp" "$paychan" demo --requests 200 --agents 2 >"$work/out" 2>"$work/err"
code=$?
if [ "$code" = 2 ] && grep -q "anvil" "$work/err"; then
  echo "SKIP: no anvil ($(cat "$work/err"))"
  exit 77
fi
fail=0
expect() {  # expect FILE TEXT
  if ! grep -qF -- "$2" "$1"; then
    echo "FAIL: $(basename "$1") lacks: $2"
    fail=1
  fi
}
expect_re() {  # expect_re FILE REGEX
  if ! grep -qE -- "$2" "$1"; then
    echo "FAIL: $(basename "$1") has no line matching: $2"
    fail=1
  fi
}
[ "$code" = 0 ] || { echo "FAIL: exit $code (want 0)"; fail=1; }
expect_re "$work/out" "requests paid +200 of 200 "
expect "$work/out" "vouchers verified by the gate"
expect "$work/out" "µs per check"
expect "$work/out" "deposits (+ top-ups)"
expect_re "$work/out" "claims \(claimWithSignature\) +1 "
expect_re "$work/out" "settle \(sweep to payTo\) +1 "
expect_re "$work/out" "vs one ERC-20 transfer per request +200 "
expect "$work/out" "agents (2)"
expect "$work/out" "provider (payTo)"
for check in "gate store's Σ charged" "claimed on chain (Σ totalClaimed)" "payTo's balance increase" \
  "agents' decrease − left in channels" "contract's increase = left in channels" "channel balances"; do
  expect "$work/out" "$check"
done
if grep -q "MISMATCH" "$work/out"; then echo "FAIL: a figure does not reconcile"; fail=1; fi
expect "$work/out" "RECONCILED: every figure agrees"
expect "$work/err" "200 / 200 paid"

# Nothing left behind: the demo's files are gone and the ports it served on are closed.
if [ -n "$(ls -A "$work/tmp")" ]; then echo "FAIL: files left in TMPDIR: $(ls -A "$work/tmp")"; fail=1; fi
for port in $(grep -oE '127\.0\.0\.1:[0-9]+' "$work/err" | cut -d: -f2 | sort -u); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "FAIL: port $port still open"; fail=1; fi
done

if [ "$fail" != 0 ]; then
  echo "--- stdout"; cat "$work/out"; echo "--- stderr"; cat "$work/err"
  exit 1
fi
echo "demo reconciled; nothing left behind"
