// A stock x402 client paying from a smart-contract wallet (contracts/src/TestSmartWallet.sol): the
// reference batch-settlement client scheme with a signer whose address is the wallet and whose
// signatures are the wallet's (the owner's ECDSA signature of keccak256(digest ‖ context), then the
// 200-byte context: 265 bytes, as long as a passkey wallet's). The wallet signs the deposit; the
// vouchers too with MODE "wallet" (payerAuthorizer zero), or the owner's key as a session key with
// MODE "session" (payerAuthorizer = the owner). MODE "counterfactual" is "session" for a wallet not
// deployed yet: its signatures come wrapped with FACTORY's call CALLDATA that deploys it (ERC-6492),
// as a smart wallet's SDK wraps them. Prints one JSON line per request (pay_and_report.mjs), then
// {"done": N}.
// Usage: node stock_wallet_pays.mjs URL N OWNER_KEY WALLET_ADDRESS MODE [FACTORY CALLDATA]
import { BatchSettlementEvmScheme } from '@x402/evm/batch-settlement/client';
import { concat, getAddress, hashTypedData, keccak256, serializeErc6492Signature, toHex, zeroAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { payAndReport } from './pay_and_report.mjs';

const [url, countArg, ownerKey, walletAddress, mode, factory, factoryCalldata] = process.argv.slice(2);
if (!['wallet', 'session', 'counterfactual'].includes(mode))
  throw new Error(`MODE must be wallet, session or counterfactual, not ${mode}`);
if (mode === 'counterfactual' && !(factory && factoryCalldata)) throw new Error('counterfactual needs FACTORY CALLDATA');
const owner = privateKeyToAccount(ownerKey);
const context = toHex(Uint8Array.from({ length: 200 }, (_, i) => (i * 13 + 5) & 0xff));
const wallet = {
  address: getAddress(walletAddress),
  async signTypedData(typedData) {
    const digest = hashTypedData(typedData);
    const signature = concat([await owner.sign({ hash: keccak256(concat([digest, context])) }), context]);
    if (mode !== 'counterfactual') return signature;
    return serializeErc6492Signature({ address: getAddress(factory), data: factoryCalldata, signature });
  },
};
const options = mode === 'wallet'
  ? { payerAuthorizer: zeroAddress, depositPolicy: { depositMultiplier: 5 } }
  : { voucherSigner: owner, depositPolicy: { depositMultiplier: 5 } };
const scheme = new BatchSettlementEvmScheme(wallet, options);
await payAndReport(url, Number(countArg), scheme);
