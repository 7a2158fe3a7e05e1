# Helpers for the tests that run paychan's processes on a `paychan devnet` chain. Sourced after
# `work` (a scratch directory) and `pids` (an array the caller's cleanup kills) are set.
#   start_devnet ACCOUNTS   starts the chain; sets rpc and token; exits 77 (skip) without anvil
#   wait_for FILE PATTERN   waits up to 30 s for PATTERN in FILE
#   json FILE EXPR          a JavaScript expression over the parsed FILE (as j)
#   port_of FILE            the N of a {"port":N} line
#   address_of              the address of a {"address":"0x…"} line on stdin
#   usdc_of ADDRESS         ADDRESS's test token balance, read on chain (eth_call balanceOf)
#   start_facilitator       `paychan facilitator` on that chain: dev account 1 relays, a new key is the
#                           receiverAuthorizer; sets facilitator (its URL), authorizer, pay_to (a new
#                           address), server_token (the token file of the one client, acting for pay_to)
#                           and facilitator_pid
wait_for() {
  for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "FAIL: $1 never showed $2"; cat "$1" "$1.err" 2>/dev/null; exit 1
}
json() { node -e "const j=JSON.parse(require('fs').readFileSync(process.argv[1]));console.log($2)" "$1"; }
port_of() { sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$1"; }
address_of() { sed -n 's/.*"address":"\(0x[0-9a-fA-F]*\)".*/\1/p'; }
usdc_of() {
  node -e '
    const [rpc, token, owner] = process.argv.slice(1);
    const data = "0x70a08231" + owner.slice(2).toLowerCase().padStart(64, "0");
    fetch(rpc, {method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({jsonrpc: "2.0", id: 1, method: "eth_call", params: [{to: token, data}, "latest"]})})
      .then(r => r.json()).then(j => console.log(BigInt(j.result).toString()));' "$rpc" "$token" "$1"
}
start_devnet() {
  "$paychan" devnet --port 0 --accounts "$1" --out "$work/devnet.json" >"$work/devnet.out" 2>"$work/devnet.err" &
  pids+=($!)
  for _ in $(seq 300); do [ -s "$work/devnet.json" ] && break; sleep 0.1; done
  if [ ! -s "$work/devnet.json" ]; then
    if grep -q "anvil\|contracts. target" "$work/devnet.err"; then echo "SKIP: $(head -1 "$work/devnet.err")"; exit 77; fi
    echo "FAIL: devnet did not start"; cat "$work/devnet.err"; exit 1
  fi
  rpc=$(json "$work/devnet.json" j.rpcUrl)
  token=$(json "$work/devnet.json" j.asset.address)
}
start_facilitator() {
  (umask 077; json "$work/devnet.json" 'j.accounts[1].privateKey' >"$work/signer.key")
  authorizer=$("$paychan" key new --out "$work/authorizer.key" | address_of)
  pay_to=$("$paychan" key new --out "$work/payto.key" | address_of)
  server_token="$work/server.token"
  "$paychan" key token --out "$server_token"
  cat >"$work/facilitator.json" <<JSON
{"networks": {"eip155:31337": "$rpc"}, "signerKeyFile": "$work/signer.key",
 "receiverAuthorizerKeyFile": "$work/authorizer.key", "journal": "$work/facilitator.sqlite", "listen": "127.0.0.1:0",
 "clients": [{"name": "server", "tokenFile": "$server_token", "receivers": ["$pay_to"]}]}
JSON
  "$paychan" facilitator --config "$work/facilitator.json" >"$work/facilitator.out" 2>"$work/facilitator.out.err" &
  facilitator_pid=$!
  pids+=("$facilitator_pid")
  wait_for "$work/facilitator.out" port
  facilitator="http://127.0.0.1:$(port_of "$work/facilitator.out")"
}
