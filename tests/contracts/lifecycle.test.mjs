// A channel's life on a real EVM (anvil), paychan's contracts at the canonical addresses: deposit through the
// ERC-3009 collector (authorization signed by the reference client), claims by the receiver and by a relayed
// ClaimBatch, the settle sweep, cooperative refunds, the timed withdrawal with a watchtower claim, and a deployment
// at fresh addresses. Tests run in order and build on each other's channels.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toHex } from 'viem';
import {
  account,
  channelConfig,
  channelId,
  claimRow,
  depositWithReferenceClient,
  fund,
  mint,
  read,
  readToken,
  revertOf,
  send,
  settlementEvents,
  setupChain,
  signClaimBatch,
  signDepositAuthorization,
  signRefund,
  signVoucher,
} from './channel_fixture.mjs';

const receiver = account('receiver one');
const receiverTwo = account('receiver two');
const receiverAuthorizer = account('receiver authorizer');
const stranger = account('stranger');
const payers = Object.fromEntries(['A', 'B', 'C', 'D', 'E', 'F'].map((p) => [p, account(`payer ${p}`)]));

let ctx;
const channels = {}; // label -> {config, id}

async function open(label, to, amount) {
  const payer = payers[label];
  const config = channelConfig(ctx, { payer, receiver: to, receiverAuthorizer });
  await mint(ctx, payer, amount);
  const { channelId: id } = await depositWithReferenceClient(ctx, payer, config, amount);
  channels[label] = { config, id };
  return channels[label];
}

const names = (receipt) => settlementEvents(ctx, receipt).map((e) => e.eventName);

before(async () => {
  ctx = await setupChain();
  for (const who of [receiver, receiverTwo, stranger, payers.D]) await fund(ctx, who);
});
after(() => ctx?.stop());

test('a deposit through the canonical collector, signed by the reference client, opens and tops up a channel', async () => {
  const payer = payers.A;
  const config = channelConfig(ctx, { payer, receiver, receiverAuthorizer });
  await mint(ctx, payer, 1_000_000n);
  const { receipt, channelId: id, collectorData } = await depositWithReferenceClient(ctx, payer, config, 600_000n);
  channels.A = { config, id };

  assert.equal(id, await channelId(ctx, config), 'the reference client and the contract agree on the channel id');
  const [created, deposited] = settlementEvents(ctx, receipt);
  assert.deepEqual(created, { eventName: 'ChannelCreated', args: { channelId: id, config } });
  assert.deepEqual(deposited, {
    eventName: 'Deposited',
    args: { channelId: id, sender: ctx.relayer, amount: 600_000n, newBalance: 600_000n },
  });
  assert.deepEqual(await read(ctx, 'channels', [id]), [600_000n, 0n]);
  assert.equal(await readToken(ctx, 'balanceOf', [ctx.settlement]), 600_000n);
  assert.equal(await readToken(ctx, 'balanceOf', [ctx.collector]), 0n, 'the collector forwards everything');
  assert.equal(await readToken(ctx, 'balanceOf', [payer.address]), 400_000n);

  const replay = await revertOf(ctx, { functionName: 'deposit', args: [config, 600_000n, ctx.collector, collectorData] });
  assert.equal(replay.errorName, 'ERC3009UsedAuthorization', 'an authorization funds one deposit only');

  const topUp = await depositWithReferenceClient(ctx, payer, config, 100_000n);
  assert.deepEqual(names(topUp.receipt), ['Deposited'], 'no second ChannelCreated for a funded channel');
  assert.deepEqual(await read(ctx, 'channels', [id]), [700_000n, 0n]);
});

