// A stock x402 client — @x402/fetch's wrapFetchWithPayment with @x402/evm's batch-settlement client
// scheme, as an agent would use them — pays a URL N times. Prints one JSON line per request (the
// PAYMENT-RESPONSE as the reference decodes it, pay_and_report.mjs), then {"done": N}.
// Usage: node stock_client_pays.mjs URL N PRIVATE_KEY
import { BatchSettlementEvmScheme } from '@x402/evm/batch-settlement/client';
import { privateKeyToAccount } from 'viem/accounts';
import { payAndReport } from './pay_and_report.mjs';

const [url, countArg, key] = process.argv.slice(2);
const scheme = new BatchSettlementEvmScheme(privateKeyToAccount(key), { depositPolicy: { depositMultiplier: 5 } });
await payAndReport(url, Number(countArg), scheme);
