#!/usr/bin/env bash
# The paychan tool end to end: known answers from tests/vectors, exit codes, --help on every
# command, clear errors on bad input, and a key that never appears in any output.
# Usage: cli_test.sh PATH_TO_PAYCHAN
set -uo pipefail
paychan=$1
# shellcheck source=check.sh
. "$(dirname "$0")/check.sh"
key=0x3c8ef5dfeb55bb926a7d81ba4bd20da93602f3b615860e8bda7b41b87ef8e119  # tests/vectors key 0
config='{"payer":"0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a","payerAuthorizer":"0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a","receiver":"0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902","receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8","token":"0xA331d0E957513E3882845CC0af837d838f9d3BBe","withdrawDelay":900,"salt":"0x0000000000000000000000000000000000000000000000000000000000000000"}'
id=0xf632fd7f59b600f9412deab1233c4a0a0a05f80d24a1b07a8ff050499eb8fdc9
sig=0x79a639586d5094d45fa975dcd6fe5c5e15ad4685242ae28f83fa8efdf08486556d06a2d5958bc03e01535e727e291c0021098575ce340c5f019f823838c28c821c
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check "help lists commands" 0 "voucher verify" "$paychan" --help
for c in demo gate settle facilitator pay channels refund withdraw approve devnet channel-id "voucher sign" "voucher verify" decode "key new" "key address" "key token"; do
  # shellcheck disable=SC2086
  check "help of $c" 0 "usage: paychan $c" "$paychan" $c --help
done
check "unknown command" 2 "unknown command" "$paychan" frobnicate
check "pay teaches accepting a provider's state" 0 "--accept-provider-state" "$paychan" pay --help
check "pay takes --accept-provider-state as a flag" 2 "one URL expected" "$paychan" pay --accept-provider-state
check "pay --max-time wants a duration" 2 "--max-time soon: a duration like 60s" \
  env PAYCHAN_KEY=$key "$paychan" pay http://127.0.0.1:9/ --max-time soon --state "$work/pay-max-time.sqlite"
check "refund takes --accept-provider-state as a flag" 2 "CHANNEL_ID expected" "$paychan" refund --accept-provider-state
check "approve needs a token" 2 "TOKEN expected" "$paychan" approve
check "approve checks the token's address" 2 "TOKEN: " "$paychan" approve 0x1234
check "approve takes base units, dollars or max" 2 "--amount 1.5: a positive whole number of base units, \$D (whole tokens, e.g. \$50), or max" \
  "$paychan" approve 0xA331d0E957513E3882845CC0af837d838f9d3BBe --amount 1.5
check "approve checks a dollar amount before the chain" 2 "--amount \$1x: a positive whole number" \
  "$paychan" approve 0xA331d0E957513E3882845CC0af837d838f9d3BBe --amount '$1x'
check "approve needs --rpc" 2 "--rpc URL is required" \
  env -u PAYCHAN_RPC PAYCHAN_KEY=$key "$paychan" approve 0xA331d0E957513E3882845CC0af837d838f9d3BBe
check "approve says an unreachable node" 2 "--rpc http://127.0.0.1:9: " \
  env PAYCHAN_KEY=$key "$paychan" approve 0xA331d0E957513E3882845CC0af837d838f9d3BBe --rpc http://127.0.0.1:9
check "a flag takes no value" 2 "option --accept-provider-state takes no value" "$paychan" pay --accept-provider-state=no http://x/
check "channel-id vector" 0 "\"channelId\":\"$id\"" bash -c "echo '$config' | '$paychan' channel-id --chain-id 31337"
check "channel-id needs a chain" 2 "--chain-id N is required" bash -c "echo '$config' | '$paychan' channel-id"
check "channel-id bad json" 2 "invalid_payload" bash -c "echo '{\"payer\":1}' | '$paychan' channel-id --chain-id 1"
# voucher sign of the JSON $1, with key $2 (default: the vectors' key 0).
sign() { echo "$1" | PAYCHAN_KEY=${2:-$key} "$paychan" voucher sign --chain-id 31337; }
check "sign vector" 0 "\"signature\":\"$sig\"" sign "{\"channelId\":\"$id\",\"maxClaimableAmount\":\"1\"}"
check "sign from config" 0 "\"channelId\":\"$id\"" sign "{\"channelConfig\":$config,\"maxClaimableAmount\":\"1\"}"
check "sign from config and its own channelId" 0 "\"channelId\":\"$id\"" \
  sign "{\"channelConfig\":$config,\"channelId\":\"$id\",\"maxClaimableAmount\":\"1\"}"
