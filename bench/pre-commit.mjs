// pre-commit cost: a commit of 1,000 paths against 300 lease globs (100 claims of other agents)
// in a 20,000-file repo, with the hook against `git commit --no-verify`, interleaved, medians.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PAIRS = Number(process.argv[2] ?? 11);
const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.mjs');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
Object.assign(env, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
const run = (cwd, cmd, args, extra = {}) => {
  const r = spawnSync(cmd, args, { cwd, env: { ...env, ...extra }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const git = (cwd, ...args) => run(cwd, 'git', args);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
try {
  const repo = join(root, 'clone');
  git(root, 'init', '--quiet', '--initial-branch=main', repo);
  for (const [k, v] of [['user.name', 'agent-0'], ['user.email', 'a@x'], ['commit.gpgSign', 'false'], ['gc.auto', '0']]) git(repo, 'config', k, v);
  for (let m = 0; m < 200; m++) {
    mkdirSync(join(repo, 'src', `mod${m}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(repo, 'src', `mod${m}`, `file${f}.ts`), `${m}/${f}\n`);
  }
  mkdirSync(join(repo, 'current_tasks'));
  const started = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (let i = 1; i <= 100; i++) {
    writeFileSync(join(repo, 'current_tasks', `task-${i}.txt`), `agent: agent-${i}\nstarted: ${started}\nfiles: src/mod${100 + i - 1}/**, docs/mod${i}/**, test/mod${i}/**/*.test.ts\n`);
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '--quiet', '-m', 'start');
  run(root, process.execPath, [CLI, 'install', repo]);
  // 1,000 changed paths in src/mod0..9, leased by nobody: the hook checks them all and passes.
  for (let m = 0; m < 10; m++) for (let f = 0; f < 100; f++) writeFileSync(join(repo, 'src', `mod${m}`, `file${f}.ts`), `changed ${m}/${f}\n`);
  git(repo, 'add', '-A');

  const variants = [['NODE_EXTRA_CA_CERTS unset', { NODE_EXTRA_CA_CERTS: '' }]];
  if (process.env.NODE_EXTRA_CA_CERTS) variants.push(['NODE_EXTRA_CA_CERTS set', { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }]);
  for (const [label, extra] of variants) {
    const withHook = [];
    const without = [];
    for (let i = 0; i < PAIRS; i++) {
      for (const [list, args] of [[withHook, []], [without, ['--no-verify']]]) {
        const start = process.hrtime.bigint();
        run(repo, 'git', ['commit', '--quiet', '-m', `round ${i}`, ...args], extra);
        list.push(Number(process.hrtime.bigint() - start) / 1e6);
        git(repo, 'reset', '--quiet', '--soft', 'HEAD~1');
      }
    }
    console.log(`| commit of 1,000 paths, 300 lease globs, 20,000-file repo | ${label} | ${median(withHook).toFixed(1)} | ${median(without).toFixed(1)} | ${(median(withHook) / median(without)).toFixed(2)}x |`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
