// Shared by tests/contracts/*.test.mjs and bench/contracts_gas.mjs: a fresh anvil with paychan's contracts at the
// canonical addresses, deterministic accounts, and the scheme's signing (vouchers, claim batches, refunds) with viem.
// Deposits are signed by the reference client itself (@x402/evm createBatchSettlementEIP3009DepositPayload).
import { createBatchSettlementEIP3009DepositPayload } from '@x402/evm/batch-settlement/client';
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  decodeEventLog,
  encodeAbiParameters,
  getAddress,
  keccak256,
  toHex,
  zeroAddress,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { CANONICAL_SETTLEMENT, deployContracts, loadArtifacts, startAnvil } from '../../contracts/local_chain.mjs';

export const TOKEN_NAME = 'USDC';
export const TOKEN_VERSION = '2';
export const MIN_WITHDRAW_DELAY = 900;
export const MAX_WITHDRAW_DELAY = 2_592_000;

const voucherTypes = { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint128' }] };
const refundTypes = {
  Refund: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'nonce', type: 'uint256' },
    { name: 'amount', type: 'uint128' },
  ],
};
const claimBatchTypes = {
  ClaimBatch: [{ name: 'claims', type: 'ClaimEntry[]' }],
  ClaimEntry: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'maxClaimableAmount', type: 'uint128' },
    { name: 'totalClaimed', type: 'uint128' },
  ],
};
export const receiveWithAuthorizationTypes = {
  ReceiveWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
};

/// A deterministic local account per label (no funds unless given some).
export function account(label) {
  return privateKeyToAccount(keccak256(toHex(`paychan contracts test: ${label}`)));
}

/// Starts anvil and deploys; returns the context every helper below takes.
export async function setupChain({ chainId = 31337, extraArgs } = {}) {
  const chain = await startAnvil({ chainId, extraArgs });
  const artifacts = loadArtifacts();
  const addresses = await deployContracts(chain, artifacts, { tokenName: TOKEN_NAME, tokenVersion: TOKEN_VERSION });
  const abi = {
    settlement: artifacts.X402BatchSettlement.abi,
    collector: artifacts.ERC3009DepositCollector.abi,
    token: artifacts.TestUSDC.abi,
  };
  // Errors bubble up from the token and the collector through `deposit`: decode against all three.
  const errorsAbi = [...abi.settlement, ...abi.collector, ...abi.token].filter((x) => x.type === 'error');
  return { ...chain, artifacts, abi, errorsAbi, ...addresses, relayer: addresses.deployer };
}

export function domain(ctx, verifyingContract = ctx.settlement) {
  return { name: 'x402 Batch Settlement', version: '1', chainId: ctx.chainId, verifyingContract };
}

export function channelConfig(ctx, { payer, payerAuthorizer = payer, receiver, receiverAuthorizer, ...rest }) {
  return {
    payer: payer.address,
    payerAuthorizer: payerAuthorizer?.address ?? zeroAddress,
    receiver: getAddress(receiver.address ?? receiver),
    receiverAuthorizer: getAddress(receiverAuthorizer.address ?? receiverAuthorizer),
    token: ctx.token,
    withdrawDelay: MIN_WITHDRAW_DELAY,
    salt: toHex(0n, { size: 32 }),
    ...rest,
  };
}

export function read(ctx, functionName, args = [], address = ctx.settlement) {
  return ctx.client.readContract({ address, abi: ctx.abi.settlement, functionName, args });
}

export function readToken(ctx, functionName, args = []) {
  return ctx.client.readContract({ address: ctx.token, abi: ctx.abi.token, functionName, args });
}

export async function channelId(ctx, config, address = ctx.settlement) {
  return read(ctx, 'getChannelId', [config], address);
}

/// Sends a transaction and waits for it; throws on revert. `account` defaults to the unlocked relayer.
export async function send(ctx, { address = ctx.settlement, abi = ctx.abi.settlement, account = ctx.relayer, ...call }) {
  const hash = await ctx.client.writeContract({ address, abi, account, ...call });
  const receipt = await ctx.client.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`${call.functionName} reverted in ${hash}`);
  return receipt;
}

/// The revert of a call simulated on the current state: {errorName, args} decoded against every contract's
/// errors, or {errorName: undefined, data} when it reverts without a known error. Throws if the call succeeds.
export async function revertOf(ctx, { address = ctx.settlement, abi = ctx.abi.settlement, account = ctx.relayer, ...call }) {
  try {
    await ctx.client.simulateContract({ address, abi, account, ...call });
  } catch (e) {
    const reverted = e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
    if (!reverted) throw e;
    const data = reverted.raw ?? reverted.data?.data;
    if (!data || data === '0x') return { errorName: undefined, data: '0x' };
    try {
      const { errorName, args } = decodeErrorResult({ abi: ctx.errorsAbi, data });
      return { errorName, args };
    } catch {
      return { errorName: reverted.data?.errorName, args: reverted.data?.args, data };
    }
  }
  throw new Error(`${call.functionName} did not revert`);
}