test('claim: the receiver side claims a voucher; a total at or below the claimed one is a no-op', async () => {
  const { config, id } = channels.A;
  const row = await claimRow(ctx, payers.A, config, id, 100_000n, 80_000n);
  const receipt = await send(ctx, { functionName: 'claim', args: [[row]], account: receiver });
  assert.deepEqual(settlementEvents(ctx, receipt), [
    {
      eventName: 'Claimed',
      args: { channelId: id, sender: receiver.address, claimAmount: 80_000n, newTotalClaimed: 80_000n },
    },
  ]);
  assert.deepEqual(await read(ctx, 'channels', [id]), [700_000n, 80_000n]);
  assert.deepEqual(await read(ctx, 'receivers', [receiver.address, ctx.token]), [80_000n, 0n]);

  const replayed = await send(ctx, { functionName: 'claim', args: [[row]], account: receiver });
  const backwards = await claimRow(ctx, payers.A, config, id, 100_000n, 50_000n);
  const older = await send(ctx, { functionName: 'claim', args: [[backwards]], account: receiver });
  assert.deepEqual([names(replayed), names(older)], [[], []]);
  assert.deepEqual(await read(ctx, 'channels', [id]), [700_000n, 80_000n], 'totalClaimed never goes backwards');

  // The receiverAuthorizer may claim too (it needs gas like any sender).
  await fund(ctx, receiverAuthorizer);
  const rest = await claimRow(ctx, payers.A, config, id, 100_000n);
  const byAuthorizer = await send(ctx, { functionName: 'claim', args: [[rest]], account: receiverAuthorizer });
  assert.equal(settlementEvents(ctx, byAuthorizer)[0].args.claimAmount, 20_000n);
  assert.deepEqual(await read(ctx, 'receivers', [receiver.address, ctx.token]), [100_000n, 0n]);
});

test('claimWithSignature: one relayed batch over several channels, receivers and a channel claimed twice', async () => {
  await open('B', receiver, 100_000n);
  await open('C', receiverTwo, 100_000n);
  await open('D', receiver, 100_000n);
  const rows = [
    ['A', 150_000n, 150_000n],
    ['B', 40_000n, 40_000n],
    ['C', 30_000n, 30_000n],
    ['D', 20_000n, 20_000n],
    ['B', 60_000n, 60_000n],
  ];
  const entries = [];
  for (const [label, max, total] of rows) {
    const { config, id } = channels[label];
    entries.push({ row: await claimRow(ctx, payers[label], config, id, max, total), channelId: id });
  }
  const signature = await signClaimBatch(ctx, receiverAuthorizer, entries);
  const receipt = await send(ctx, {
    functionName: 'claimWithSignature',
    args: [entries.map((e) => e.row), signature],
    account: stranger,
  });
  const claimed = settlementEvents(ctx, receipt).map((e) => [e.args.channelId, e.args.sender, e.args.claimAmount]);
  assert.deepEqual(claimed, [
    [channels.A.id, stranger.address, 50_000n],
    [channels.B.id, stranger.address, 40_000n],
    [channels.C.id, stranger.address, 30_000n],
    [channels.D.id, stranger.address, 20_000n],
    [channels.B.id, stranger.address, 20_000n],
  ]);
  assert.deepEqual(await read(ctx, 'channels', [channels.B.id]), [100_000n, 60_000n]);
  assert.deepEqual(await read(ctx, 'receivers', [receiver.address, ctx.token]), [100_000n + 50_000n + 60_000n + 20_000n, 0n]);
  assert.deepEqual(await read(ctx, 'receivers', [receiverTwo.address, ctx.token]), [30_000n, 0n]);
});

test('settle sweeps everything claimed for (receiver, token) in one transfer; a second sweep is a no-op', async () => {
  const receipt = await send(ctx, { functionName: 'settle', args: [receiver.address, ctx.token], account: stranger });
  assert.deepEqual(settlementEvents(ctx, receipt), [
    {
      eventName: 'Settled',
      args: { receiver: receiver.address, token: ctx.token, sender: stranger.address, amount: 230_000n },
    },
  ]);
  assert.equal(await readToken(ctx, 'balanceOf', [receiver.address]), 230_000n);
  assert.deepEqual(await read(ctx, 'receivers', [receiver.address, ctx.token]), [230_000n, 230_000n]);
  const again = await send(ctx, { functionName: 'settle', args: [receiver.address, ctx.token] });
  assert.deepEqual(names(again), []);
  assert.equal(await readToken(ctx, 'balanceOf', [receiver.address]), 230_000n);

  await send(ctx, { functionName: 'settle', args: [receiverTwo.address, ctx.token] });
  assert.equal(await readToken(ctx, 'balanceOf', [receiverTwo.address]), 30_000n);
  // Escrow left: A 700k-150k, B 100k-60k, C 100k-30k, D 100k-20k.
  assert.equal(await readToken(ctx, 'balanceOf', [ctx.settlement]), 550_000n + 40_000n + 70_000n + 80_000n);
});

