// Every refusal of the settlement contract and its collector, on anvil: each case is simulated against the real
// state and must revert with the canonical contract's error (or OpenZeppelin's, where the canonical uses its
// libraries); the channel state is checked untouched where a partial effect would be possible.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeFunctionData, maxUint128, toHex, zeroAddress } from 'viem';
import {
  account,
  channelConfig,
  channelId,
  claimRow,
  depositWithReferenceClient,
  erc3009CollectorData,
  fund,
  MAX_WITHDRAW_DELAY,
  MIN_WITHDRAW_DELAY,
  mint,
  read,
  revertOf,
  send,
  setupChain,
  signClaimBatch,
  signRefund,
  signVoucher,
} from './channel_fixture.mjs';

const payer = account('revert payer');
const receiver = account('revert receiver');
const receiverAuthorizer = account('revert receiver authorizer');
const stranger = account('revert stranger');

let ctx;
let config;
let id;

before(async () => {
  ctx = await setupChain();
  for (const who of [payer, receiver, stranger]) await fund(ctx, who);
  config = channelConfig(ctx, { payer, receiver, receiverAuthorizer });
  await mint(ctx, payer, 10_000_000n);
  ({ channelId: id } = await depositWithReferenceClient(ctx, payer, config, 1_000_000n));
});
after(() => ctx?.stop());

const errorOf = async (call) => (await revertOf(ctx, call)).errorName;

describe('deposit', () => {
  const deposit = (cfg, amount = 1n, collector = ctx.collector, data = '0x') =>
    errorOf({ functionName: 'deposit', args: [cfg, amount, collector, data] });

  test('a config with a zero payer, receiver, receiverAuthorizer or token is not a channel', async () => {
    for (const field of ['payer', 'receiver', 'receiverAuthorizer', 'token']) {
      assert.equal(await deposit({ ...config, [field]: zeroAddress }), 'InvalidChannel', field);
    }
  });

  test('the withdraw delay must lie within 900 s .. 30 days', async () => {
    assert.equal(await deposit({ ...config, withdrawDelay: MIN_WITHDRAW_DELAY - 1 }), 'WithdrawDelayOutOfRange');
    assert.equal(await deposit({ ...config, withdrawDelay: MAX_WITHDRAW_DELAY + 1 }), 'WithdrawDelayOutOfRange');
    for (const withdrawDelay of [MIN_WITHDRAW_DELAY, MAX_WITHDRAW_DELAY]) {
      const edge = { ...config, withdrawDelay, salt: toHex(withdrawDelay, { size: 32 }) };
      await depositWithReferenceClient(ctx, payer, edge, 1n);
      assert.deepEqual(await read(ctx, 'channels', [await channelId(ctx, edge)]), [1n, 0n], `delay ${withdrawDelay}`);
    }
  });

  test('zero amount, zero collector', async () => {
    assert.equal(await deposit(config, 0n), 'ZeroDeposit');
    assert.equal(await deposit(config, 1n, zeroAddress), 'InvalidCollector');
  });

  test('a collector that does not deliver the tokens', async () => {
    const idle = '0x000000000000000000000000000000000000c011';
    await ctx.client.setCode({ address: idle, bytecode: '0x00' }); // STOP: accepts any call, moves nothing
    assert.equal(await deposit(config, 1n, idle), 'DepositCollectionFailed');
  });

  test('a balance beyond uint128', async () => {
    const whale = account('revert whale');
    const big = { ...config, payer: whale.address, payerAuthorizer: whale.address };
    await mint(ctx, whale, maxUint128);
    await depositWithReferenceClient(ctx, whale, big, maxUint128);
    assert.equal(await deposit(big, 1n), 'DepositOverflow');
  });

  test('the collector serves only the settlement contract, and a bad authorization fails in the token', async () => {
    const collect = await errorOf({
      address: ctx.collector,
      abi: ctx.abi.collector,
      functionName: 'collect',
      args: [payer.address, ctx.token, 1n, id, '0x'],
      account: stranger.address,
    });
    assert.equal(collect, 'OnlyX402BatchSettlement');
    const side = { ...config, salt: toHex(1n, { size: 32 }) };
    const { collectorData } = await depositWithReferenceClient(ctx, payer, side, 5n);
    // Replayed for a different amount: the ERC-3009 signature no longer matches.
    assert.equal(await deposit(side, 6n, ctx.collector, collectorData), 'ERC3009InvalidSignature');
  });
});

