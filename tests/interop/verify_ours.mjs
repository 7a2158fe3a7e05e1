// Checks every signature paychan made (reference_xcheck_test.cpp) with viem: vouchers and refunds
// must recover to paychan's signer under the scheme's EIP-712 domain.
// Usage: node verify_ours.mjs OURS.json
import { readFileSync } from 'node:fs';
import { recoverTypedDataAddress } from 'viem';

const { items } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const domain = (chainId) => ({ name: 'x402 Batch Settlement', version: '1', chainId, verifyingContract: '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003' });
const types = {
  Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint128' }],
  Refund: [{ name: 'channelId', type: 'bytes32' }, { name: 'nonce', type: 'uint256' }, { name: 'amount', type: 'uint128' }],
};
let bad = 0;
for (const it of items) {
  const voucher = await recoverTypedDataAddress({
    domain: domain(it.chainId), types: { Voucher: types.Voucher }, primaryType: 'Voucher',
    message: { channelId: it.channelId, maxClaimableAmount: BigInt(it.maxClaimableAmount) }, signature: it.voucherSignature,
  });
  const refund = await recoverTypedDataAddress({
    domain: domain(it.chainId), types: { Refund: types.Refund }, primaryType: 'Refund',
    message: { channelId: it.channelId, nonce: BigInt(it.refundNonce), amount: BigInt(it.refundAmount) }, signature: it.refundSignature,
  });
  if (voucher !== it.address || refund !== it.address) {
    bad++;
    console.error(`mismatch: ${JSON.stringify(it)} recovered voucher=${voucher} refund=${refund}`);
  }
}
console.log(`${items.length - bad} passed, ${bad} failed`);
process.exit(bad === 0 ? 0 : 1);
