// The contracts agree with tests/vectors/batch-settlement.json (made with viem from the spec's type strings, the
// same file the C++ known-answer tests read): channel ids, voucher, refund and claim-batch digests, computed
// on-chain at the canonical address on a chain of each vector's id; and every ERC-3009 vector's signature is
// accepted by TestUSDC placed at the vector's token address with the vector's EIP-712 name and version.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { encodeAbiParameters, hashDomain, keccak256, parseSignature } from 'viem';
import { CANONICAL_SETTLEMENT } from '../../contracts/local_chain.mjs';
import { read, send, setupChain } from './channel_fixture.mjs';

const vectors = JSON.parse(readFileSync(new URL('../vectors/batch-settlement.json', import.meta.url), 'utf8'));
const chainIds = [...new Set(vectors.channels.map((c) => c.chainId))];
const running = [];
after(() => Promise.all(running.map((ctx) => ctx.stop())));

for (const chainId of chainIds) {
  describe(`chain ${chainId}`, async () => {
    const ctx = await setupChain({ chainId });
    running.push(ctx);
    const channels = vectors.channels.filter((c) => c.chainId === chainId && c.verifyingContract === CANONICAL_SETTLEMENT);
    const configOf = (id) => channels.find((c) => c.channelId === id).config;

    test('the EIP-712 domain separator', async () => {
      const [, name, version, domainChainId, verifyingContract] = await read(ctx, 'eip712Domain');
      assert.deepEqual([name, version, domainChainId, verifyingContract], ['x402 Batch Settlement', '1', BigInt(chainId), CANONICAL_SETTLEMENT]);
      const separator = hashDomain({
        domain: { name, version, chainId, verifyingContract },
        types: { EIP712Domain: [
          { name: 'name', type: 'string' },
          { name: 'version', type: 'string' },
          { name: 'chainId', type: 'uint256' },
          { name: 'verifyingContract', type: 'address' },
        ] },
      });
      for (const c of channels) assert.equal(separator, c.domainSeparator);
    });

    test('channel ids and voucher digests', async () => {
      assert.ok(channels.length > 0);
      for (const c of channels) {
        assert.equal(await read(ctx, 'getChannelId', [c.config]), c.channelId);
        for (const v of c.vouchers) {
          assert.equal(await read(ctx, 'getVoucherDigest', [c.channelId, BigInt(v.maxClaimableAmount)]), v.digest);
        }
      }
    });

    test('refund digests', async () => {
      for (const r of vectors.refunds.filter((x) => x.chainId === chainId)) {
        assert.equal(await read(ctx, 'getRefundDigest', [r.channelId, BigInt(r.nonce), BigInt(r.amount)]), r.digest);
      }
    });

    test('claim-batch digests (0 to 3 rows, a channel twice)', async () => {
      const batches = vectors.claimBatches.filter((b) => b.chainId === chainId);
      for (const b of batches) {
        const rows = b.claims.map((e) => ({
          voucher: { channel: configOf(e.channelId), maxClaimableAmount: BigInt(e.maxClaimableAmount) },
          signature: '0x', // not part of the digest
          totalClaimed: BigInt(e.totalClaimed),
        }));
        assert.equal(await read(ctx, 'getClaimBatchDigest', [rows]), b.digest, `${rows.length} rows`);
      }
    });

    test('ERC-3009 authorizations verify in TestUSDC with the vector\'s token domain', async () => {
      for (const e of vectors.erc3009.filter((x) => x.domain.chainId === chainId)) {
        const m = e.message;
        if (e.channelId) {
          const nonce = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [e.channelId, BigInt(e.depositSalt)]));
          assert.equal(nonce, m.nonce, 'deposit nonce = keccak256(abi.encode(channelId, salt))');
        }
        const hash = await ctx.client.deployContract({
          account: ctx.relayer,
          abi: ctx.abi.token,
          bytecode: ctx.artifacts.TestUSDC.bytecode,
          args: [e.domain.name, e.domain.version],
        });
        const { contractAddress } = await ctx.client.waitForTransactionReceipt({ hash });
        await ctx.client.setCode({ address: e.domain.verifyingContract, bytecode: await ctx.client.getCode({ address: contractAddress }) });
        const token = { address: e.domain.verifyingContract, abi: ctx.abi.token };
        await send(ctx, { ...token, functionName: 'mint', args: [m.from, BigInt(m.value)] });

        const functionName = e.primaryType === 'ReceiveWithAuthorization' ? 'receiveWithAuthorization' : 'transferWithAuthorization';
        const args = [m.from, m.to, BigInt(m.value), BigInt(m.validAfter), BigInt(m.validBefore), m.nonce];
        // receiveWithAuthorization pays only its caller: simulate it from `to` (the collector).
        const caller = e.primaryType === 'ReceiveWithAuthorization' ? m.to : ctx.relayer;
        const { r, s, v } = parseSignature(e.signature);
        await ctx.client.simulateContract({ ...token, account: caller, functionName, args: [...args, e.signature] });
        await ctx.client.simulateContract({ ...token, account: caller, functionName, args: [...args, Number(v), r, s] });
        await assert.rejects(
          ctx.client.simulateContract({ ...token, account: caller, functionName, args: [m.from, m.to, BigInt(m.value) + 1n, ...args.slice(3), e.signature] }),
          /ERC3009InvalidSignature/,
        );
      }
    });
  });
}
