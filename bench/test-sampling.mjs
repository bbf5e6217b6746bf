// Test sampling: wall time of a push whose pre-receive runs a 10% sample of a 200-file suite
// against one that runs the whole suite (interleaved pushes to two bare repos, medians); and the
// materialize+setup cost of a push into a warm test slot against the first, cold one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PAIRS = Number(process.argv[2] ?? 3);
const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.mjs');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
Object.assign(env, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
const run = (cwd, cmd, args) => {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const git = (cwd, ...args) => run(cwd, 'git', args);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = (fn) => {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

function project(root, name, test) {
  const upstream = join(root, `${name}.git`);
  run(root, process.execPath, [CLI, 'install', '--create', upstream]);
  const clone = join(root, name);
  git(root, 'clone', '--quiet', upstream, clone);
  for (const [k, v] of [['user.name', 'agent-1'], ['user.email', 'a@x']]) git(clone, 'config', k, v);
  mkdirSync(join(clone, 'test'));
  mkdirSync(join(clone, 'src'));
  writeFileSync(join(clone, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(clone, 'agent-hooks.json'), JSON.stringify({ test }));
  for (let i = 0; i < 200; i++) {
    writeFileSync(join(clone, 'src', `f${i}.mjs`), `export const f = (x) => x + ${i};\n`);
    writeFileSync(join(clone, 'test', `t${i}.test.mjs`), `import test from 'node:test';\nimport assert from 'node:assert';\nimport { f } from '../src/f${i}.mjs';\ntest('f${i}', () => { let s = 0; for (let k = 0; k < 2e6; k++) s += k; assert.equal(f(1), ${i + 1}); });\n`);
  }
  git(clone, 'add', '-A');
  git(clone, 'commit', '--quiet', '-m', 'project');
  git(clone, 'push', '--quiet', 'origin', 'HEAD:main');
  return clone;
}

const change = (clone, round) => {
  writeFileSync(join(clone, 'README.md'), `round ${round}\n`);
  git(clone, 'add', '-A');
  git(clone, 'commit', '--quiet', '-m', `round ${round}`);
};
const pushTime = (clone) => timed(() => git(clone, 'push', '--quiet', 'origin', 'HEAD:main'));

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
try {
  const base = { command: ['node', '--test', '{files}'], files: ['test/**/*.test.mjs'], timeout: 600 };
  const sampled = project(root, 'sampled', { ...base, sample: 0.1 });
  const full = project(root, 'full', { ...base, sample: 1 });
  const a = [];
  const b = [];
  for (let i = 0; i < PAIRS; i++) {
    change(sampled, i);
    a.push(pushTime(sampled));
    change(full, i);
    b.push(pushTime(full));
  }
  console.log(`| push, 200-file suite: sample 0.1 vs the full suite | ${median(a).toFixed(0)} | ${median(b).toFixed(0)} | ${(median(a) / median(b)).toFixed(2)}x |`);

  // Cold slot (read-tree of every file, setup) against a warm one (same setup inputs: no setup).
  const setup = project(root, 'setup', { ...base, command: ['node', '-e', '0'], setup: ['node', '-e', 'setTimeout(() => {}, 1000)'] });
  change(setup, 'cold');
  const cold = pushTime(setup);
  const warm = [];
  for (let i = 0; i < PAIRS; i++) {
    change(setup, `warm ${i}`);
    warm.push(pushTime(setup));
  }
  console.log(`| push into a warm test slot (deps reused) vs the first, cold one (1 s setup) | ${median(warm).toFixed(0)} | ${cold.toFixed(0)} | ${(median(warm) / cold).toFixed(2)}x |`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
