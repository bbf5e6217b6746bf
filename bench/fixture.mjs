// The generated repository every benchmark runs on (issue 7): by default 20,000 files, 2,000
// commits, 200 branches and 100 active claims holding 300 lease globs. Built with one
// `git fast-import` stream, so a 20,000-file repo takes seconds. Shared helpers for the
// benchmarks live here too: the environment, timing, medians, running a hook directly.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.mjs');
export const ZERO = '0'.repeat(40);

/** Inherited environment without GIT_* and without user or system git config. */
export const benchEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
Object.assign(benchEnv, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });

/** The two environments every node-starting row is measured in, when the machine sets the CA variable. */
export const caVariants = () => {
  const out = [['NODE_EXTRA_CA_CERTS unset', { NODE_EXTRA_CA_CERTS: '' }]];
  if (process.env.NODE_EXTRA_CA_CERTS) out.push(['NODE_EXTRA_CA_CERTS set', { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }]);
  return out;
};

/** Runs a command; throws with its stderr unless it exits 0 (or `allowFail`). */
export function run(cwd, cmd, args, { env = {}, input, allowFail = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...benchEnv, ...env }, input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}: ${r.stderr}`);
  return r;
}
export const git = (cwd, ...args) => run(cwd, 'git', args).stdout.trim();

/** Median of a list of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Wall time of one call (ms). */
export function time(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * CPU time (user + system, ms) of every child process this process has waited for so far, with
 * their own waited-for children (Linux: /proc/self/stat cutime + cstime, in 1/100 s that the
 * kernel rounds from nanoseconds); NaN where there is no /proc. The difference around one call is
 * that call's CPU time within 10 ms; sums over many calls are exact to 10 ms. On a shared, noisy
 * machine CPU time is steadier than wall time, which also counts waiting for a CPU.
 */
export function childrenCpu() {
  return processCpu('self').children;
}

/**
 * CPU time (ms) of a process from /proc/<pid>/stat (proc(5), in 1/100 s): `own` (utime + stime)
 * and `children` (cutime + cstime: the children it has waited for); NaN for both where there is
 * no such process or no /proc.
 */
export function processCpu(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return { own: (Number(fields[11]) + Number(fields[12])) * 10, children: (Number(fields[13]) + Number(fields[14])) * 10 };
  } catch {
    return { own: Number.NaN, children: Number.NaN };
  }
}

/** Wall time and CPU time (ms, see {@link childrenCpu}) of one call that runs processes. */
export function timeWithCpu(fn) {
  const cpu = childrenCpu();
  const wall = time(fn);
  return { wall, cpu: childrenCpu() - cpu };
}

/** Mean of a list of numbers. */
export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Runs each of `fns` `pairs` times, interleaved (A B A B ...), and returns their medians (ms).
 * The machine is shared and noisy; ratios of these medians are what the report compares.
 */
export function interleaved(pairs, fns) {
  const samples = fns.map(() => []);
  for (let i = 0; i < pairs; i++) fns.forEach((fn, j) => samples[j].push(time(() => fn(i))));
  return samples.map(median);
}

export const fmt = (ms) => ms.toFixed(1);
export const ratio = (a, b) => `${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}x`;

/** The path of file `i` of a generated repo: `free/f<i>.ts` for the last `free` files, else `src/mod-<m>/part-<p>/f<i>.ts`. */
export function layoutOf(files) {
  const free = Math.min(1000, Math.floor(files / 20));
  const perPart = 19;
  const src = files - free;
  const parts = Math.ceil(src / perPart);
  return { free, perPart, parts, mods: Math.ceil(parts / 10) };
}

/** The 3 lease globs of claim `k`: one directory of the src tree (never `free/`). */
export function leaseGlobs(k, mods) {
  const m = k % mods;
  const p = Math.floor(k / mods) % 10;
  return [`src/mod-${m}/part-${p}/*.ts`, `src/mod-${m}/part-${p}/f1?.ts`, `docs/mod-${m}/part-${p}/**`];
}

/**
 * Writes a bare repository at `path` and returns what it holds.
 * - `files` files: `src/mod-M/part-P/fI.ts` (19 per part, 10 parts per mod) and up to 1,000 under
 *   `free/`, which no claim leases; pushes that must pass change those.
 * - `commits` commits on main, each after the first changing 5 files.
 * - `branches` branches `agent-N/work`, each one own commit on a commit of main.
 * - `claims` JSON lock files `current_tasks/task-K.json` of agents `agent-K` (3 globs each, see
 *   {@link leaseGlobs}), started a minute ago, ttl 604800 s, so they stay active for a week.
 * Set `install` to install agent-hooks. gc.auto is 0, so no background gc runs while measuring.
 */