check "sign refuses a channelId that is not the config's" 2 "is not the channelConfig's $id" \
  sign "{\"channelConfig\":$config,\"channelId\":\"0x${id:3}1\",\"maxClaimableAmount\":\"1\"}"
check "sign refuses a member it does not know" 2 "price" \
  sign "{\"channelId\":\"$id\",\"maxClaimableAmount\":\"1\",\"price\":\"1\"}"
check "sign refuses a key that is not the payerAuthorizer" 2 "its vouchers would not verify" \
  sign "{\"channelConfig\":$config,\"maxClaimableAmount\":\"1\"}" 0x30d35d7acd56db858942e2bd990d278a27fe0c54947045fc75a7a3804f20f5a2
check "verify valid" 0 '"valid":true' bash -c \
  "echo '{\"channelConfig\":$config,\"voucher\":{\"channelId\":\"$id\",\"maxClaimableAmount\":\"1\",\"signature\":\"$sig\"}}' | '$paychan' voucher verify --chain-id 31337"
check "verify other amount" 1 "invalid_batch_settlement_evm_voucher_signature" bash -c \
  "echo '{\"channelConfig\":$config,\"voucher\":{\"channelId\":\"$id\",\"maxClaimableAmount\":\"2\",\"signature\":\"$sig\"}}' | '$paychan' voucher verify --chain-id 31337"
check "verify other chain" 1 "channel_id_mismatch" bash -c \
  "echo '{\"channelConfig\":$config,\"voucher\":{\"channelId\":\"$id\",\"maxClaimableAmount\":\"1\",\"signature\":\"$sig\"}}' | '$paychan' voucher verify --chain-id 8453"
check "verify with --signer" 0 '"valid":true' bash -c \
  "echo '{\"voucher\":{\"channelId\":\"$id\",\"maxClaimableAmount\":\"1\",\"signature\":\"$sig\"}}' | '$paychan' voucher verify --chain-id 31337 --signer 0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a"
