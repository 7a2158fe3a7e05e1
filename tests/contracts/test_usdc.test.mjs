// TestUSDC on anvil: USDC's shape (6 decimals, EIP-712 name/version from the constructor), open minting, and
// EIP-3009 in both signature forms with its refusals (caller must be the payee for receive, time window, spent
// and cancelled nonces).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keccak256, parseSignature, toHex } from 'viem';
import { account, mint, readToken, receiveWithAuthorizationTypes, revertOf, send, setupChain, TOKEN_NAME, TOKEN_VERSION } from './channel_fixture.mjs';

const holder = account('usdc holder');
const payee = account('usdc payee');
let ctx;
let token;

before(async () => {
  ctx = await setupChain();
  token = { address: ctx.token, abi: ctx.abi.token };
  await ctx.client.setBalance({ address: payee.address, value: 10n ** 20n });
  await mint(ctx, holder, 1_000_000n);
});
after(() => ctx?.stop());

let nonces = 0;
const transferTypes = { TransferWithAuthorization: receiveWithAuthorizationTypes.ReceiveWithAuthorization };
async function authorize(primaryType, { value = 100n, validAfter = 0n, validBefore = 2n ** 40n, nonce = keccak256(toHex(`usdc nonce ${++nonces}`)) } = {}) {
  const message = { from: holder.address, to: payee.address, value, validAfter, validBefore, nonce };
  const types = primaryType === 'TransferWithAuthorization' ? transferTypes : receiveWithAuthorizationTypes;
  const signature = await holder.signTypedData({
    domain: { name: TOKEN_NAME, version: TOKEN_VERSION, chainId: ctx.chainId, verifyingContract: ctx.token },
    types,
    primaryType,
    message,
  });
  return { args: [message.from, message.to, value, validAfter, validBefore, nonce], signature };
}

test('USDC shape: 6 decimals, name and EIP-712 domain from the constructor, anyone mints', async () => {
  assert.equal(await readToken(ctx, 'decimals'), 6);
  assert.equal(await readToken(ctx, 'name'), TOKEN_NAME);
  assert.equal(await readToken(ctx, 'version'), TOKEN_VERSION);
  const [, name, version, chainId, verifyingContract] = await readToken(ctx, 'eip712Domain');
  assert.deepEqual([name, version, chainId, verifyingContract], [TOKEN_NAME, TOKEN_VERSION, BigInt(ctx.chainId), ctx.token]);
  assert.equal(await readToken(ctx, 'balanceOf', [holder.address]), 1_000_000n);
});

test('transferWithAuthorization with a packed signature and with (v, r, s); a nonce is spent once', async () => {
  const packed = await authorize('TransferWithAuthorization');
  await send(ctx, { ...token, functionName: 'transferWithAuthorization', args: [...packed.args, packed.signature] });
  const split = await authorize('TransferWithAuthorization');
  const { v, r, s } = parseSignature(split.signature);
  await send(ctx, { ...token, functionName: 'transferWithAuthorization', args: [...split.args, Number(v), r, s] });
  assert.equal(await readToken(ctx, 'balanceOf', [payee.address]), 200n);
  assert.equal(await readToken(ctx, 'authorizationState', [holder.address, packed.args[5]]), true);
  const replay = await revertOf(ctx, { ...token, functionName: 'transferWithAuthorization', args: [...packed.args, packed.signature] });
  assert.equal(replay.errorName, 'ERC3009UsedAuthorization');
});

test('receiveWithAuthorization pays only its caller, inside the validity window', async () => {
  const auth = await authorize('ReceiveWithAuthorization');
  const call = { ...token, functionName: 'receiveWithAuthorization', args: [...auth.args, auth.signature] };
  assert.equal((await revertOf(ctx, call)).errorName, 'ERC20InvalidReceiver', 'a front-runner cannot redirect it');
  await send(ctx, { ...call, account: payee });
  assert.equal(await readToken(ctx, 'balanceOf', [payee.address]), 300n);

  const expired = await authorize('ReceiveWithAuthorization', { validBefore: 1n });
  const late = await revertOf(ctx, { ...token, functionName: 'receiveWithAuthorization', args: [...expired.args, expired.signature], account: payee.address });
  assert.equal(late.errorName, 'ERC3009InvalidAuthorizationTime');
  const asTransfer = await authorize('TransferWithAuthorization');
  const wrongType = await revertOf(ctx, { ...token, functionName: 'receiveWithAuthorization', args: [...asTransfer.args, asTransfer.signature], account: payee.address });
  assert.equal(wrongType.errorName, 'ERC3009InvalidSignature', 'a transfer authorization is not a receive authorization');
});

test('a cancelled authorization cannot be used', async () => {
  const auth = await authorize('TransferWithAuthorization');
  const nonce = auth.args[5];
  const cancel = await holder.signTypedData({
    domain: { name: TOKEN_NAME, version: TOKEN_VERSION, chainId: ctx.chainId, verifyingContract: ctx.token },
    types: { CancelAuthorization: [{ name: 'authorizer', type: 'address' }, { name: 'nonce', type: 'bytes32' }] },
    primaryType: 'CancelAuthorization',
    message: { authorizer: holder.address, nonce },
  });
  const { v, r, s } = parseSignature(cancel);
  await send(ctx, { ...token, functionName: 'cancelAuthorization', args: [holder.address, nonce, Number(v), r, s] });
  const used = await revertOf(ctx, { ...token, functionName: 'transferWithAuthorization', args: [...auth.args, auth.signature] });
  assert.equal(used.errorName, 'ERC3009UsedAuthorization');
});
