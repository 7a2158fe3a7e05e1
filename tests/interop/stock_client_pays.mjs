// A stock x402 client — @x402/fetch's wrapFetchWithPayment with @x402/evm's batch-settlement client
// scheme, as an agent would use them — pays a URL N times. Prints one JSON line per request:
// {"status", "chargedAmount", "chargedCumulativeAmount", "channelId", "transaction"} (the
// PAYMENT-RESPONSE as the reference decodes it), then {"done": N}.
// Usage: node stock_client_pays.mjs URL N PRIVATE_KEY
import { x402Client } from '@x402/core/client';
import { decodePaymentResponseHeader, wrapFetchWithPayment } from '@x402/fetch';
import { BatchSettlementEvmScheme } from '@x402/evm/batch-settlement/client';
import { privateKeyToAccount } from 'viem/accounts';

const [url, countArg, key] = process.argv.slice(2);
const account = privateKeyToAccount(key);
const scheme = new BatchSettlementEvmScheme(account, { depositPolicy: { depositMultiplier: 5 } });
const client = x402Client.fromConfig({ schemes: [{ network: 'eip155:31337', client: scheme }], spendControls: false });
const pay = wrapFetchWithPayment(fetch, client);

for (let i = 0; i < Number(countArg); i++) {
  const res = await pay(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const header = res.headers.get('PAYMENT-RESPONSE');
  const settle = header ? decodePaymentResponseHeader(header) : undefined;
  console.log(JSON.stringify({
    status: res.status,
    body: await res.text(),
    chargedAmount: settle?.extra?.chargedAmount,
    chargedCumulativeAmount: settle?.extra?.channelState?.chargedCumulativeAmount,
    channelId: settle?.extra?.channelState?.channelId,
    transaction: settle?.transaction,
  }));
}
console.log(JSON.stringify({ done: Number(countArg) }));
