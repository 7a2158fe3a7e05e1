// ABI compatibility: what the reference SDK (@x402/evm 2.27) encodes and decodes against the canonical contracts
// must find the same selectors, topics, output types and mutability in ours; and our settlement contract and
// collector expose exactly the canonical surface (functions and events as in x402-foundation/x402
// contracts/evm/src, listed below from that source), with the canonical errors among ours.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { eip3009ABI } from '@x402/evm';
import { parseAbi, toEventSelector, toFunctionSelector } from 'viem';
import { formatAbiItem, formatAbiParams } from 'viem/utils';
import { loadArtifacts } from '../../contracts/local_chain.mjs';
import { setupChain } from './channel_fixture.mjs';

const artifacts = loadArtifacts();
const ours = artifacts.X402BatchSettlement.abi;

/// The SDK does not export its batch-settlement ABI; it lives in the bundle chunk built from src/batch-settlement/abi.ts.
async function referenceBatchSettlementAbi() {
  const dist = new URL('../../node_modules/@x402/evm/dist/esm/', import.meta.url);
  for (const file of readdirSync(dist).filter((f) => f.endsWith('.mjs'))) {
    if (readFileSync(new URL(file, dist), 'utf8').includes('var batchSettlementABI = [')) {
      return (await import(new URL(file, dist).href)).batchSettlementABI;
    }
  }
  throw new Error('batchSettlementABI not found in @x402/evm/dist/esm');
}

const channelConfig =
  'struct ChannelConfig { address payer; address payerAuthorizer; address receiver; address receiverAuthorizer; address token; uint40 withdrawDelay; bytes32 salt; }';
const voucherClaim = [
  'struct Voucher { ChannelConfig channel; uint128 maxClaimableAmount; }',
  'struct VoucherClaim { Voucher voucher; bytes signature; uint128 totalClaimed; }',
];
const canonicalSettlement = parseAbi([
  channelConfig,
  ...voucherClaim,
  'function CHANNEL_CONFIG_TYPEHASH() view returns (bytes32)',
  'function CLAIM_BATCH_TYPEHASH() view returns (bytes32)',
  'function CLAIM_ENTRY_TYPEHASH() view returns (bytes32)',
  'function REFUND_TYPEHASH() view returns (bytes32)',
  'function VOUCHER_TYPEHASH() view returns (bytes32)',
  'function MIN_WITHDRAW_DELAY() view returns (uint40)',
  'function MAX_WITHDRAW_DELAY() view returns (uint40)',
  'function channels(bytes32 channelId) view returns (uint128 balance, uint128 totalClaimed)',
  'function refundNonce(bytes32 channelId) view returns (uint256)',
  'function pendingWithdrawals(bytes32 channelId) view returns (uint128 amount, uint40 initiatedAt)',
  'function receivers(address receiver, address token) view returns (uint128 totalClaimed, uint128 totalSettled)',
  'function deposit(ChannelConfig config, uint128 amount, address collector, bytes collectorData)',
  'function claim(VoucherClaim[] voucherClaims)',
  'function claimWithSignature(VoucherClaim[] voucherClaims, bytes authorizerSignature)',
  'function settle(address receiver, address token)',
  'function initiateWithdraw(ChannelConfig config, uint128 amount)',
  'function finalizeWithdraw(ChannelConfig config)',
  'function refund(ChannelConfig config, uint128 amount)',
  'function refundWithSignature(ChannelConfig config, uint128 amount, uint256 nonce, bytes receiverAuthorizerSignature)',
  'function getChannelId(ChannelConfig config) view returns (bytes32)',
  'function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) view returns (bytes32)',
  'function getRefundDigest(bytes32 channelId, uint256 nonce, uint128 amount) view returns (bytes32)',
  'function getClaimBatchDigest(VoucherClaim[] voucherClaims) view returns (bytes32)',
  'function multicall(bytes[] data) returns (bytes[] results)',
  'function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)',
  'event ChannelCreated(bytes32 indexed channelId, ChannelConfig config)',
  'event ChannelClosed(bytes32 indexed channelId, ChannelConfig config)',
  'event Deposited(bytes32 indexed channelId, address indexed sender, uint128 amount, uint128 newBalance)',
  'event Claimed(bytes32 indexed channelId, address indexed sender, uint128 claimAmount, uint128 newTotalClaimed)',
  'event Settled(address indexed receiver, address indexed token, address indexed sender, uint128 amount)',
  'event Refunded(bytes32 indexed channelId, address indexed sender, uint128 amount)',
  'event WithdrawInitiated(bytes32 indexed channelId, uint128 amount, uint40 finalizeAfter)',
  'event WithdrawFinalized(bytes32 indexed channelId, address indexed sender, uint128 amount)',
  'event EIP712DomainChanged()',
  ...[
    'InvalidChannel', 'ZeroDeposit', 'DepositOverflow', 'InvalidSignature', 'NotReceiverAuthorizer',
    'NotAuthorizedToClaim', 'NotAuthorizedToRefund', 'ClaimExceedsCeiling', 'ClaimExceedsBalance',
    'WithdrawalAlreadyPending', 'WithdrawalNotPending', 'NotAuthorizedToFinalizeWithdraw', 'WithdrawDelayNotElapsed',
    'NothingToWithdraw', 'WithdrawAmountExceedsAvailable', 'WithdrawDelayOutOfRange', 'EmptyBatch',
    'DepositCollectionFailed', 'InvalidCollector', 'InvalidRefundNonce', 'ZeroRefund', 'ECDSAInvalidSignature',
    'ReentrancyGuardReentrantCall',
  ].map((name) => `error ${name}()`),
  'error ECDSAInvalidSignatureLength(uint256 length)',
  'error ECDSAInvalidSignatureS(bytes32 s)',
  'error SafeERC20FailedOperation(address token)',
]);
const canonicalCollector = parseAbi([
  'function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes collectorData)',
  'function x402BatchSettlement() view returns (address)',
  'error OnlyX402BatchSettlement()',
  'error InvalidX402BatchSettlementAddress()',
]);