describe('claim', () => {
  const claim = (rows, who = receiver.address) => errorOf({ functionName: 'claim', args: [rows], account: who });

  test('an empty batch', async () => {
    assert.equal(await claim([]), 'EmptyBatch');
    assert.equal(await errorOf({ functionName: 'claimWithSignature', args: [[], '0x'] }), 'EmptyBatch');
  });

  test('only the receiver or receiverAuthorizer may send claim', async () => {
    assert.equal(await claim([await claimRow(ctx, payer, config, id, 10n)], stranger.address), 'NotAuthorizedToClaim');
  });

  test('a total above the voucher ceiling or above the balance', async () => {
    assert.equal(await claim([await claimRow(ctx, payer, config, id, 10n, 11n)]), 'ClaimExceedsCeiling');
    assert.equal(await claim([await claimRow(ctx, payer, config, id, 1_000_001n)]), 'ClaimExceedsBalance');
  });

  test('a voucher not signed by the payerAuthorizer, or signed for another amount', async () => {
    const forged = await claimRow(ctx, stranger, config, id, 10n);
    assert.equal(await claim([forged]), 'InvalidSignature');
    const row = await claimRow(ctx, payer, config, id, 10n);
    assert.equal(await claim([{ ...row, voucher: { ...row.voucher, maxClaimableAmount: 20n }, totalClaimed: 20n }]), 'InvalidSignature');
  });

  test('malformed signatures revert with OpenZeppelin ECDSA errors, as in the canonical contract', async () => {
    const row = await claimRow(ctx, payer, config, id, 10n);
    const r = row.signature.slice(2, 66);
    const s = BigInt(`0x${row.signature.slice(66, 130)}`);
    const v = parseInt(row.signature.slice(130), 16);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = `0x${r}${toHex(n - s, { size: 32 }).slice(2)}${(v === 27 ? 28 : 27).toString(16)}`;
    assert.deepEqual(await revertOf(ctx, { functionName: 'claim', args: [[{ ...row, signature: highS }]], account: receiver.address }), {
      errorName: 'ECDSAInvalidSignatureS',
      args: [toHex(n - s, { size: 32 })],
    });
    assert.deepEqual(
      await revertOf(ctx, { functionName: 'claim', args: [[{ ...row, signature: row.signature.slice(0, 130) }]], account: receiver.address }),
      { errorName: 'ECDSAInvalidSignatureLength', args: [64n] },
    );
    const badV = `${row.signature.slice(0, 130)}1d`; // v = 29: the precompile recovers nothing
    assert.equal(await claim([{ ...row, signature: badV }]), 'ECDSAInvalidSignature');
  });

  test('the whole batch reverts when one row fails', async () => {
    const good = await claimRow(ctx, payer, config, id, 10n);
    const bad = await claimRow(ctx, payer, config, id, 20n, 21n);
    assert.equal(await claim([good, bad]), 'ClaimExceedsCeiling');
    assert.deepEqual(await read(ctx, 'channels', [id]), [1_000_000n, 0n]);
  });
});