# payerAuthorizer zero: an EOA payer's own signature is what the contract accepts; another
# signer (or a smart wallet) cannot be accepted without the chain.
zero_auth=${config/\"payerAuthorizer\":\"0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a\"/\"payerAuthorizer\":\"0x0000000000000000000000000000000000000000\"}
other_key=0x30d35d7acd56db858942e2bd990d278a27fe0c54947045fc75a7a3804f20f5a2  # tests/vectors key 1
for signer in "$key" "$other_key"; do
  echo "{\"channelConfig\":$zero_auth,\"maxClaimableAmount\":\"5\"}" |
    PAYCHAN_KEY=$signer "$paychan" voucher sign --chain-id 31337 > "$work/v-${signer:2:4}.json" 2>>"$work/v-other.err"
done
check "zero authorizer, another key signs with a warning" 0 "verifies only if the payer is a wallet" \
  cat "$work/v-other.err"
check "zero authorizer, payer signs" 0 '"valid":true' "$paychan" voucher verify --chain-id 31337 \
  "$(printf '{"channelConfig":%s,"voucher":%s}' "$zero_auth" "$(cat "$work/v-${key:2:4}.json")")"
check "zero authorizer, other signer" 1 "EIP-1271" "$paychan" voucher verify --chain-id 31337 \
  "$(printf '{"channelConfig":%s,"voucher":%s}' "$zero_auth" "$(cat "$work/v-${other_key:2:4}.json")")"
# A smart wallet's longer signature (its 65 bytes then more): only the chain can check it.
check "zero authorizer, smart wallet" 1 "only the chain can check it" "$paychan" voucher verify --chain-id 31337 \
  "$(printf '{"channelConfig":%s,"voucher":{"channelId":"%s","maxClaimableAmount":"1","signature":"%s"}}' "$zero_auth" "$id" "${sig}00ff")"
check "decode spec response" 0 '"network": "eip155:84532"' "$paychan" decode \
  eyJzdWNjZXNzIjp0cnVlLCJ0cmFuc2FjdGlvbiI6IjB4MTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWYxMjM0NTY3ODkwYWJjZGVmMTIzNDU2Nzg5MGFiY2RlZiIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9
check "decode garbage" 2 "malformed_base64" "$paychan" decode 'not base64!'
printf '%s\n' eyJzdWNjZXNzIjp0cnVlLCJ0cmFuc2FjdGlvbiI6IiIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIifQ== > "$work/response.b64"
check "decode reads a file" 0 '"network": "eip155:84532"' "$paychan" decode "$work/response.b64"
check "decode of a missing file says it is no file" 2 "no file missing exists" bash -c "cd '$work' && '$(realpath "$paychan")' decode missing"
check "decode reads stdin" 0 '"network": "eip155:84532"' bash -c "'$paychan' decode < '$work/response.b64'"
printf '{"channelConfig":%s,"voucher":{"channelId":"%s","maxClaimableAmount":"1","signature":"%s"}}' "$config" "$id" "$sig" > "$work/check.json"
check "verify reads a file" 0 '"valid":true' "$paychan" voucher verify --chain-id 31337 "$work/check.json"
check "verify reads a pipe" 0 '"valid":true' bash -c "'$paychan' voucher verify --chain-id 31337 <(cat '$work/check.json')"
check "verify of a directory says so" 2 "is a directory" "$paychan" voucher verify --chain-id 31337 "$work"
check "verify of a missing file says so" 2 "missing.json (no such file)" "$paychan" voucher verify --chain-id 31337 "$work/missing.json"
check "decode wrong schema" 1 "not a valid PAYMENT-RESPONSE" "$paychan" decode "$(printf '{"success":"yes"}' | base64 -w0)"
check "unknown option" 2 "unknown option --bogus" "$paychan" channel-id --chain-id 1 --bogus 2
check "an option without its value does not take the next option" 2 "option --config needs a value (--every is an option)" \
  "$paychan" settle --config --every 5m
check "a command group's help lists its commands" 0 "paychan key token" "$paychan" key --help
check "a command group without a command is a usage error" 2 "usage: paychan voucher SUBCOMMAND" "$paychan" voucher
check "output that cannot be written is no success" 1 "could not write its output to stdout" \
  sh -c "PAYCHAN_KEY=$key '$paychan' key address --key-env PAYCHAN_KEY >/dev/full"
check "a misspelt option does not take the next as its value" 2 "unknown option --chain" \
  "$paychan" channel-id --chain 1 --bogus
check "version" 0 "paychan 0." "$paychan" --version
check "an extra argument is refused, not ignored" 2 "unexpected argument 'extra.json'" \
  bash -c "echo '$config' | '$paychan' channel-id --chain-id 1 - extra.json"
check "no key says how to give one" 2 "set PAYCHAN_KEY, or pass --key-file" env -u PAYCHAN_KEY "$paychan" channels
check "a directory is no config file" 2 "is a directory" "$paychan" gate --config "$work"
check "an amount finer than the token is refused, not rounded to 0" 2 "finer than the token's 6 decimals" \
  env PAYCHAN_KEY=$key "$paychan" channels --state "$work/s.sqlite" --budget '$0.0000009'
check "key new" 0 '"address":"0x' "$paychan" key new --out "$work/k"
check "key new refuses overwrite" 2 "exists" "$paychan" key new --out "$work/k"
check "key file is 0600" 0 "600" stat -c %a "$work/k"
chmod 644 "$work/k"
check "loose key file refused" 2 "chmod 600" "$paychan" key address --key-file "$work/k"
check "key token" 0 "" "$paychan" key token --out "$work/t"
check "key token is the owner's only: pct_ and 64 hex digits" 0 "600 pct_ 69" \
  sh -c "{ stat -c %a '$work/t'; head -c 4 '$work/t'; echo; wc -c <'$work/t'; } | tr '\n' ' '"
check "key token refuses overwrite" 2 "exists" "$paychan" key token --out "$work/t"
check "key env" 0 "0x7e61CfaE98771d63AE3B3258bb9C4353F052C87a" env PAYCHAN_KEY=$key "$paychan" key address
check "bad key env" 2 "does not hold" env PAYCHAN_KEY=0x00 "$paychan" key address
# The key never appears in anything the tool prints, even on errors.
out=$(PAYCHAN_KEY=$key "$paychan" key address 2>&1; PAYCHAN_KEY=${key}ff "$paychan" key address 2>&1)
if [[ "$out" == *"${key:2}"* ]]; then fail=$((fail + 1)); echo "FAIL key printed"; else pass=$((pass + 1)); fi
# Nor when it is pasted where a file path or a variable's name belongs.
for pasted in "--key-env $key" "--key-file $key" "--key-file ${key:2}" "--authorizer-key-file $key"; do
  # shellcheck disable=SC2086
  check "a key pasted as ${pasted%% *} is refused" 2 "is a key itself, or looks like one (not shown)" \
    env PAYCHAN_KEY=$key "$paychan" channels --state "$work/s.sqlite" $pasted
  # shellcheck disable=SC2086
  out=$(PAYCHAN_KEY=$key "$paychan" channels --state "$work/s.sqlite" $pasted 2>&1)
  if [[ "$out" == *"${key:2}"* ]]; then fail=$((fail + 1)); echo "FAIL key echoed: $out"; else pass=$((pass + 1)); fi
done
check "gate needs a config" 2 "--config FILE is required" "$paychan" gate
# The example configuration: refused by name until its two placeholders are filled in, then a gate.
"$paychan" gate --example-config >"$work/example.json"
check "gate's example config names what to fill in" 2 "payTo" "$paychan" gate --config "$work/example.json"
sed -e 's|"0x<[^"]*>"|"0x1111111111111111111111111111111111111111"|g' -e "s|paychan-gate.sqlite|$work/example.sqlite|" \
  -e 's|:8402"|:0"|' -e 's|:9402"|:0"|' -e 's|:4021"|:9"|' "$work/example.json" >"$work/example-filled.json"
"$paychan" gate --config "$work/example-filled.json" >"$work/example.out" 2>"$work/example.err" &
example_pid=$!
for _ in $(seq 100); do grep -q port "$work/example.out" 2>/dev/null && break; sleep 0.05; done
example_port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/example.out")
check "gate's example config, filled in, starts a gate that offers its routes" 0 "402" \
  curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$example_port/v1/chat"
kill -TERM "$example_pid"
wait "$example_pid"
check "gate missing config" 2 "invalid_config" "$paychan" gate --config "$work/none.json"
echo '{"network":"eip155:1","routes":[]}' >"$work/bad-gate.json"
check "gate bad config" 2 "invalid_config" "$paychan" gate --config "$work/bad-gate.json"
cat >"$work/gate.json" <<JSON
{"network":"eip155:31337","asset":{"address":"0xA331d0E957513E3882845CC0af837d838f9d3BBe","name":"USDC","version":"2"},
 "payTo":"0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902","receiverAuthorizer":"0x8e73d351DA173229f35Ef3FBd20B512594DE23D8",
 "store":"$work/gate.sqlite","routes":[{"path":"/x","price":"\$0.01"}]}
JSON
check "gate needs an upstream" 2 "no upstream" "$paychan" gate --config "$work/gate.json"
check "a config from a pipe is read" 2 "no upstream" bash -c "'$paychan' gate --config <(cat '$work/gate.json')"
sed 's|"path":"/x"|"path":"/metrics"|' "$work/gate.json" >"$work/gate-metrics-route.json"
check "a route on /metrics needs /metrics moved" 2 "routes[0].path" "$paychan" gate --config "$work/gate-metrics-route.json"
check "--metrics-listen moves /metrics before the routes are checked" 2 "no upstream" \
  "$paychan" gate --config "$work/gate-metrics-route.json" --metrics-listen 127.0.0.1:0
check "settle reads a file whose /metrics route its gate's --metrics-listen allows" 2 "no facilitator" \
  "$paychan" settle --config "$work/gate-metrics-route.json"
check "gate bad listen" 2 "listen" "$paychan" gate --config "$work/gate.json" --upstream http://127.0.0.1:9 --listen nowhere
check "gate bad --grace-seconds" 2 "--grace-seconds must be 0..3600" \
  "$paychan" gate --config "$work/gate.json" --upstream http://127.0.0.1:9 --grace-seconds forever
# Started for real, it answers 402 with an offer, then stops cleanly on SIGTERM.
"$paychan" gate --config "$work/gate.json" --upstream http://127.0.0.1:9 --listen 127.0.0.1:0 >"$work/gate.out" 2>"$work/gate.err" &
gate_pid=$!
for _ in $(seq 100); do grep -q port "$work/gate.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/gate.out")
check "gate answers 402" 0 "402" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/x"
check "a gate without a facilitator says what that means" 0 "no \"facilitator\" configured" cat "$work/gate.err"
check "gate healthz" 0 "ok" curl -s "http://127.0.0.1:$port/healthz"
# The price /x offers now, from its 402's PAYMENT-REQUIRED.
offered() {
  curl -s -D - -o /dev/null "http://127.0.0.1:$port/x" | tr -d '\r' | sed -n 's/^payment-required: //Ip' |
    "$paychan" decode - | sed -n 's/.*"amount": *"\([0-9]*\)".*/\1/p'
}
check "gate offers its price" 0 "10000" offered
sed -i 's|"price":"\$0.01"|"price":"\$0.02"|' "$work/gate.json"
hangup "$gate_pid" "$work/gate.err" 1
check "SIGHUP reloads the gate's routes" 0 "SIGHUP: reloaded $work/gate.json" cat "$work/gate.err"
check "the reload lists the routes" 0 "route (any method) /x: 20000 atomic units" cat "$work/gate.err"
check "the reloaded price is offered at once" 0 "20000" offered
sed -i -e 's|0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902|0x0000000000000000000000000000000000000001|' \
  -e 's|"price":"\$0.02"|"price":"\$0.03"|' "$work/gate.json"
