// Compiles Uniswap's Permit2 — the contract Permit2 deposits go through — from its published source (npm
// @uniswap/v4-periphery, which carries it in lib/permit2) with the compiler and settings of its own foundry.toml:
// solc 0.8.17 (npm solc-permit2, an alias of solc@0.8.17), via-IR, 1,000,000 optimizer runs, no metadata hash.
// Writes OUT_DIR/Permit2.json (contracts/solc_job.mjs says what it holds).
// Usage: node contracts/build_permit2.mjs OUT_DIR
//
// Deploying it: the artifact's deployedBytecode placed at the canonical address with anvil_setCode works as is.
// Its only constructor work fills two immutables (the chain id and domain separator it caches), left zero in
// the compiler's runtime code; with a cached chain id of 0 its DOMAIN_SEPARATOR() is computed from the current
// chain and its own address at each call, which is the canonical address's domain.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { compileAndWrite, fail, sourcesUnder } from './solc_job.mjs';

const SCRIPT = 'contracts/build_permit2.mjs';
const require = createRequire(import.meta.url);
const root = join(dirname(require.resolve('@uniswap/v4-periphery/package.json')), 'lib/permit2');

const outDir = process.argv[2];
if (!outDir) fail(SCRIPT, 'usage: node contracts/build_permit2.mjs OUT_DIR');

compileAndWrite({
  script: SCRIPT,
  solc: require('solc-permit2'),
  version: '0.8.17',
  input: {
    language: 'Solidity',
    sources: sourcesUnder(root, 'src'),
    settings: {
      optimizer: { enabled: true, runs: 1_000_000 },
      viaIR: true,
      metadata: { bytecodeHash: 'none' },
      remappings: ['solmate/=lib/solmate/'],
      outputSelection: { 'src/Permit2.sol': { Permit2: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  },
  findImports: (path) => {
    try {
      return { contents: readFileSync(join(root, path), 'utf8') };
    } catch (e) {
      return { error: `${path}: ${e.message}` };
    }
  },
  // Permit2's own warnings are not ours to act on.
  shown: (d) => d.severity === 'error',
  names: ['Permit2'],
  outDir,
});
