// Start-up of the Claude Code PreToolUse adapter (an allowed edit in a clone where another agent
// holds 300 lease globs) against `node -e 0`, interleaved, medians, ratio in one run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PAIRS = Number(process.argv[2] ?? 21);
const ADAPTER = resolve(import.meta.dirname, '..', 'dist', 'claude-pre-tool-use.mjs');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
Object.assign(env, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
const git = (cwd, ...args) => {
  const r = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (args, input, extra) => {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { input, env: { ...env, ...extra } });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
};

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
try {
  const repo = join(root, 'repo');
  git(root, 'init', '--quiet', '--initial-branch=main', repo);
  for (const [k, v] of [['user.name', 'agent-0'], ['user.email', 'a@x']]) git(repo, 'config', k, v);
  mkdirSync(join(repo, 'current_tasks'));
  const started = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (let i = 1; i <= 100; i++) writeFileSync(join(repo, 'current_tasks', `task-${i}.txt`), `agent: agent-${i}\nstarted: ${started}\nfiles: src/mod${i}/**, docs/mod${i}/**, test/mod${i}/**/*.test.ts\n`);
  git(repo, 'add', '-A');
  git(repo, 'commit', '--quiet', '-m', 'claims');
  const input = JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: 'src/free/x.ts' }, cwd: repo });
  const variants = [['NODE_EXTRA_CA_CERTS unset', { NODE_EXTRA_CA_CERTS: '' }]];
  if (process.env.NODE_EXTRA_CA_CERTS) variants.push(['NODE_EXTRA_CA_CERTS set', { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }]);
  for (const [label, extra] of variants) {
    const a = [];
    const b = [];
    for (let i = 0; i < PAIRS; i++) {
      a.push(time([ADAPTER], input, extra));
      b.push(time(['-e', '0'], '', extra));
    }
    console.log(`| claude pre-tool-use, allowed edit, 300 lease globs | ${label} | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} | ${(median(a) / median(b)).toFixed(2)}x |`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
