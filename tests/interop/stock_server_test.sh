#!/usr/bin/env bash
# The other interop direction: a paychan agent pays a stock x402 resource server (the reference
# @x402/core HTTP resource server with @x402/evm's batch-settlement server scheme, stock_server.mjs),
# and that stock server talks to OUR `paychan facilitator` over HTTP for /supported, /verify and
# /settle. Every part is its own process on a devnet anvil. Checks every paid body, the agent's own
# books, the reference channel manager's claim + settle through our facilitator (money on chain at
# payTo), and a cooperative refund the agent asks the stock server for.
# Usage: stock_server_test.sh PATH_TO_PAYCHAN PATH_TO_STOCK_SERVER_MJS
set -uo pipefail
paychan=$1
stock_server=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
command -v node >/dev/null || { echo "SKIP: no node"; exit 77; }
# shellcheck source=../cli/check.sh
. "$(dirname "$0")/../cli/check.sh"
# shellcheck source=../cli/devnet.sh
. "$(dirname "$0")/../cli/devnet.sh"
start_devnet 4
start_facilitator
agent_key=$(json "$work/devnet.json" 'j.accounts[2].privateKey')
agent_address=$(PAYCHAN_KEY=$agent_key "$paychan" key address | address_of)
check "facilitator advertises its authorizer" 0 "$authorizer" curl -s "$facilitator/supported"

# The stock server reads our /supported at start-up and takes its receiverAuthorizer from there.
node "$stock_server" "$facilitator" "$token" "$pay_to" "$server_token" >"$work/stock.out" 2>"$work/stock.out.err" &
pids+=($!)
wait_for "$work/stock.out" port
server="http://127.0.0.1:$(port_of "$work/stock.out")"
api="$server/v1/infer"
check "the stock server's offer names our authorizer" 0 "$authorizer" \
  sh -c "curl -s -D - -o /dev/null -X POST '$api' | sed -n 's/^payment-required: //Ip' | tr -d '\r' | base64 -d"

agent=(--state "$work/agent.sqlite" --rpc "$rpc" --deposit-requests 5)
before=$(usdc_of "$agent_address")
requests=12  # a deposit of the server's minimum (7 calls, above our 5), vouchers, then a top-up
for i in $(seq "$requests"); do
  check "paid request $i" 0 '{"answer":42}' env PAYCHAN_KEY="$agent_key" "$paychan" pay "$api" -d '{}' "${agent[@]}"
done
total=$((requests * 10000))
check "the agent's channel: a deposit and a top-up of the server's minimum, 7 calls" 0 \
  "\"deposited\":\"140000\",\"balance\":\"140000\",\"charged\":\"$total\"" env PAYCHAN_KEY="$agent_key" "$paychan" channels "${agent[@]}"
check "the stock server's books agree" 0 "\"chargedCumulativeAmount\":\"$total\",\"signedMaxClaimable\":\"$total\"" \
  curl -s "$server/admin/channels"
check "the stock server saw every deposit" 0 '"balance":"140000","totalClaimed":"0"' curl -s "$server/admin/channels"

# The reference channel manager claims and settles through OUR facilitator.
check "reference claimAndSettle through our facilitator" 0 '"settle":{"transaction":"0x' \
  curl -s -X POST "$server/admin/claim-and-settle"
check "payTo received every charge" 0 "$total" usdc_of "$pay_to"
check "a second claimAndSettle finds nothing" 0 '{"claims":[]}' curl -s -X POST "$server/admin/claim-and-settle"

# Paying goes on after the claim; then the agent asks the stock server for a cooperative refund.
check "paid after the claim" 0 '{"answer":42}' env PAYCHAN_KEY="$agent_key" "$paychan" pay "$api" -d '{}' "${agent[@]}"
total=$((total + 10000))
channel=$(PAYCHAN_KEY=$agent_key "$paychan" channels "${agent[@]}" | sed -n 's/.*"channelId":"\(0x[0-9a-f]*\)".*/\1/p' | head -1)
check "refund through the stock server" 0 '"transaction":"0x' \
  env PAYCHAN_KEY="$agent_key" "$paychan" refund "$channel" "${agent[@]}"
check "the agent paid exactly for its calls" 0 "$((before - total))" usdc_of "$agent_address"
check "the refunded channel leaves the stock server's books" 0 '[]' curl -s "$server/admin/channels"
check "settle what the refund claimed" 0 '{"transaction":"0x' curl -s -X POST "$server/admin/settle"
check "payTo received every call" 0 "$total" usdc_of "$pay_to"

# A second agent loses its local state: it recovers the channel from the chain, and the stock server's
# corrective 402 (channelState + voucherState) tells it what it had already signed.
agent2_key=$(json "$work/devnet.json" 'j.accounts[0].privateKey')
agent2_address=$(PAYCHAN_KEY=$agent2_key "$paychan" key address | address_of)
before2=$(usdc_of "$agent2_address")
for i in 1 2 3; do
  check "second agent: paid request $i" 0 '{"answer":42}' \
    env PAYCHAN_KEY="$agent2_key" "$paychan" pay "$api" -d '{}' --state "$work/agent2.sqlite" --rpc "$rpc" --deposit-requests 5
