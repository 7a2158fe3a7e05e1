// A local chain carrying paychan's contracts: starts anvil (npm @foundry-rs/anvil-linux-amd64) on a free port and
// deploys the artifacts of contracts/build.mjs, with the settlement contract and the ERC-3009 collector copied to
// the canonical addresses the reference SDK signs against (anvil_setCode). Used by tests/contracts and bench/.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestClient, defineChain, getAddress, http, publicActions, walletActions } from 'viem';

export const CANONICAL_SETTLEMENT = '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003';
export const CANONICAL_ERC3009_COLLECTOR = '0x4020806089470a89826cB9fB1f4059150b550004';
export const ARTIFACT_NAMES = ['X402BatchSettlement', 'ERC3009DepositCollector', 'Permit2DepositCollector', 'TestUSDC'];

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const ANVIL = join(repoRoot, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
// A stuck start is reported, not waited on forever; a healthy anvil listens within a fraction of a second.
const START_DEADLINE_MS = 30_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function launch(port, chainId, hardfork, extraArgs) {
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--hardfork', hardfork];
  args.push(...extraArgs);
  const child = spawn(ANVIL, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`anvil did not start within ${START_DEADLINE_MS} ms:\n${output}`));
    }, START_DEADLINE_MS);
    const onData = (chunk) => {
      output += chunk;
      if (output.includes(`Listening on 127.0.0.1:${port}`)) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining so anvil never blocks on a full pipe
        resolve(child);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited (${code}) before listening:\n${output}`));
    });
  });
}

/// Starts anvil with the given chain id (Prague rules: transient storage and today's gas schedule); `extraArgs`
/// go to anvil as they are (e.g. ['--steps-tracing'] for opcode traces).
/// Returns {url, chainId, client, stop}; `client` is a viem test client with public and wallet actions.
export async function startAnvil({ chainId = 31337, hardfork = 'prague', extraArgs = [] } = {}) {
  if (!existsSync(ANVIL)) throw new Error(`anvil not found at ${ANVIL} (run scripts/setup.sh)`);
  let child;
  let port;
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, chainId, hardfork, extraArgs);
    } catch (e) {
      if (attempt === 2) throw e; // the port may have been taken between probe and bind: retry twice
    }
  }
  const stopOnExit = () => child.kill('SIGKILL');
  process.on('exit', stopOnExit);
  const url = `http://127.0.0.1:${port}`;
  const chain = defineChain({
    id: chainId,
    name: `anvil-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
  const client = createTestClient({ chain, mode: 'anvil', transport: http(url), cacheTime: 0, pollingInterval: 50 })
    .extend(publicActions)
    .extend(walletActions);
  const stop = () =>
    new Promise((resolve) => {
      process.off('exit', stopOnExit);
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, chainId, chain, client, stop };
}

/// Reads {X402BatchSettlement, ERC3009DepositCollector, Permit2DepositCollector, TestUSDC} artifacts from `dir`
/// (default: $PAYCHAN_CONTRACTS_DIR, which CTest sets to ${CMAKE_BINARY_DIR}/contracts).
export function loadArtifacts(dir = process.env.PAYCHAN_CONTRACTS_DIR) {
  if (!dir) throw new Error('PAYCHAN_CONTRACTS_DIR is not set (the directory contracts/build.mjs wrote)');
  return Object.fromEntries(
    ARTIFACT_NAMES.map((name) => [name, JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'))]),
  );
}

async function deploy(client, from, artifact, args = []) {
  const hash = await client.deployContract({ account: from, abi: artifact.abi, bytecode: artifact.bytecode, args });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`deploying ${artifact.contractName} reverted`);
  return getAddress(receipt.contractAddress);
}

/// Deploys the test token and a settlement + collector pair at fresh addresses, and places a second pair at the
/// canonical addresses (the collector there is constructed for the canonical settlement address, then copied).
/// Returns {deployer, token, settlement, collector, fresh: {settlement, collector}}.
export async function deployContracts({ client }, artifacts, { tokenName = 'USDC', tokenVersion = '2' } = {}) {
  const deployer = getAddress((await client.getAddresses())[0]);
  const token = await deploy(client, deployer, artifacts.TestUSDC, [tokenName, tokenVersion]);
  const freshSettlement = await deploy(client, deployer, artifacts.X402BatchSettlement);
  const freshCollector = await deploy(client, deployer, artifacts.ERC3009DepositCollector, [freshSettlement]);
  const canonicalCollectorCode = await deploy(client, deployer, artifacts.ERC3009DepositCollector, [
    CANONICAL_SETTLEMENT,
  ]);
  await client.setCode({
    address: CANONICAL_SETTLEMENT,
    bytecode: await client.getCode({ address: freshSettlement }),
  });
  await client.setCode({
    address: CANONICAL_ERC3009_COLLECTOR,
    bytecode: await client.getCode({ address: canonicalCollectorCode }),
  });
  return {
    deployer,
    token,
    settlement: CANONICAL_SETTLEMENT,
    collector: CANONICAL_ERC3009_COLLECTOR,
    fresh: { settlement: freshSettlement, collector: freshCollector },
  };
}