test('refundWithSignature returns unclaimed escrow to the payer, capped, and advances the nonce every time', async () => {
  const { config, id } = channels.C; // balance 100,000, claimed 30,000
  assert.equal(await read(ctx, 'refundNonce', [id]), 0n);
  const signature = await signRefund(ctx, receiverAuthorizer, id, 0n, 20_000n);
  const receipt = await send(ctx, {
    functionName: 'refundWithSignature',
    args: [config, 20_000n, 0n, signature],
    account: stranger,
  });
  assert.deepEqual(settlementEvents(ctx, receipt), [
    { eventName: 'Refunded', args: { channelId: id, sender: stranger.address, amount: 20_000n } },
  ]);
  assert.equal(await readToken(ctx, 'balanceOf', [payers.C.address]), 20_000n);
  assert.deepEqual(await read(ctx, 'channels', [id]), [80_000n, 30_000n]);
  assert.equal(await read(ctx, 'refundNonce', [id]), 1n);

  const all = await signRefund(ctx, receiverAuthorizer, id, 1n, 10n ** 30n);
  const capped = await send(ctx, { functionName: 'refundWithSignature', args: [config, 10n ** 30n, 1n, all] });
  assert.equal(settlementEvents(ctx, capped)[0].args.amount, 50_000n, 'capped to balance - totalClaimed');
  assert.deepEqual(names(capped), ['Refunded'], 'no ChannelClosed while claims are recorded');
  assert.deepEqual(await read(ctx, 'channels', [id]), [30_000n, 30_000n]);

  const nothing = await send(ctx, { functionName: 'refund', args: [config, 5n], account: receiverTwo });
  assert.deepEqual(names(nothing), [], 'nothing left: no transfer, no event');
  assert.equal(await read(ctx, 'refundNonce', [id]), 3n, 'but the nonce still advances');
});

test('refund by the receiver drains an unclaimed channel and closes it', async () => {
  const { config, id } = await open('E', receiver, 50_000n);
  const receipt = await send(ctx, { functionName: 'refund', args: [config, 50_000n], account: receiver });
  assert.deepEqual(settlementEvents(ctx, receipt), [
    { eventName: 'Refunded', args: { channelId: id, sender: receiver.address, amount: 50_000n } },
    { eventName: 'ChannelClosed', args: { channelId: id, config } },
  ]);
  assert.deepEqual(await read(ctx, 'channels', [id]), [0n, 0n]);
  assert.equal(await readToken(ctx, 'balanceOf', [payers.E.address]), 50_000n);
});

/// Runs `body` on a snapshot and reverts the chain afterwards: the clock moved by evm_increaseTime stays behind.
async function onSnapshot(body) {
  const snapshot = await ctx.client.snapshot();
  try {
    await body();
  } finally {
    await ctx.client.revert({ id: snapshot });
  }
}