export function generateRepo(path, { files = 20000, commits = 2000, branches = 200, claims = 100, install = false } = {}) {
  run(resolve(path, '..'), 'git', ['init', '--quiet', '--bare', '--initial-branch=main', path]);
  git(path, 'config', 'gc.auto', '0');
  git(path, 'config', 'receive.advertisePushOptions', 'true'); // so the same `git push -o` works with and without hooks
  const { free, perPart } = layoutOf(files);
  const { mods } = layoutOf(files);
  const paths = [];
  for (let i = 0; paths.length < files - free; i++) {
    const part = Math.floor(i / perPart);
    paths.push(`src/mod-${Math.floor(part / 10)}/part-${part % 10}/f${i % perPart}.ts`);
  }
  for (let i = 0; i < free; i++) paths.push(`free/f${i}.ts`);

  const chunks = [];
  const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  let mark = 0;
  const t0 = Math.floor(Date.now() / 1000) - commits - branches - 60;
  const commitHeader = (ref, n, message, author = 'bench') =>
    `commit ${ref}\nmark :${++mark}\ncommitter ${author} <${author}@bench> ${t0 + n} +0000\n${data(message)}`;
  chunks.push(commitHeader('refs/heads/main', 0, 'initial tree'));
  for (const [i, p] of paths.entries()) chunks.push(`M 100644 inline ${p}\n${data(`export const v${i} = 0;\n`)}`);
  const mainMarks = [mark];
  let seed = 1;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let c = 1; c < commits; c++) {
    chunks.push(commitHeader('refs/heads/main', c, `change ${c}`));
    for (let j = 0; j < 5; j++) chunks.push(`M 100644 inline ${paths[rand(files - free)]}\n${data(`export const c${c}j${j} = ${c};\n`)}`);
    mainMarks.push(mark);
  }
  const started = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  chunks.push(commitHeader('refs/heads/main', commits, `${claims} claims`));
  chunks.push(`M 100644 inline current_tasks/.gitkeep\n${data('')}`);
  for (let k = 0; k < claims; k++) {
    const lock = { agent: `agent-${k}`, started, description: `task ${k}`, files: leaseGlobs(k, mods), ttl: 604800 };
    chunks.push(`M 100644 inline current_tasks/task-${k}.json\n${data(`${JSON.stringify(lock)}\n`)}`);
  }
  for (let b = 0; b < branches; b++) {
    chunks.push(commitHeader(`refs/heads/agent-${b}/work`, commits + 1 + b, `work of agent-${b}`, `agent-${b}`));
    chunks.push(`from :${mainMarks[rand(mainMarks.length)]}\n`);
    chunks.push(`M 100644 inline ${leaseGlobs(b, mods)[0].replace('*.ts', 'f0.ts')}\n${data(`export const b${b} = 1;\n`)}`);
  }
  run(path, 'git', ['fast-import', '--quiet'], { input: chunks.join('') });
  if (install) run(path, process.execPath, [CLI, 'install', path]);
  return { path, paths, free: paths.slice(files - free), mods };
}

/** A copy of a bare repo (with or without agent-hooks, as the original was). */
export function copyRepo(from, to) {
  cpSync(from, to, { recursive: true });
  return to;
}

/** A clone of `bare` as `agent` (user.name), ready to commit and push. */
export function cloneOf(bare, dir, agent = 'bench') {
  run(resolve(dir, '..'), 'git', ['clone', '--quiet', bare, dir]);
  for (const [k, v] of [['user.name', agent], ['user.email', `${agent}@bench`], ['commit.gpgSign', 'false'], ['gc.auto', '0']]) git(dir, 'config', k, v);
  return dir;
}

