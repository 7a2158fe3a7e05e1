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
# hangup PID LOG N — sends SIGHUP to PID and waits (up to 30 s) for the Nth SIGHUP outcome
# ("SIGHUP: ...", a reload or its refusal) in the service's LOG; a failure when it never comes.
hangup() {
  kill -HUP "$1"
  for _ in $(seq 300); do [ "$(grep -c "SIGHUP: " "$2")" -ge "$3" ] && return; sleep 0.1; done
  echo "FAIL: $2 never showed SIGHUP outcome $3"; fail=$((fail + 1))
}
