// The cost of the test sandbox (issue 13): the same command run by runIsolated in bwrap and
// unsandboxed, interleaved (A B A B ...), medians; and a whole tested push with
// agenthooks.testSandbox auto against off. Prints table rows; `node bench/run.mjs` bundles it
// (like lease-match.ts). Needs bwrap; without it, prints one row saying so.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bwrapArgv, probeSandbox, readHostPath, runIsolated, testEnvironment } from '../server/sandbox.js';

const PAIRS = Number(process.argv[2] ?? 20);
const PUSH_PAIRS = Number(process.argv[3] ?? 8);
// Bundled into a temp dir by bench/run.mjs, which runs from the repository's root.
const CLI = resolve(process.cwd(), 'dist', 'cli.mjs');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const row = (name: string, a: number[], b: number[]) => `| ${name} | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} | ${(median(a) / median(b)).toFixed(2)}x | +${(median(a) - median(b)).toFixed(1)} ms per run |`;

const probe = probeSandbox();
if (!probe.ok) {
  console.log(`| sandbox cost | - | - | - | not measured: ${probe.reason} |`);
  process.exit(0);
}
const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-sandbox-'));
try {
  const work = join(root, 'work');
  mkdirSync(work);
  const env = testEnvironment(process.env);
  for (const [name, argv] of [['`true`', ['true']], ['`node -e 0`', [process.execPath, '-e', '0']]] as const) {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < PAIRS + 1; i++) {
      let t = process.hrtime.bigint();
      const sandboxed = await runIsolated({ workDir: work, argv, env, timeoutMs: 30_000, network: false, bwrap: probe.bwrap });
      const ta = ms(t);
      t = process.hrtime.bigint();
      const plain = await runIsolated({ workDir: work, argv, env, timeoutMs: 30_000, network: false });
      const tb = ms(t);
      if (sandboxed.exitCode !== 0 || plain.exitCode !== 0) throw new Error(`${name} failed: ${sandboxed.output.join(' ')} ${plain.output.join(' ')}`);
      if (i === 0) continue; // warm-up
      a.push(ta);
      b.push(tb);
    }
    console.log(row(`runIsolated ${name}: sandboxed vs unsandboxed (${PAIRS} pairs)`, a, b));
  }
  // A probe is one bwrap start per pre-receive process that tests (what probeSandbox runs, uncached).
  const probes: number[] = [];
  const probeArgs = [...bwrapArgv({ workDir: work, network: false, hide: [], execPath: process.execPath, host: readHostPath }), 'true'];
  for (let i = 0; i < PAIRS; i++) {
    const t = process.hrtime.bigint();
    spawnSync(probe.bwrap, probeArgs, { stdio: 'ignore' });
    probes.push(ms(t));
  }
  console.log(`| the probe (bwrap ... true, once per tested push) | ${median(probes).toFixed(1)} | - | - | once per pre-receive that tests |`);

  // Whole tested pushes: the same project in two bare repos, sandbox auto vs off, 1 test file of node:test.
  const gitEnv = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_'))), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
  const run = (cwd: string, cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { cwd, env: gitEnv, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const clones: Record<string, string> = {};
  for (const mode of ['auto', 'off']) {
    const upstream = join(root, `${mode}.git`);
    run(root, process.execPath, [CLI, 'install', upstream]);
    run(upstream, 'git', ['config', 'agenthooks.testSandbox', mode]);
    const clone = join(root, mode);
    run(root, 'git', ['clone', '--quiet', upstream, clone]);
    for (const [k, v] of [['user.name', 'agent-1'], ['user.email', 'a@x']] as const) run(clone, 'git', ['config', k, v]);
    mkdirSync(join(clone, 'test'));
    writeFileSync(join(clone, 'agent-hooks.json'), JSON.stringify({ test: { command: ['node', '--test', '{files}'], files: ['test/**'], sample: 1 } }));
    writeFileSync(join(clone, 'test', 'a.test.mjs'), "import test from 'node:test';\ntest('a', () => {});\n");
    run(clone, 'git', ['add', '-A']);
    run(clone, 'git', ['commit', '-qm', 'project']);
    run(clone, 'git', ['push', '-q', 'origin', 'HEAD:main']);
    clones[mode] = clone;
  }
  const pushes: Record<string, number[]> = { auto: [], off: [] };
  for (let i = 0; i < PUSH_PAIRS + 1; i++) {
    for (const mode of ['auto', 'off']) {
      const clone = clones[mode]!;
      writeFileSync(join(clone, 'n.txt'), `${i}\n`); // a new tree each time: a passed tree is not tested again
      run(clone, 'git', ['add', '-A']);
      run(clone, 'git', ['commit', '-qm', `change ${i}`]);
      const t = process.hrtime.bigint();
      const r = run(clone, 'git', ['push', '-q', 'origin', 'HEAD:main']);
      if (i > 0) pushes[mode]!.push(ms(t));
      if (mode === 'auto' && /WARNING/.test(r.stderr)) throw new Error(`the sandbox did not run: ${r.stderr}`);
    }
  }
  console.log(row(`tested push (1 node:test file): testSandbox auto vs off (${PUSH_PAIRS} pairs)`, pushes.auto!, pushes.off!));
} finally {
  rmSync(root, { recursive: true, force: true });
}