describe('payerAuthorizer zero: vouchers checked against the payer (SignatureChecker)', () => {
  // Minimal contract wallets for EIP-1271 (hand-assembled runtime code, set with anvil_setCode): one answers
  // isValidSignature with its magic value whatever it is asked, the other with zero.
  const ACCEPT_ALL = '0x631626ba7e60e01b60005260206000f3';
  const REJECT_ALL = '0x60206000f3';
  const claimAs = (row) => revertOf(ctx, { functionName: 'claim', args: [[row]], account: receiver.address });

  test('an EOA payer signs its own vouchers; a malformed signature is just invalid (no ECDSA error)', async () => {
    const eoa = account('revert eoa payer');
    const cfg = channelConfig(ctx, { payer: eoa, payerAuthorizer: null, receiver, receiverAuthorizer });
    await mint(ctx, eoa, 100n);
    const { channelId: cid } = await depositWithReferenceClient(ctx, eoa, cfg, 100n);
    const row = await claimRow(ctx, eoa, cfg, cid, 40n);
    assert.equal((await claimAs({ ...row, signature: row.signature.slice(0, 130) })).errorName, 'InvalidSignature');
    assert.equal((await claimAs(await claimRow(ctx, stranger, cfg, cid, 40n))).errorName, 'InvalidSignature');
    await send(ctx, { functionName: 'claim', args: [[row]], account: receiver });
    assert.deepEqual(await read(ctx, 'channels', [cid]), [100n, 40n]);
  });

  test('a contract wallet payer is asked through EIP-1271, for the deposit and for each voucher', async () => {
    const wallet = '0x00000000000000000000000000000000000a1271';
    await ctx.client.setCode({ address: wallet, bytecode: ACCEPT_ALL });
    const cfg = { ...config, payer: wallet, payerAuthorizer: zeroAddress };
    const cid = await channelId(ctx, cfg);
    await mint(ctx, wallet, 100n);
    const anyBytes = `0x${'ab'.repeat(70)}`;
    await send(ctx, { functionName: 'deposit', args: [cfg, 100n, ctx.collector, erc3009CollectorData({ validAfter: 0n, validBefore: 2n ** 40n, salt: 9n, signature: anyBytes })] });
    const row = { voucher: { channel: cfg, maxClaimableAmount: 30n }, signature: anyBytes, totalClaimed: 30n };
    await ctx.client.setCode({ address: wallet, bytecode: REJECT_ALL });
    assert.equal((await claimAs(row)).errorName, 'InvalidSignature');
    await ctx.client.setCode({ address: wallet, bytecode: ACCEPT_ALL });
    await send(ctx, { functionName: 'claim', args: [[row]], account: receiver });
    assert.deepEqual(await read(ctx, 'channels', [cid]), [100n, 30n]);
  });
});

describe('claimWithSignature', () => {
  const entry = async (max, total = max, cfg = config, cid = id, signer = payer) => ({
    row: await claimRow(ctx, signer, cfg, cid, max, total),
    channelId: cid,
  });
  const submit = (entries, signature) =>
    errorOf({ functionName: 'claimWithSignature', args: [entries.map((e) => e.row), signature], account: stranger.address });

  test('a batch signature by anyone but the receiverAuthorizer, or over other rows', async () => {
    const entries = [await entry(10n)];
    assert.equal(await submit(entries, await signClaimBatch(ctx, stranger, entries)), 'InvalidSignature');
    const signed = await signClaimBatch(ctx, receiverAuthorizer, entries);
    const tampered = [{ ...entries[0], row: { ...entries[0].row, totalClaimed: 9n } }];
    assert.equal(await submit(tampered, signed), 'InvalidSignature');
  });

  test('every row must share the first row\'s receiverAuthorizer', async () => {
    const other = channelConfig(ctx, { payer, receiver, receiverAuthorizer: stranger });
    const otherId = await channelId(ctx, other);
    const entries = [await entry(10n), await entry(5n, 5n, other, otherId)];
    assert.equal(await submit(entries, await signClaimBatch(ctx, receiverAuthorizer, entries)), 'NotReceiverAuthorizer');
  });

  test('a row\'s own rules still apply under a valid batch signature', async () => {
    const entries = [await entry(10n), await entry(30n, 31n)];
    assert.equal(await submit(entries, await signClaimBatch(ctx, receiverAuthorizer, entries)), 'ClaimExceedsCeiling');
  });
});

