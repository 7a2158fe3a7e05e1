#!/usr/bin/env bash
# Requests/s and latency percentiles of the HTTP layer: builds bench/http_echo_server, pins it
# (one worker thread) to core 0 and drives it with wrk over keep-alive connections from the other
# cores. The server answers through the plain-function fast path, so this measures the transport.
# Usage: scripts/bench-http.sh [SECONDS] [CONNECTIONS]     (defaults: 10, 50)
#        BUILD_DIR=dir to build in another directory (default: build)
#        PIPELINE=N to send N pipelined requests per write (default: 1, no pipelining)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-50}
build=${BUILD_DIR:-build}
pipeline=${PIPELINE:-1}

if ! command -v wrk >/dev/null; then
  echo "bench-http: installing wrk (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi
[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target http_echo_server -j"$(nproc)" >/dev/null

cores=$(nproc)
client_cores=$([ "$cores" -gt 1 ] && echo "1-$((cores - 1))" || echo 0)
log=$(mktemp)
taskset -c 0 "$build/bench/http_echo_server" 0 1 >"$log" &
server=$!
script=$(mktemp --suffix=.lua)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -f "$log" "$script"' EXIT
# wrk sends what request() returns as one write: N requests back to back when pipelining.
cat >"$script" <<LUA
init = function(args)
  local batch = {}
  for i = 1, $pipeline do batch[i] = wrk.format() end
  pipelined = table.concat(batch)
end
request = function() return pipelined end
LUA
for _ in $(seq 100); do
  grep -q '^listening on' "$log" && break
  sleep 0.1
done
port=$(awk '/^listening on/ {print $3}' "$log")
[ -n "$port" ] || { echo "bench-http: the server did not start" >&2; exit 1; }

echo "http_echo_server: 1 worker on core 0; wrk: 1 thread on core(s) $client_cores," \
  "$connections keep-alive connections, $pipeline request(s) per write, ${seconds}s"
taskset -c "$client_cores" wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$script" "http://127.0.0.1:$port/"