/// Gives `who` native currency for gas (payers that act themselves: withdrawals).
export async function fund(ctx, who) {
  await ctx.client.setBalance({ address: who.address ?? who, value: 10n ** 20n });
}

export async function mint(ctx, to, amount) {
  await send(ctx, { address: ctx.token, abi: ctx.abi.token, functionName: 'mint', args: [to.address ?? to, amount] });
}

/// Deposits `amount` into the channel of `config` through the canonical ERC-3009 collector, with the deposit
/// authorization built and signed by the reference client exactly as an x402 agent would send it.
/// Returns {receipt, collectorData, channelId}.
export async function depositWithReferenceClient(ctx, payer, config, amount) {
  const requirements = {
    scheme: 'batch-settlement',
    network: `eip155:${ctx.chainId}`,
    amount: '1',
    asset: ctx.token,
    payTo: config.receiver,
    maxTimeoutSeconds: 3600,
    extra: {
      receiverAuthorizer: config.receiverAuthorizer,
      withdrawDelay: config.withdrawDelay,
      name: TOKEN_NAME,
      version: TOKEN_VERSION,
    },
  };
  const { payload } = await createBatchSettlementEIP3009DepositPayload(
    payer,
    2,
    requirements,
    config,
    amount.toString(),
    '1',
  );
  const auth = payload.deposit.authorization.erc3009Authorization;
  const collectorData = erc3009CollectorData(auth);
  const receipt = await send(ctx, { functionName: 'deposit', args: [config, amount, ctx.collector, collectorData] });
  return { receipt, collectorData, channelId: payload.voucher.channelId };
}

/// abi.encode(validAfter, validBefore, salt, signature): what the ERC-3009 collector decodes.
export function erc3009CollectorData({ validAfter, validBefore, salt, signature }) {
  return encodeAbiParameters(
    [{ type: 'uint256' }, { type: 'uint256' }, { type: 'uint256' }, { type: 'bytes' }],
    [BigInt(validAfter), BigInt(validBefore), BigInt(salt), signature],
  );
}

/// Signs the ERC-3009 deposit authorization ourselves, for a settlement/collector pair at any address
/// (the reference client only knows the canonical collector).
export async function signDepositAuthorization(ctx, payer, { channelId: id, amount, collector, salt = 1n }) {
  const nonce = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [id, salt]));
  const validBefore = 2n ** 40n;
  const signature = await payer.signTypedData({
    domain: { name: TOKEN_NAME, version: TOKEN_VERSION, chainId: ctx.chainId, verifyingContract: ctx.token },
    types: receiveWithAuthorizationTypes,
    primaryType: 'ReceiveWithAuthorization',
    message: { from: payer.address, to: collector, value: amount, validAfter: 0n, validBefore, nonce },
  });
  return erc3009CollectorData({ validAfter: 0n, validBefore, salt, signature });
}

export function signVoucher(ctx, signer, id, maxClaimableAmount, verifyingContract = ctx.settlement) {
  return signer.signTypedData({
    domain: domain(ctx, verifyingContract),
    types: voucherTypes,
    primaryType: 'Voucher',
    message: { channelId: id, maxClaimableAmount },
  });
}

export function signRefund(ctx, signer, id, nonce, amount) {
  return signer.signTypedData({
    domain: domain(ctx),
    types: refundTypes,
    primaryType: 'Refund',
    message: { channelId: id, nonce, amount },
  });
}

/// Signs a `ClaimBatch` over rows [{row, channelId}] as the receiverAuthorizer.
export function signClaimBatch(ctx, signer, entries) {
  return signer.signTypedData({
    domain: domain(ctx),
    types: claimBatchTypes,
    primaryType: 'ClaimBatch',
    message: {
      claims: entries.map(({ row, channelId: id }) => ({
        channelId: id,
        maxClaimableAmount: row.voucher.maxClaimableAmount,
        totalClaimed: row.totalClaimed,
      })),
    },
  });
}

/// A `VoucherClaim` row: a voucher for `maxClaimableAmount` signed by the config's payer authorizer, claiming
/// `totalClaimed` (default: all of it).
export async function claimRow(ctx, signer, config, id, maxClaimableAmount, totalClaimed = maxClaimableAmount) {
  const signature = await signVoucher(ctx, signer, id, maxClaimableAmount);
  return { voucher: { channel: config, maxClaimableAmount }, signature, totalClaimed };
}

/// Event logs of `receipt` emitted by the settlement contract at `address`, decoded: [{eventName, args}].
export function settlementEvents(ctx, receipt, address = CANONICAL_SETTLEMENT) {
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === address.toLowerCase())
    .map((log) => {
      const { eventName, args } = decodeEventLog({ abi: ctx.abi.settlement, data: log.data, topics: log.topics });
      return { eventName, args };
    });
}
