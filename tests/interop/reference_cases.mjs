// Generates cross-implementation cases with the x402 reference SDK (@x402/evm, @x402/core) and viem:
// channel ids, voucher / refund / claim-batch digests and signatures, and complete
// PAYMENT-SIGNATURE headers for deposits (ERC-3009 and Permit2), as a stock x402 client makes them. paychan must agree on
// every value (tests/interop/reference_xcheck_test.cpp).
// Usage: node reference_cases.mjs OUT.json [COUNT] [SEED]
import { writeFileSync } from 'node:fs';
import { hashTypedData, keccak256, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { encodePaymentSignatureHeader } from '@x402/core/http';
import {
  BatchSettlementEvmScheme,
  computeChannelId,
  createBatchSettlementEIP3009DepositPayload,
  signVoucher,
} from '@x402/evm/batch-settlement/client';

const [out, countArg = '300', seedArg = '20261124'] = process.argv.slice(2);
const count = Number(countArg);
let state = Number(seedArg) >>> 0;
console.error(`reference_cases: ${count} cases, seed ${state}`);

// mulberry32: a small deterministic PRNG so a failing case can be regenerated from its seed.
function random32() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0);
}
const randomBytes = (n) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = random32() & 0xff; return b; };
const randomHex = (n) => toHex(randomBytes(n));
const randomAddress = () => privateKeyToAccount(randomKey()).address;  // checksummed
const pick = (xs) => xs[random32() % xs.length];
function randomKey() {
  for (;;) { const k = randomHex(32); if (BigInt(k) > 0n && BigInt(k) < 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n) return k; }
}
function randomUint(bits) {
  const edge = [0n, 1n, (1n << BigInt(bits)) - 1n, (1n << BigInt(bits - 1)), 1000n, 10000n];
  if (random32() % 4 === 0) return pick(edge);
  return BigInt(randomHex(bits / 8)) >> BigInt(random32() % bits);
}

const domain = (chainId) => ({ name: 'x402 Batch Settlement', version: '1', chainId, verifyingContract: '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003' });
const refundTypes = { Refund: [{ name: 'channelId', type: 'bytes32' }, { name: 'nonce', type: 'uint256' }, { name: 'amount', type: 'uint128' }] };
const claimTypes = {
  ClaimBatch: [{ name: 'claims', type: 'ClaimEntry[]' }],
  ClaimEntry: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint128' }, { name: 'totalClaimed', type: 'uint128' }],
};

const cases = [];
for (let i = 0; i < count; i++) {
  const key = randomKey();
  const account = privateKeyToAccount(key);
  const chainId = pick([1, 8453, 84532, 31337, 1 + (random32() % 2 ** 31), Number.MAX_SAFE_INTEGER - (random32() % 1000)]);
  const network = `eip155:${chainId}`;
  const config = {
    payer: account.address,
    payerAuthorizer: account.address,
    receiver: randomAddress(),
    receiverAuthorizer: randomAddress(),
    token: randomAddress(),
    withdrawDelay: 900 + (random32() % (2592000 - 900 + 1)),
    salt: random32() % 5 === 0 ? '0x' + '00'.repeat(32) : randomHex(32),
  };
  const channelId = computeChannelId(config, network);
  const maxClaimableAmount = randomUint(128).toString();
  const voucher = await signVoucher(account, channelId, maxClaimableAmount, network);

  const refundNonce = randomUint(256);
  const refundAmount = randomUint(128);
  const refundDigest = hashTypedData({ domain: domain(chainId), types: refundTypes, primaryType: 'Refund', message: { channelId, nonce: refundNonce, amount: refundAmount } });

  const claims = Array.from({ length: random32() % 6 }, () => ({ channelId: randomHex(32), maxClaimableAmount: randomUint(128), totalClaimed: randomUint(128) }));
  const claimDigest = hashTypedData({ domain: domain(chainId), types: claimTypes, primaryType: 'ClaimBatch', message: { claims } });
  const claimSignature = await account.signTypedData({ domain: domain(chainId), types: claimTypes, primaryType: 'ClaimBatch', message: { claims } });

  // A stock client's deposit: the SDK's own payload, wrapped and encoded as @x402/core does.
  const tokenName = pick(['USDC', 'USD Coin', 'Test Token ✓', 'x']);
  const requirements = {
    scheme: 'batch-settlement', network, amount: (1n + randomUint(64)).toString(), asset: config.token, payTo: config.receiver,
    maxTimeoutSeconds: 1 + (random32() % 3600),
    extra: { receiverAuthorizer: config.receiverAuthorizer, withdrawDelay: config.withdrawDelay, name: tokenName, version: pick(['1', '2']) },
  };
  const depositAmount = (1n + randomUint(64)).toString();
  const partial = await createBatchSettlementEIP3009DepositPayload(account, 2, requirements, config, depositAmount, requirements.amount);
  const header = encodePaymentSignatureHeader({ x402Version: 2, payload: partial.payload, resource: { url: `http://127.0.0.1/${i}` }, accepted: requirements });
  // The same offer for a token without ERC-3009: the stock client scheme's first payment, a Permit2 deposit (the SDK
  // does not export its Permit2 payload builder on its own).
  const permit2Requirements = { ...requirements, extra: { ...requirements.extra, assetTransferMethod: 'permit2' } };
  const scheme = new BatchSettlementEvmScheme(account, { depositPolicy: { depositMultiplier: 3 + (random32() % 8) } });
  const permit2Partial = await scheme.createPaymentPayload(2, permit2Requirements);
  const permit2Header = encodePaymentSignatureHeader({ x402Version: 2, payload: permit2Partial.payload, resource: { url: `http://127.0.0.1/${i}` }, accepted: permit2Requirements });

  cases.push({
    chainId, privateKey: key, address: account.address, config, channelId, voucher,
    refund: { nonce: refundNonce.toString(), amount: refundAmount.toString(), digest: refundDigest },
    claimBatch: { claims: claims.map((c) => ({ channelId: c.channelId, maxClaimableAmount: c.maxClaimableAmount.toString(), totalClaimed: c.totalClaimed.toString() })), digest: claimDigest, signature: claimSignature },
    deposit: { header, collector: '0x4020806089470a89826cB9fB1f4059150b550004', tokenName: requirements.extra.name, tokenVersion: requirements.extra.version },
    permit2Deposit: { header: permit2Header, collector: '0x4020425FAf3B746C082C2f942b4E5159887B0005' },
  });
}
writeFileSync(out, JSON.stringify({ generator: 'viem 2.57.20 + @x402/evm 2.27.0 + @x402/core 2.27.0', seed: Number(seedArg), cases }));
console.error(`reference_cases: wrote ${cases.length} cases to ${out}`);
