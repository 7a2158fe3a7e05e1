// Shared by the stock-client scripts: pays URL COUNT times through @x402/fetch with a reference
// client scheme, printing one JSON line per request — {"status", "body", "chargedAmount",
// "chargedCumulativeAmount", "channelId", "transaction"}, the PAYMENT-RESPONSE as the reference
// decodes it — then {"done": COUNT}.
import { x402Client } from '@x402/core/client';
import { decodePaymentResponseHeader, wrapFetchWithPayment } from '@x402/fetch';

export async function payAndReport(url, count, scheme) {
  const client = x402Client.fromConfig({ schemes: [{ network: 'eip155:31337', client: scheme }], spendControls: false });
  const pay = wrapFetchWithPayment(fetch, client);
  for (let i = 0; i < count; i++) {
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
  console.log(JSON.stringify({ done: count }));
}