hangup "$gate_pid" "$work/gate.err" 2
check "a reload changing payTo is refused" 0 "SIGHUP: reload refused, serving on as before: " cat "$work/gate.err"
check "the refusal names payTo" 0 "payTo changed, which only a restart applies" cat "$work/gate.err"
check "a refused reload changes no price" 0 "20000" offered
kill -TERM "$gate_pid"
wait "$gate_pid"
check "gate stopped cleanly" 0 "0 connections still open" cat "$work/gate.err"
# A configuration from a pipe is read once: a SIGHUP says so, and does not wait on the pipe (a
# named one's open would wait for a writer); a SIGTERM after it still stops the gate, within 10 s.
mkfifo "$work/gate.fifo"
for config in <(cat "$work/gate.json") "$work/gate.fifo"; do
  [ "$config" = "$work/gate.fifo" ] && { cat "$work/gate.json" >"$config" & }
  "$paychan" gate --config "$config" --upstream http://127.0.0.1:9 --listen 127.0.0.1:0 \
    >"$work/gate-pipe.out" 2>"$work/gate-pipe.err" &
  gate_pid=$!
  for _ in $(seq 100); do grep -q port "$work/gate-pipe.out" 2>/dev/null && break; sleep 0.05; done
  hangup "$gate_pid" "$work/gate-pipe.err" 1
  check "a SIGHUP does not read a pipe again ($config)" 0 "is not a regular file (a pipe is read once, at start)" \
    cat "$work/gate-pipe.err"
  kill -TERM "$gate_pid"
  for _ in $(seq 200); do kill -0 "$gate_pid" 2>/dev/null || break; sleep 0.05; done
  check "a gate given a pipe stops on SIGTERM after a SIGHUP ($config)" 1 "" kill -0 "$gate_pid"
  kill -KILL "$gate_pid" 2>/dev/null
  wait "$gate_pid" 2>/dev/null
