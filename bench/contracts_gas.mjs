// Gas of paychan's batch-settlement contract on anvil (Prague rules), measured from receipts:
// claimWithSignature batches of 1, 10 and 100 channels (gas per channel = gasUsed / channels, 21,000 base
// included), receiver-sent claim, the settle sweep, deposits through the ERC-3009 collector, and one ERC-20
// transfer (what paying on-chain per request would cost). Every channel has its own payer, like separate agents.
// Usage: node bench/contracts_gas.mjs [ARTIFACTS_DIR]   (default $PAYCHAN_CONTRACTS_DIR, else build/contracts)
import { keccak256, toHex } from 'viem';
import {
  account,
  channelConfig,
  claimRow,
  depositWithReferenceClient,
  mint,
  send,
  setupChain,
  signClaimBatch,
} from '../tests/contracts/channel_fixture.mjs';

process.env.PAYCHAN_CONTRACTS_DIR = process.argv[2] ?? process.env.PAYCHAN_CONTRACTS_DIR ?? 'build/contracts';

const DEPOSIT = 5_000_000n; // $5 per channel
const VOUCHER = 1_230_000n; // $1.23 claimed per channel (123 requests at $0.01)
const receiver = account('bench receiver');
const receiverAuthorizer = account('bench receiver authorizer');
const rows = [];

/// Intrinsic calldata gas of a transaction input: 4 per zero byte, 16 per non-zero byte.
function calldataGas(input) {
  let gas = 0;
  for (let i = 2; i < input.length; i += 2) gas += input.slice(i, i + 2) === '00' ? 4 : 16;
  return gas;
}

async function measure(ctx, label, channels, receipt) {
  const tx = await ctx.client.getTransaction({ hash: receipt.transactionHash });
  const gas = Number(receipt.gasUsed);
  rows.push({ label, channels, gas, perChannel: channels ? gas / channels : undefined, calldata: calldataGas(tx.input) });
}

async function openChannels(ctx, count, { tag, randomSalt }) {
  const opened = [];
  for (let i = 0; i < count; i++) {
    const payer = account(`bench payer ${tag} ${i}`);
    const salt = randomSalt ? keccak256(toHex(`salt ${tag} ${i}`)) : toHex(0n, { size: 32 });
    const config = channelConfig(ctx, { payer, receiver, receiverAuthorizer, salt });
    await mint(ctx, payer, DEPOSIT * 2n);
    const { receipt, channelId } = await depositWithReferenceClient(ctx, payer, config, DEPOSIT);
    opened.push({ payer, config, channelId, receipt });
  }
  return opened;
}

async function claimBatch(ctx, label, channels) {
  const entries = [];
  for (const c of channels) entries.push({ row: await claimRow(ctx, c.payer, c.config, c.channelId, VOUCHER), channelId: c.channelId });
  const signature = await signClaimBatch(ctx, receiverAuthorizer, entries);
  const receipt = await send(ctx, { functionName: 'claimWithSignature', args: [entries.map((e) => e.row), signature] });
  await measure(ctx, label, channels.length, receipt);
}

const ctx = await setupChain();
try {
  const first = await openChannels(ctx, 111, { tag: 'zero-salt' });
  await measure(ctx, 'deposit via ERC-3009 collector (opens channel)', 0, first[0].receipt);
  const topUp = await depositWithReferenceClient(ctx, first[0].payer, first[0].config, DEPOSIT);
  await measure(ctx, 'deposit via ERC-3009 collector (top-up)', 0, topUp.receipt);

  await claimBatch(ctx, 'claimWithSignature, 1 channel', first.slice(0, 1));
  await measure(ctx, 'settle sweep (receiver had no tokens)', 0,
    await send(ctx, { functionName: 'settle', args: [receiver.address, ctx.token] }));
  await claimBatch(ctx, 'claimWithSignature, 10 channels', first.slice(1, 11));
  await claimBatch(ctx, 'claimWithSignature, 100 channels', first.slice(11, 111));
  await measure(ctx, 'settle sweep (receiver holds tokens)', 0,
    await send(ctx, { functionName: 'settle', args: [receiver.address, ctx.token] }));

  const salted = await openChannels(ctx, 100, { tag: 'random-salt', randomSalt: true });
  await claimBatch(ctx, 'claimWithSignature, 100 channels, random salts', salted);

  const direct = [];
  for (const c of first.slice(11, 111)) direct.push(await claimRow(ctx, c.payer, c.config, c.channelId, 2n * VOUCHER));
  await ctx.client.setBalance({ address: receiverAuthorizer.address, value: 10n ** 20n });
  await measure(ctx, 'claim (sent by receiverAuthorizer), 100 channels', 100,
    await send(ctx, { functionName: 'claim', args: [direct], account: receiverAuthorizer }));

  const payer = account('bench token holder');
  await ctx.client.setBalance({ address: payer.address, value: 10n ** 20n });
  await mint(ctx, payer, DEPOSIT);
  const transfer = (to) => send(ctx, { address: ctx.token, abi: ctx.abi.token, functionName: 'transfer', args: [to, 10_000n], account: payer });
  await measure(ctx, 'ERC-20 transfer to a new holder', 0, await transfer(account('bench new holder').address));
  await measure(ctx, 'ERC-20 transfer to an existing holder', 0, await transfer(receiver.address));
} finally {
  await ctx.stop();
}

const pad = (s, n) => String(s).padStart(n);
console.log(`${'operation'.padEnd(50)}${pad('gas', 10)}${pad('gas/channel', 13)}${pad('calldata/ch', 13)}`);
for (const r of rows) {
  const per = r.perChannel === undefined ? '' : Math.round(r.perChannel).toLocaleString('en-US');
  const cd = r.channels ? Math.round(r.calldata / r.channels).toLocaleString('en-US') : '';
  console.log(`${r.label.padEnd(50)}${pad(r.gas.toLocaleString('en-US'), 10)}${pad(per, 13)}${pad(cd, 13)}`);
}
const b10 = rows.find((r) => r.label === 'claimWithSignature, 10 channels');
const b100 = rows.find((r) => r.label === 'claimWithSignature, 100 channels');
console.log(`marginal gas per extra channel (10 -> 100): ${Math.round((b100.gas - b10.gas) / 90).toLocaleString('en-US')}`);