done
agent2=(--state "$work/agent2-restored.sqlite" --rpc "$rpc" --deposit-requests 5)
check "second agent: paid with a fresh store" 0 '{"answer":42}' bash -c '"$@" 2>"$0"' "$work/restored.log" \
  env PAYCHAN_KEY="$agent2_key" "$paychan" pay "$api" -d '{}' -v "${agent2[@]}"
check "second agent: adopted the stock server's corrective state" 0 "adopting the server's running total 30000" \
  cat "$work/restored.log"
check "second agent: its restored channel" 0 '"charged":"40000"' env PAYCHAN_KEY="$agent2_key" "$paychan" channels "${agent2[@]}"
channel2=$(PAYCHAN_KEY=$agent2_key "$paychan" channels "${agent2[@]}" | sed -n 's/.*"channelId":"\(0x[0-9a-f]*\)".*/\1/p' | head -1)

# The provider ends the channel itself: the reference channel manager's refund through our facilitator.
check "the stock server refunds a channel" 0 "\"channel\":\"$channel2\",\"transaction\":\"0x" \
  curl -s -X POST "$server/admin/refund?channel=$channel2"
check "the second agent paid exactly its 4 calls" 0 "$((before2 - 40000))" usdc_of "$agent2_address"
check "settle the refund's claim" 0 '{"transaction":"0x' curl -s -X POST "$server/admin/settle"
total=$((total + 40000))
check "payTo received every call of both agents" 0 "$total" usdc_of "$pay_to"
check "the second agent pays on after the provider's refund" 0 '{"answer":42}' \
  env PAYCHAN_KEY="$agent2_key" "$paychan" pay "$api" -d '{}' "${agent2[@]}"
check "second agent: topped up the refunded channel" 0 \
  '"balance":"110000","charged":"50000","signedMax":"50000"' env PAYCHAN_KEY="$agent2_key" "$paychan" channels "${agent2[@]}"
check "second agent: the channel is not suspended" 0 '"withdrawInitiatedAt":0,"status":"open"' \
  env PAYCHAN_KEY="$agent2_key" "$paychan" channels "${agent2[@]}"

# An agent whose --max-deposit is below the stock server's enforced minimum is refused with the
# reference's code, and nothing of its money moves.
agent3_key=$(json "$work/devnet.json" 'j.accounts[3].privateKey')
agent3_address=$(PAYCHAN_KEY=$agent3_key "$paychan" key address | address_of)
before3=$(usdc_of "$agent3_address")
check "a deposit capped below the server's minimum is refused" 1 "invalid_batch_settlement_evm_deposit_below_min_deposit" \
  env PAYCHAN_KEY="$agent3_key" "$paychan" pay "$api" -d '{}' --state "$work/agent3.sqlite" --rpc "$rpc" --max-deposit '$0.05'
check "the refused agent kept its money" 0 "$before3" usdc_of "$agent3_address"

# The same agent pays the stock server's Permit2 route: refused until it approves Permit2 for the token
# (by our facilitator with the reference's code; with --rpc, by the agent itself before it signs any permit),
# then its Permit2 deposit lands through our facilitator.
permit2_api="$server/permit2/infer"
check "a Permit2 deposit before approving Permit2 is refused by the facilitator" 1 \
  "refused the payment: invalid_batch_settlement_evm_permit2_allowance_required: the payer $agent3_address must first approve Permit2" \
  env PAYCHAN_KEY="$agent3_key" "$paychan" pay "$permit2_api" -d '{}' --state "$work/agent3-norpc.sqlite"
agent3=(--state "$work/agent3-permit2.sqlite" --rpc "$rpc")
check "with --rpc the agent signs no permit before the approval" 1 "nothing signed: the payer $agent3_address must first approve Permit2" \
  env PAYCHAN_KEY="$agent3_key" "$paychan" pay "$permit2_api" -d '{}' "${agent3[@]}"
check "the payer approves Permit2 (paychan approve)" 0 '"before":"0","allowance":"115792089237316195423570985008687907853269984665640564039457584007913129639935","transactions":["0x' \
  env PAYCHAN_KEY="$agent3_key" "$paychan" approve "$token" --rpc "$rpc"
check "approving again sends nothing" 0 '"transactions":[]}' env PAYCHAN_KEY="$agent3_key" "$paychan" approve "$token" --rpc "$rpc"
for i in 1 2; do
  check "paid by Permit2, request $i" 0 '{"answer":42}' env PAYCHAN_KEY="$agent3_key" "$paychan" pay "$permit2_api" -d '{}' "${agent3[@]}"
done
check "the Permit2 deposit: the agent's default 100 calls" 0 '"deposited":"1000000","balance":"1000000","charged":"20000"' \
  env PAYCHAN_KEY="$agent3_key" "$paychan" channels "${agent3[@]}"
check "the deposit left the payer's account" 0 "$((before3 - 1000000))" usdc_of "$agent3_address"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