done
check "devnet checks where --out goes before it starts a chain" 2 "--out $work/missing/devnet.json: no directory" \
  timeout 30 "$paychan" devnet --port 0 --out "$work/missing/devnet.json"
check "one key, not two" 2 "--key-file and --key-env name two keys" \
  "$paychan" key address --key-file "$work/none.key" --key-env PAYCHAN_KEY
check "decode --as names a header it knows, before decoding" 2 "--as FOO: PAYMENT-SIGNATURE, PAYMENT-REQUIRED or PAYMENT-RESPONSE" \
  "$paychan" decode --as FOO eyJzdWNjZXNzIjp0cnVlfQ==
check "an amount option says what it takes" 2 "--budget abc: not an amount: atomic units (10000) or dollars (\$0.01)" \
  env PAYCHAN_KEY=$key "$paychan" pay http://127.0.0.1:9/ --budget abc --state "$work/budget-abc.sqlite"
check "channels reads a store, never makes one" 2 "no agent store at $work/typo-agent.sqlite" \
  env PAYCHAN_KEY=$key "$paychan" channels --state "$work/typo-agent.sqlite"
check "channels created no store" 1 "" test -e "$work/typo-agent.sqlite"
check "settle needs a config" 2 "--config FILE is required" "$paychan" settle
check "facilitator needs a config" 2 "--config FILE is required" "$paychan" facilitator
echo '{"networks": {"base": "http://127.0.0.1:8545"}, "signerKeyFile": "k"}' > "$work/facilitator.json"
check "facilitator names a bad network" 2 "networks.base" "$paychan" facilitator --config "$work/facilitator.json"
echo '{"networks": {"eip155:1": "http://127.0.0.1:9"}, "signerKeyFile": "k", "receiverAuthorizerKeyFile": "a"}' > "$work/facilitator.json"
check "facilitator's authorizer key needs clients" 2 'needs "clients"' "$paychan" facilitator --config "$work/facilitator.json"
check "settle needs a facilitator" 2 "no facilitator" "$paychan" settle --config "$work/gate.json"
sed 's|^{|{"facilitatorTokenFile": "'"$work/missing.token"'", |' "$work/gate.json" >"$work/gate-token.json"
check "settle, unreadable facilitator token" 2 "facilitatorTokenFile: token file" \
  "$paychan" settle --config "$work/gate-token.json" --facilitator http://127.0.0.1:9