/**
 * A commit on top of main that changes `paths`, written into `bare` without any ref (so a hook
 * can be run on it directly, as if it were being pushed). Returns its oid.
 */
export function commitWithout(bare, paths, tag) {
  const chunks = [`commit refs/bench/tmp\ncommitter bench <bench@bench> ${Math.floor(Date.now() / 1000)} +0000\ndata 5\nbench\nfrom refs/heads/main^0\n`];
  for (const p of paths) {
    const text = `export const changed = '${tag}';\n`;
    chunks.push(`M 100644 inline ${p}\ndata ${Buffer.byteLength(text)}\n${text}\n`);
  }
  run(bare, 'git', ['fast-import', '--quiet'], { input: chunks.join('') });
  const oid = git(bare, 'rev-parse', 'refs/bench/tmp');
  git(bare, 'update-ref', '-d', 'refs/bench/tmp');
  return oid;
}

/** Runs an installed hook of `bare` once as git would for a push of `stdin` by `agent`; returns exit code and stderr. */
export function runHook(bare, hook, stdin, { agent = 'bench', env = {} } = {}) {
  const r = run(bare, join(bare, 'hooks', hook), [], { input: stdin, allowFail: true, env: { GIT_DIR: '.', GIT_PUSH_OPTION_COUNT: '1', GIT_PUSH_OPTION_0: `agent=${agent}`, ...env } });
  return { status: r.status, stderr: r.stderr };
}

/** mkdir -p. */
export const mkdirp = (p) => mkdirSync(p, { recursive: true });

/**
 * Runs one agent process per clone at once (`node <script> ...argsOf(clone, i, journalFile)`),
 * each killed after `deadlineMs`; every agent appends JSON lines to its own journal file under
 * `<root>/journal/`. Resolves with all journal entries and the wall time (ms).
 * @throws Error when an agent process exits with a code other than 0.
 */
export async function runAgentProcesses(root, clones, script, argsOf, { env = benchEnv, deadlineMs = 20 * 60_000 } = {}) {
  const journal = join(root, 'journal');
  mkdirSync(journal);
  const start = Date.now();
  const exits = await Promise.all(clones.map((clone, i) => new Promise((done) => {
    const child = spawn(process.execPath, [script, ...argsOf(clone, i, join(journal, `agent-${i + 1}.jsonl`))], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done(code);
    });
  })));
  const wall = Date.now() - start;
  if (exits.some((c) => c !== 0)) throw new Error(`agent processes failed: exit codes ${exits.join(',')}`);
  const entries = readdirSync(journal).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(join(journal, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  return { entries, wall };
}

/**
 * Prepares the next commit of a push benchmark in `clone`: `feature`, 20 files of `free` changed
 * on a new branch `feature-<n>` from origin/main; `claim`, one lock file on main. Not timed.
 */
export function prepareBenchPush(clone, kind, n, free) {
  if (kind === 'feature') {
    git(clone, 'checkout', '--quiet', '-B', `feature-${n}`, 'origin/main');
    for (const p of free.slice(0, 20)) writeFileSync(join(clone, p), `export const round = ${n};\n`);
  } else {
    git(clone, 'checkout', '--quiet', 'main');
    const lock = { agent: 'bench', started: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), files: [`free/f${n}.ts`] };
    writeFileSync(join(clone, 'current_tasks', `bench-${n}.json`), `${JSON.stringify(lock)}\n`);
  }
  git(clone, 'add', '-A');
  git(clone, 'commit', '--quiet', '-m', `round ${n}`);
}

/** Pushes what {@link prepareBenchPush} prepared, as agent `bench`: a new feature branch, or main. */
export function benchPush(clone, kind, n, env) {
  run(clone, 'git', ['push', '--quiet', '-o', 'agent=bench', 'origin', kind === 'feature' ? `HEAD:refs/heads/feature-${n}` : 'HEAD:main'], { env });
}