test('timed withdrawal: initiate, a watchtower claim inside the window, finalize after the delay (capped)', () =>
  onSnapshot(async () => {
    const { config, id } = channels.D; // balance 100,000, claimed 20,000
    const payer = payers.D;
    const initiated = await send(ctx, { functionName: 'initiateWithdraw', args: [config, 80_000n], account: payer });
    const { timestamp } = await ctx.client.getBlock({ blockHash: initiated.blockHash });
    assert.deepEqual(settlementEvents(ctx, initiated), [
      { eventName: 'WithdrawInitiated', args: { channelId: id, amount: 80_000n, finalizeAfter: Number(timestamp) + 900 } },
    ]);
    assert.deepEqual(await read(ctx, 'pendingWithdrawals', [id]), [80_000n, Number(timestamp)]);
    const early = await revertOf(ctx, { functionName: 'finalizeWithdraw', args: [config], account: payer.address });
    assert.equal(early.errorName, 'WithdrawDelayNotElapsed');

    // The receiver claims what it is owed before the delay runs out.
    const row = await claimRow(ctx, payer, config, id, 50_000n);
    await send(ctx, { functionName: 'claim', args: [[row]], account: receiver });

    await ctx.client.increaseTime({ seconds: 900 });
    await ctx.client.mine({ blocks: 1 });
    const finalized = await send(ctx, { functionName: 'finalizeWithdraw', args: [config], account: payer });
    assert.deepEqual(settlementEvents(ctx, finalized), [
      { eventName: 'WithdrawFinalized', args: { channelId: id, sender: payer.address, amount: 50_000n } },
    ]);
    assert.equal(await readToken(ctx, 'balanceOf', [payer.address]), 50_000n);
    assert.deepEqual(await read(ctx, 'channels', [id]), [50_000n, 50_000n]);
    assert.deepEqual(await read(ctx, 'pendingWithdrawals', [id]), [0n, 0]);
  }));

test('a cooperative refund shrinks a pending withdrawal, and cancels it when it covers it', () =>
  onSnapshot(async () => {
    const { config, id } = channels.D; // balance 100,000, claimed 20,000 (the snapshot above was reverted)
    assert.deepEqual(await read(ctx, 'channels', [id]), [100_000n, 20_000n]);
    await send(ctx, { functionName: 'initiateWithdraw', args: [config, 60_000n], account: payers.D });
    await send(ctx, { functionName: 'refund', args: [config, 25_000n], account: receiver });
    assert.equal((await read(ctx, 'pendingWithdrawals', [id]))[0], 35_000n);
    await send(ctx, { functionName: 'refund', args: [config, 35_000n], account: receiver });
    assert.deepEqual(await read(ctx, 'pendingWithdrawals', [id]), [0n, 0]);
  }));

test('the same code works at fresh addresses, with its own channel ids and domain', async () => {
  const { settlement, collector } = ctx.fresh;
  const payer = payers.F;
  const config = channelConfig(ctx, { payer, receiver, receiverAuthorizer, salt: toHex(7n, { size: 32 }) });
  const id = await channelId(ctx, config, settlement);
  assert.notEqual(id, await channelId(ctx, config), 'the channel id binds the contract address');

  await mint(ctx, payer, 10_000n);
  const data = await signDepositAuthorization(ctx, payer, { channelId: id, amount: 10_000n, collector });
  const wrongCollector = await revertOf(ctx, {
    address: settlement,
    functionName: 'deposit',
    args: [config, 10_000n, ctx.collector, data],
  });
  assert.equal(wrongCollector.errorName, 'OnlyX402BatchSettlement', 'a collector serves one settlement contract');
  await send(ctx, { address: settlement, functionName: 'deposit', args: [config, 10_000n, collector, data] });
  assert.deepEqual(await read(ctx, 'channels', [id], settlement), [10_000n, 0n]);

  const canonicalVoucher = await signVoucher(ctx, payer, id, 4_000n);
  const row = { voucher: { channel: config, maxClaimableAmount: 4_000n }, signature: canonicalVoucher, totalClaimed: 4_000n };
  const misdirected = await revertOf(ctx, { address: settlement, functionName: 'claim', args: [[row]], account: receiver.address });
  assert.equal(misdirected.errorName, 'InvalidSignature', 'a voucher for the canonical domain is void here');
  row.signature = await signVoucher(ctx, payer, id, 4_000n, settlement);
  await send(ctx, { address: settlement, functionName: 'claim', args: [[row]], account: receiver });
  assert.deepEqual(await read(ctx, 'channels', [id], settlement), [10_000n, 4_000n]);
});