sed 's|^{|{"facilitatorTokenFile": "missing.token", |' "$work/gate.json" >"$work/gate-relative-token.json"
check "a relative file not found says where it was looked for" 2 "missing.token not found (looked for in the working directory $work)" \
  sh -c "p=\$(realpath '$paychan') && cd '$work' && \"\$p\" settle --config gate-relative-token.json --facilitator http://127.0.0.1:9"
check "settle bad --every" 2 "--every" "$paychan" settle --config "$work/gate.json" --facilitator http://127.0.0.1:9 --every soon
check "settle --refund-checks needs --rpc" 2 "it needs --rpc" \
  env -u PAYCHAN_RPC "$paychan" settle --config "$work/gate.json" --facilitator http://127.0.0.1:9 --refund-checks 10
check "settle bad --refund-checks" 2 "--refund-checks must be 0..100000" \
  "$paychan" settle --config "$work/gate.json" --facilitator http://127.0.0.1:9 --refund-checks many --rpc http://127.0.0.1:9
check "settle bad --forget-closed-after" 2 "--forget-closed-after: 1d to 366d" \
  "$paychan" settle --config "$work/gate.json" --facilitator http://127.0.0.1:9 --forget-closed-after 400d
check "settle too short --forget-closed-after" 2 "--forget-closed-after: 1d to 366d" \
  "$paychan" settle --config "$work/gate.json" --facilitator http://127.0.0.1:9 --forget-closed-after 30
