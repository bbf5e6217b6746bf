// Push overhead of the installed hooks: the same push to a bare repo with agent-hooks and to one
// without, interleaved (A B A B ...), medians over PAIRS runs, reported as a ratio measured in
// one run. Run after `npm run build`: node bench/push-overhead.mjs [pairs]
// With NODE_EXTRA_CA_CERTS set in the environment, it measures both with and without it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PAIRS = Number(process.argv[2] ?? 15);
const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.mjs');
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
Object.assign(baseEnv, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: baseEnv, ...opts });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r;
}
const git = (cwd, ...args) => run('git', args, { cwd });
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function setup(root, name, install) {
  const upstream = join(root, `${name}.git`);
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', upstream);
  git(upstream, 'config', 'receive.advertisePushOptions', 'true');
  if (install) run(process.execPath, [CLI, 'install', upstream]);
  const clone = join(root, name);
  git(root, 'clone', '--quiet', upstream, clone);
  for (const [k, v] of [['user.name', 'agent-1'], ['user.email', 'a@x'], ['commit.gpgSign', 'false']]) git(clone, 'config', k, v);
  mkdirSync(join(clone, 'current_tasks'), { recursive: true });
  writeFileSync(join(clone, 'current_tasks', '.gitkeep'), '');
  for (let i = 0; i < 200; i++) writeFileSync(join(clone, `file-${i}.txt`), `${i}\n`);
  git(clone, 'add', '-A');
  git(clone, 'commit', '--quiet', '-m', 'start');
  git(clone, 'push', '--quiet', 'origin', 'HEAD:main');
  return clone;
}

/** One measured push (ms): `kind` feature = 20 changed files to a branch; claim = one lock file to main. */
function timedPush(clone, kind, round, env) {
  if (kind === 'feature') {
    for (let i = 0; i < 20; i++) writeFileSync(join(clone, `file-${i}.txt`), `${round}\n`);
  } else {
    writeFileSync(join(clone, 'current_tasks', `task-${round}.txt`), `agent: agent-1\nstarted: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}\n`);
  }
  git(clone, 'add', '-A');
  git(clone, 'commit', '--quiet', '-m', `round ${round}`);
  const target = kind === 'feature' ? `HEAD:refs/heads/feature-${round}` : 'HEAD:main';
  const start = process.hrtime.bigint();
  run('git', ['push', '--quiet', '-o', 'agent=agent-1', 'origin', target], { cwd: clone, env: { ...baseEnv, ...env } });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const variants = [['NODE_EXTRA_CA_CERTS unset', { NODE_EXTRA_CA_CERTS: '' }]];
if (process.env.NODE_EXTRA_CA_CERTS) variants.push([`NODE_EXTRA_CA_CERTS set`, { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }]);

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
try {
  const node = run(process.execPath, ['--version']).stdout.trim();
  const gitVersion = run('git', ['--version']).stdout.trim();
  console.log(`# push overhead: ${PAIRS} interleaved pairs per row, medians; node ${node}, ${gitVersion}\n`);
  console.log('| push | environment | with agent-hooks (ms) | without (ms) | ratio |');
  console.log('|---|---|---|---|---|');
  let round = 0;
  for (const [label, env] of variants) {
    for (const kind of ['feature', 'claim']) {
      const withHooks = setup(root, `with-${kind}-${round}`, true);
      const without = setup(root, `without-${kind}-${round}`, false);
      const a = [];
      const b = [];
      for (let i = 0; i < PAIRS; i++) {
        round++;
        a.push(timedPush(withHooks, kind, round, env));
        b.push(timedPush(without, kind, round, env));
      }
      const ma = median(a);
      const mb = median(b);
      const what = kind === 'feature' ? '1 commit, 20 files, feature branch' : '1 lock file, claims ref';
      console.log(`| ${what} | ${label} | ${ma.toFixed(1)} | ${mb.toFixed(1)} | ${(ma / mb).toFixed(2)}x |`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
