// Compiles contracts/src with the pinned solc-js and writes one artifact per deployable contract:
//   OUT_DIR/<Name>.json = {contractName, abi, bytecode, deployedBytecode}   (bytecodes 0x-hex)
// Usage: node contracts/build.mjs OUT_DIR
// Exits non-zero, printing every diagnostic, on any compiler error or if solc is not the pinned version.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOLC_VERSION = '0.8.37';
// Cancun is the oldest EVM with the transient storage the reentrancy lock needs (EIP-1153).
const EVM_VERSION = 'cancun';
// The claim loop is the hot path: optimise for runtime gas over deployment size.
const OPTIMIZER_RUNS = 1_000_000;
const ARTIFACTS = ['X402BatchSettlement', 'ERC3009DepositCollector', 'TestUSDC', 'TestSmartWalletFactory', 'TestMulticall3'];

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const solc = require('solc');

function fail(message) {
  process.stderr.write(`contracts/build.mjs: ${message}\n`);
  process.exit(1);
}

const outDir = process.argv[2];
if (!outDir) fail('usage: node contracts/build.mjs OUT_DIR');
if (!solc.version().startsWith(`${SOLC_VERSION}+`)) fail(`solc ${solc.version()} found, ${SOLC_VERSION} pinned`);

function solidityFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return solidityFiles(path);
    return name.endsWith('.sol') ? [path] : [];
  });
}

const sources = {};
for (const path of solidityFiles(join(here, 'src'))) {
  sources[relative(here, path)] = { content: readFileSync(path, 'utf8') };
}

// Only OpenZeppelin is imported from outside src/ (npm @openzeppelin/contracts, pinned in package.json).
function findImports(path) {
  if (!path.startsWith('@openzeppelin/contracts/')) return { error: `import outside src/ and OpenZeppelin: ${path}` };
  try {
    return { contents: readFileSync(require.resolve(path), 'utf8') };
  } catch (e) {
    return { error: `${path}: ${e.message}` };
  }
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion: EVM_VERSION,
    optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
    viaIR: true,
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const diagnostics = output.errors ?? [];
// OpenZeppelin's own warnings (its transient-storage note) are not ours to act on; everything else is shown.
const fromLibrary = (d) => d.severity !== 'error' && d.sourceLocation?.file?.startsWith('@openzeppelin/');
for (const d of diagnostics.filter((d) => !fromLibrary(d))) process.stderr.write(`${d.formattedMessage ?? d.message}\n`);
if (diagnostics.some((d) => d.severity === 'error')) fail('compilation failed');

mkdirSync(outDir, { recursive: true });
for (const name of ARTIFACTS) {
  const unit = Object.keys(output.contracts ?? {}).find((file) => output.contracts[file][name]);
  if (!unit) fail(`no contract ${name} in the output`);
  const c = output.contracts[unit][name];
  const artifact = {
    contractName: name,
    abi: c.abi,
    bytecode: `0x${c.evm.bytecode.object}`,
    deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
  };
  if (artifact.bytecode === '0x') fail(`${name} has no bytecode (abstract?)`);
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(artifact, null, 1)}\n`);
}
process.stdout.write(`contracts: ${ARTIFACTS.join(', ')} -> ${outDir} (solc ${solc.version()}, ${EVM_VERSION})\n`);