// The canonical Permit2 collector (x402-foundation/x402 contracts/evm/src/periphery/Permit2DepositCollector.sol).
const canonicalPermit2Collector = parseAbi([
  'function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes collectorData)',
  'function x402BatchSettlement() view returns (address)',
  'function PERMIT2() view returns (address)',
  'function DEPOSIT_WITNESS_TYPE_STRING() view returns (string)',
  'function DEPOSIT_WITNESS_TYPEHASH() view returns (bytes32)',
  'event EIP2612PermitFailedWithReason(address indexed token, address indexed owner, string reason)',
  'event EIP2612PermitFailedWithPanic(address indexed token, address indexed owner, uint256 errorCode)',
  'event EIP2612PermitFailedWithData(address indexed token, address indexed owner, bytes data)',
  'error OnlyX402BatchSettlement()',
  'error InvalidX402BatchSettlementAddress()',
  'error InvalidPermit2Address()',
  'error Permit2612AmountMismatch()',
]);

const key = (item) => `${item.type} ${formatAbiItem(item)}`;
const outputs = (item) => formatAbiParams(item.outputs ?? []);
const indexed = (item) => (item.inputs ?? []).map((i) => Boolean(i.indexed));
const surface = (abi, types) => abi.filter((x) => types.includes(x.type)).map(key).sort();

/// Asserts that `item` exists in `abi` with the same selector or topic, outputs, mutability and indexed inputs.
function assertMatches(abi, item) {
  const mine = abi.find((x) => x.type === item.type && key(x) === key(item));
  assert.ok(mine, `missing: ${key(item)}`);
  if (item.type === 'function') {
    assert.equal(toFunctionSelector(mine), toFunctionSelector(item));
    assert.deepEqual(outputs(mine), outputs(item), `outputs of ${item.name}`);
    assert.equal(mine.stateMutability, item.stateMutability, `mutability of ${item.name}`);
  }
  if (item.type === 'event') {
    assert.equal(toEventSelector(mine), toEventSelector(item));
    assert.deepEqual(indexed(mine), indexed(item), `indexed inputs of ${item.name}`);
  }
}

test('every function and event of the reference SDK\'s batch-settlement ABI', async () => {
  const reference = await referenceBatchSettlementAbi();
  assert.ok(reference.length > 15, 'the reference ABI was found');
  for (const item of reference) assertMatches(ours, item);
});

test('the settlement contract exposes exactly the canonical functions and events, and the canonical errors', () => {
  assert.deepEqual(surface(ours, ['function', 'event']), surface(canonicalSettlement, ['function', 'event']));
  for (const item of canonicalSettlement) assertMatches(ours, item);
  assert.equal(ours.filter((x) => x.type === 'constructor').flatMap((x) => x.inputs).length, 0, 'no constructor arguments');
});

test('the collector exposes exactly the canonical collector\'s surface', () => {
  const collector = artifacts.ERC3009DepositCollector.abi;
  assert.deepEqual(surface(collector, ['function', 'event']), surface(canonicalCollector, ['function', 'event']));
  for (const item of canonicalCollector) assertMatches(collector, item);
});

test('the Permit2 collector exposes exactly the canonical Permit2 collector\'s surface', () => {
  const collector = artifacts.Permit2DepositCollector.abi;
  assert.deepEqual(surface(collector, ['function', 'event']), surface(canonicalPermit2Collector, ['function', 'event']));
  for (const item of canonicalPermit2Collector) assertMatches(collector, item);
});

test('TestUSDC has every EIP-3009 function the reference SDK calls on a token', () => {
  const token = artifacts.TestUSDC.abi;
  const permitOnly = ['nonces']; // EIP-2612, used by the SDK's Permit2 path only
  for (const item of eip3009ABI.filter((x) => x.type === 'function' && !permitOnly.includes(x.name))) {
    assertMatches(token, item);
  }
});

{
  let ctx;
  before(async () => {
    ctx = await setupChain();
  });
  after(() => ctx?.stop());

  test('the reference ABI reads our deployed contract at the canonical address', async () => {
    const abi = await referenceBatchSettlementAbi();
    const at = { address: ctx.settlement, abi };
    const zero = `0x${'00'.repeat(32)}`;
    assert.equal(
      await ctx.client.readContract({ ...at, functionName: 'CHANNEL_CONFIG_TYPEHASH' }),
      await ctx.client.readContract({ address: ctx.settlement, abi: ours, functionName: 'CHANNEL_CONFIG_TYPEHASH' }),
    );
    assert.deepEqual(await ctx.client.readContract({ ...at, functionName: 'channels', args: [zero] }), [0n, 0n]);
    assert.deepEqual(await ctx.client.readContract({ ...at, functionName: 'pendingWithdrawals', args: [zero] }), [0n, 0]);
    assert.equal(await ctx.client.readContract({ ...at, functionName: 'refundNonce', args: [zero] }), 0n);
  });
}
