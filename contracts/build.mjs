// Compiles contracts/src with the pinned solc-js and writes one artifact per deployable contract
// (contracts/solc_job.mjs says what an artifact holds).
// Usage: node contracts/build.mjs OUT_DIR
// Exits non-zero, printing every diagnostic, on any compiler error or if solc is not the pinned version.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { compileAndWrite, fail, sourcesUnder } from './solc_job.mjs';

const SCRIPT = 'contracts/build.mjs';
const SOLC_VERSION = '0.8.37';
// Cancun is the oldest EVM with the transient storage the reentrancy lock needs (EIP-1153).
const EVM_VERSION = 'cancun';
// The claim loop is the hot path: optimise for runtime gas over deployment size.
const OPTIMIZER_RUNS = 1_000_000;
const ARTIFACTS = [
  'X402BatchSettlement',
  'ERC3009DepositCollector',
  'Permit2DepositCollector',
  'TestUSDC',
  'TestUSDT',
  'TestSmartWalletFactory',
  'TestMulticall3',
];

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const outDir = process.argv[2];
if (!outDir) fail(SCRIPT, 'usage: node contracts/build.mjs OUT_DIR');

// Only OpenZeppelin is imported from outside src/ (npm @openzeppelin/contracts, pinned in package.json).
function findImports(path) {
  if (!path.startsWith('@openzeppelin/contracts/')) return { error: `import outside src/ and OpenZeppelin: ${path}` };
  try {
    return { contents: readFileSync(require.resolve(path), 'utf8') };
  } catch (e) {
    return { error: `${path}: ${e.message}` };
  }
}

compileAndWrite({
  script: SCRIPT,
  solc: require('solc'),
  version: SOLC_VERSION,
  input: {
    language: 'Solidity',
    sources: sourcesUnder(here, 'src'),
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
      viaIR: true,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  },
  findImports,
  // OpenZeppelin's own warnings (its transient-storage note) are not ours to act on; everything else is shown.
  shown: (d) => d.severity === 'error' || !d.sourceLocation?.file?.startsWith('@openzeppelin/'),
  names: ARTIFACTS,
  outDir,
});
