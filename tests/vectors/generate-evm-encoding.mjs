// Regenerates tests/vectors/evm-encoding.json with the pinned viem: node tests/vectors/generate-evm-encoding.mjs > tests/vectors/evm-encoding.json
import { privateKeyToAccount } from 'viem/accounts';
import { serializeTransaction, keccak256, toRlp, encodeFunctionData, parseAbi } from 'viem';
const acct = privateKeyToAccount('0x3c8ef5dfeb55bb926a7d81ba4bd20da93602f3b615860e8bda7b41b87ef8e119');
const txs = [
 { chainId: 31337, nonce: 0, maxPriorityFeePerGas: 1000000000n, maxFeePerGas: 2000000000n, gas: 21000n, to: '0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902', value: 1n, data: '0x' },
 { chainId: 8453, nonce: 1234, maxPriorityFeePerGas: 0n, maxFeePerGas: 123456789012n, gas: 3000000n, to: '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003', value: 0n, data: '0xdeadbeef' + '00'.repeat(60) },
];
const out = [];
for (const t of txs) { const raw = await acct.signTransaction({ ...t, type: 'eip1559' }); out.push({ ...Object.fromEntries(Object.entries(t).map(([k,v])=>[k, typeof v==='bigint'? v.toString(): v])), raw, hash: keccak256(raw) }); }
const rlp = [ ['0x', toRlp('0x')], ['dog', toRlp('0x646f67')], ['list', toRlp(['0x636174','0x646f67'])], ['empty list', toRlp([])], ['nested', toRlp([[], [[]], [[], [[]]]])], ['0x0f', toRlp('0x0f')], ['0x0400', toRlp('0x0400')], ['long', toRlp('0x' + '61'.repeat(56))] ];
const abi = parseAbi(['function settle(address receiver, address token)','function claimWithSignature(((( address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,address token,uint40 withdrawDelay,bytes32 salt) channel,uint128 maxClaimableAmount) voucher,bytes signature,uint128 totalClaimed)[] claims, bytes authorizerSignature)','function channels(bytes32) view returns (uint128 balance, uint128 totalClaimed)']);
const cfg = { payer: acct.address, payerAuthorizer: acct.address, receiver: '0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902', receiverAuthorizer: '0x8e73d351DA173229f35Ef3FBd20B512594DE23D8', token: '0xA331d0E957513E3882845CC0af837d838f9d3BBe', withdrawDelay: 900, salt: '0x' + '00'.repeat(31) + '07' };
const calls = {
  settle: encodeFunctionData({ abi, functionName: 'settle', args: ['0x0Be336624D73454d5CF8fCd68ebA03AEd7EA4902', '0xA331d0E957513E3882845CC0af837d838f9d3BBe'] }),
  claimWithSignature2: encodeFunctionData({ abi, functionName: 'claimWithSignature', args: [[ { voucher: { channel: cfg, maxClaimableAmount: 5000n }, signature: '0x' + '11'.repeat(65), totalClaimed: 5000n }, { voucher: { channel: { ...cfg, salt: '0x' + '00'.repeat(32) }, maxClaimableAmount: 340282366920938463463374607431768211455n }, signature: '0x' + '22'.repeat(65), totalClaimed: 1n } ], '0x' + '33'.repeat(65)] }),
  channels: encodeFunctionData({ abi, functionName: 'channels', args: ['0x' + 'ab'.repeat(32)] }),
};
console.log(JSON.stringify({ generator: 'viem 2.57.20 (signTransaction, toRlp, encodeFunctionData)', key: '0x3c8ef5dfeb55bb926a7d81ba4bd20da93602f3b615860e8bda7b41b87ef8e119', eip1559: out, rlp: rlp.map(([n,h])=>({name:n, rlp:h})), abi: { config: cfg, calls } }, null, 1));