test('receivers.totalClaimed past uint128 reverts with the arithmetic panic, as a checked addition does', async () => {
  const whales = [account('overflow whale 1'), account('overflow whale 2')];
  const rows = [];
  for (const whale of whales) {
    const cfg = channelConfig(ctx, { payer: whale, receiver: stranger, receiverAuthorizer });
    await mint(ctx, whale, maxUint128);
    const { channelId: cid } = await depositWithReferenceClient(ctx, whale, cfg, maxUint128);
    rows.push(await claimRow(ctx, whale, cfg, cid, maxUint128));
  }
  const inOneBatch = await revertOf(ctx, { functionName: 'claim', args: [rows], account: stranger.address }); // stranger is their receiver
  assert.deepEqual([inOneBatch.errorName, inOneBatch.args], ['Panic', [0x11n]], 'the per-run sum overflows too');
  await send(ctx, { functionName: 'claim', args: [[rows[0]]], account: stranger });
  const overflow = await revertOf(ctx, { functionName: 'claim', args: [[rows[1]]], account: stranger.address });
  assert.deepEqual([overflow.errorName, overflow.args], ['Panic', [0x11n]]);
});

describe('withdrawal', () => {
  const call = (functionName, args, who) => errorOf({ functionName, args, account: who.address });

  test('initiateWithdraw: only the payer side, a positive amount within the unclaimed escrow, one at a time', async () => {
    assert.equal(await call('initiateWithdraw', [config, 1n], stranger), 'InvalidChannel');
    assert.equal(await call('initiateWithdraw', [config, 0n], payer), 'NothingToWithdraw');
    assert.equal(await call('initiateWithdraw', [config, 1_000_001n], payer), 'WithdrawAmountExceedsAvailable');
    const snapshot = await ctx.client.snapshot();
    try {
      await send(ctx, { functionName: 'initiateWithdraw', args: [config, 10n], account: payer });
      assert.equal(await call('initiateWithdraw', [config, 10n], payer), 'WithdrawalAlreadyPending');
      assert.equal(await call('finalizeWithdraw', [config], payer), 'WithdrawDelayNotElapsed');
      assert.equal(await call('finalizeWithdraw', [config], stranger), 'NotAuthorizedToFinalizeWithdraw');
    } finally {
      await ctx.client.revert({ id: snapshot });
    }
  });

  test('finalizeWithdraw without a pending withdrawal', async () => {
    assert.equal(await call('finalizeWithdraw', [config], payer), 'WithdrawalNotPending');
  });
});

describe('refund', () => {
  test('refund: only the receiver side, a positive amount', async () => {
    assert.equal(await errorOf({ functionName: 'refund', args: [config, 1n], account: stranger.address }), 'NotAuthorizedToRefund');
    assert.equal(await errorOf({ functionName: 'refund', args: [config, 0n], account: receiver.address }), 'ZeroRefund');
  });

  test('refundWithSignature: the current nonce, the receiverAuthorizer\'s signature over this amount', async () => {
    const refund = (amount, nonce, signature) =>
      errorOf({ functionName: 'refundWithSignature', args: [config, amount, nonce, signature], account: stranger.address });
    assert.equal(await refund(5n, 1n, await signRefund(ctx, receiverAuthorizer, id, 1n, 5n)), 'InvalidRefundNonce');
    assert.equal(await refund(5n, 0n, await signRefund(ctx, stranger, id, 0n, 5n)), 'InvalidSignature');
    const signed = await signRefund(ctx, receiverAuthorizer, id, 0n, 5n);
    assert.equal(await refund(6n, 0n, signed), 'InvalidSignature');
    assert.equal(await refund(0n, 0n, await signRefund(ctx, receiverAuthorizer, id, 0n, 0n)), 'ZeroRefund');

    await send(ctx, { functionName: 'refundWithSignature', args: [config, 5n, 0n, signed] });
    assert.equal(await refund(5n, 0n, signed), 'InvalidRefundNonce', 'a refund signature is spent once');
  });
});

test('a config word with bits beyond its type does not hash to a channel id (reverts like the ABI decoder)', async () => {
  const data = encodeFunctionData({ abi: ctx.abi.settlement, functionName: 'getChannelId', args: [config] });
  const dirty = `${data.slice(0, 10)}ff${data.slice(12)}`; // the payer word's top byte
  await assert.rejects(ctx.client.call({ to: ctx.settlement, data: dirty }), /revert/i);
  const voucher = await signVoucher(ctx, payer, id, 10n);
  assert.ok(voucher, 'the clean encoding is still fine');
  assert.equal(await ctx.client.call({ to: ctx.settlement, data }).then((r) => r.data), id);
});
