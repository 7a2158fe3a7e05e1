# check NAME EXPECTED_EXIT EXPECTED_SUBSTRING COMMAND... — runs COMMAND and counts a pass when it
# exits EXPECTED_EXIT with EXPECTED_SUBSTRING in its output (stdout and stderr), else prints why.
# Sourced by the CLI tests; they report "$pass passed, $fail failed" and exit non-zero on a failure.
pass=0
fail=0
check() {
  local name=$1 want_exit=$2 want=$3
  shift 3
  local out
  out=$("$@" 2>&1)
  local code=$?
  if [ "$code" = "$want_exit" ] && [[ "$out" == *"$want"* ]]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL %s: exit %s (want %s), output:\n%s\n' "$name" "$code" "$want_exit" "$out"
  fi
}