check "settle --forget-closed-after never" 0 "0 channels claimed" \
  "$paychan" settle --config "$work/gate.json" --facilitator http://127.0.0.1:9 --no-sweep --forget-closed-after never
check "settle nothing to claim" 0 "0 channels claimed" "$paychan" settle --config "$work/gate.json" --facilitator http://127.0.0.1:9 --no-sweep
check "settle --quiet with nothing to do says nothing" 0 "said nothing" \
  sh -c "out=\$('$paychan' settle --config '$work/gate.json' --facilitator http://127.0.0.1:9 --no-sweep --quiet 2>&1) && [ -z \"\$out\" ] && echo said nothing"
sed "s|$work/gate.sqlite|$work/typo.sqlite|" "$work/gate.json" >"$work/gate-typo.json"
check "settle refuses a store that does not exist" 2 "no gate store at $work/typo.sqlite" \
  "$paychan" settle --config "$work/gate-typo.json" --facilitator http://127.0.0.1:9 --no-sweep
check "settle creates no store" 1 "" test -e "$work/typo.sqlite"
# A "store" that names another kind of file is refused (and left as it was), not migrated into.
check "pay makes an agent store" 2 "http_connect_failed" env PAYCHAN_KEY=$key "$paychan" pay http://127.0.0.1:9/ --state "$work/kind-agent.sqlite"
sed "s|$work/gate.sqlite|$work/kind-agent.sqlite|" "$work/gate.json" >"$work/gate-kind.json"
check "settle refuses an agent's store as a gate's" 2 "kind-agent.sqlite is an agent's store, not a gate's channel store" \
  "$paychan" settle --config "$work/gate-kind.json" --facilitator http://127.0.0.1:9 --no-sweep
printf 'not a database\n%.0s' $(seq 300) >"$work/notes.sqlite"
sed "s|$work/gate.sqlite|$work/notes.sqlite|" "$work/gate.json" >"$work/gate-notes.json"
check "settle refuses a file that is no database" 2 "file is not a database" \
  "$paychan" settle --config "$work/gate-notes.json" --facilitator http://127.0.0.1:9 --no-sweep
check "settle, node down, is to be tried again" 3 "http_connect_failed" \
  "$paychan" settle --config "$work/gate.json" --facilitator http://127.0.0.1:9 --rpc http://127.0.0.1:9
check "settle, facilitator down" 3 "facilitator_unavailable" "$paychan" settle --config "$work/gate.json" --facilitator http://127.0.0.1:9 --timeout 2s
check "settle refuses a second run" 3 "another settle run" \
  flock "$work/gate.sqlite.settle.lock" "$paychan" settle --config "$work/gate.json" --facilitator http://127.0.0.1:9
# One process per agent store: a second waits while another holds it (here a lock held for 2 s),
# then goes on.
: >"$work/agent.sqlite"  # an empty file is an empty SQLite store (channels makes none)
flock "$work/agent.sqlite.lock" sleep 2 &
sleep 0.3
started=$(date +%s%N)
check "agent store: a second process waits for the first" 0 "signedTotal" \
  sh -c "env PAYCHAN_KEY=$key '$paychan' channels --state '$work/agent.sqlite' 2>'$work/waited.err'"
waited_ms=$((($(date +%s%N) - started) / 1000000))
check "agent store: it waited (${waited_ms} ms)" 0 "" test "$waited_ms" -ge 1500
check "agent store: it said it waits" 0 "paychan: waiting up to 30s for another paychan process using the agent store" \
  cat "$work/waited.err"
wait
# The demo itself runs in demo_test.sh (cli.demo); here only its option checks, which need no chain.
check "demo agents bound" 2 "--agents must be 1..64" "$paychan" demo --agents 0
check "demo fewer requests than agents" 2 "at least --agents" "$paychan" demo --requests 2 --agents 3

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
