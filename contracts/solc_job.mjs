// What contracts/build.mjs and contracts/build_permit2.mjs share: reading a source tree, running one
// pinned solc-js over it, and writing one artifact per deployable contract:
//   OUT_DIR/<Name>.json = {contractName, abi, bytecode, deployedBytecode}   (bytecodes 0x-hex)
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export function fail(script, message) {
  process.stderr.write(`${script}: ${message}\n`);
  process.exit(1);
}

// Every .sol file under `root`/`dir`, keyed by its path relative to `root`, as solc's standard JSON wants them.
export function sourcesUnder(root, dir) {
  const walk = (at) =>
    readdirSync(at).flatMap((name) => {
      const path = join(at, name);
      if (statSync(path).isDirectory()) return walk(path);
      return name.endsWith('.sol') ? [path] : [];
    });
  return Object.fromEntries(walk(join(root, dir)).map((path) => [relative(root, path), { content: readFileSync(path, 'utf8') }]));
}

// Compiles `input` (standard JSON) with `solc` after checking it is `version`; prints every diagnostic that
// `shown` keeps and stops on any error. Writes the `names` contracts' artifacts to `outDir`.
export function compileAndWrite({ script, solc, version, input, findImports, shown = () => true, names, outDir }) {
  if (!solc.version().startsWith(`${version}+`)) fail(script, `solc ${solc.version()} found, ${version} pinned`);
  const output = JSON.parse(solc.compile(JSON.stringify(input), findImports ? { import: findImports } : undefined));
  const diagnostics = output.errors ?? [];
  for (const d of diagnostics.filter(shown)) process.stderr.write(`${d.formattedMessage ?? d.message}\n`);
  if (diagnostics.some((d) => d.severity === 'error')) fail(script, 'compilation failed');

  mkdirSync(outDir, { recursive: true });
  for (const name of names) {
    const unit = Object.keys(output.contracts ?? {}).find((file) => output.contracts[file][name]);
    if (!unit) fail(script, `no contract ${name} in the output`);
    const c = output.contracts[unit][name];
    const artifact = {
      contractName: name,
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    };
    if (artifact.bytecode === '0x') fail(script, `${name} has no bytecode (abstract?)`);
    writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(artifact, null, 1)}\n`);
  }
  process.stdout.write(`contracts: ${names.join(', ')} -> ${outDir} (solc ${solc.version()})\n`);
}
