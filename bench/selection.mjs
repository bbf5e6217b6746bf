// Affected-first selection (issue 19): pre-receive time for a 20-file push to the tested claims
// ref of a 20,000-file TypeScript repo with imports and 1,900 test files, side by side in one run
// (interleaved, medians): the hook of another build (default: the same one, pass
// `--baseline <dir with dist/cli.mjs>` for today's main) against this one with a warm imports
// cache and with a cold one (the cache removed before each push). The test command is `true`, so
// the rows compare selection (and the hook around it), not tests.
//   node bench/selection.mjs [--pairs 7] [--baseline /tmp/main-build]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, copyRepo, fmt, git, median, ratio, run, runHook } from './fixture.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const PAIRS = Number(arg('pairs', 7));
const BASELINE_CLI = resolve(arg('baseline', resolve(CLI, '..', '..')), 'dist', 'cli.mjs');

const MODS = 95;
const PARTS = 10;
const PER_PART = 19;

/** A bare repo of 18,050 TS sources in layers (part P imports two files of part P-1, every 10th the `@/shared` alias), 1,900 tests, 2,000 commits of history. */
function generate(path) {
  run(resolve(path, '..'), 'git', ['init', '--quiet', '--bare', '--initial-branch=main', path]);
  git(path, 'config', 'gc.auto', '0');
  const chunks = [];
  const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  let mark = 0;
  const t0 = Math.floor(Date.now() / 1000) - 5000;
  const header = (n, message) => `commit refs/heads/main\nmark :${++mark}\ncommitter bench <bench@bench> ${t0 + n} +0000\n${data(message)}`;
  const src = [];
  const tests = [];
  const body = (m, p, i) => {
    let s = '';
    if (p > 0) s += `import { v as a } from '../part-${p - 1}/f${(i + 1) % PER_PART}.js';\nimport type { T } from '../part-${p - 1}/f${(i + 7) % PER_PART}';\n`;
    if (i % 10 === 0) s += "import { shared } from '@/shared/util';\n";
    s += `export interface Shape { id: number; name: string }\nexport const v = ${m * 1000 + p * 100 + i};\n`;
    for (let k = 0; k < 15; k++) s += `export function fn${k}(x: number, y: Shape | null): number { return x / 2 + (y ? y.id : ${k}) + \`t\${x}\`.length; }\n`;
    return s;
  };
  chunks.push(header(0, 'initial tree'));
  chunks.push(`M 100644 inline tsconfig.json\n${data('{ "compilerOptions": { "baseUrl": ".", "paths": { "@/*": ["src/*"] } } }\n')}`);
  chunks.push(`M 100644 inline src/shared/util.ts\n${data('export const shared = 1;\n')}`);
  chunks.push(`M 100644 inline agent-hooks.json\n${data(JSON.stringify({ test: { command: ['true'], files: ['test/**/*.test.ts'], sample: 0.1, timeout: 600 } }))}`);
  for (let m = 0; m < MODS; m++) {
    for (let p = 0; p < PARTS; p++) {
      for (let i = 0; i < PER_PART; i++) {
        const path = `src/mod-${m}/part-${p}/f${i}.ts`;
        src.push(path);
        chunks.push(`M 100644 inline ${path}\n${data(body(m, p, i))}`);
      }
      for (const i of [0, 9]) {
        const path = `test/mod-${m}/part-${p}/f${i}.test.ts`;
        tests.push(path);
        chunks.push(`M 100644 inline ${path}\n${data(`import { v } from '../../../src/mod-${m}/part-${p}/f${i}.js';\nif (v < 0) throw new Error('v');\n`)}`);
      }
    }
  }
  let seed = 7;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let c = 1; c < 2000; c++) {
    chunks.push(header(c, `change ${c}`));
    for (let j = 0; j < 4; j++) chunks.push(`M 100644 inline ${src[rand(src.length)]}\n${data(`export const v = ${c};\n`)}`);
    chunks.push(`M 100644 inline ${tests[rand(tests.length)]}\n${data(`// ${c}\n`)}`);
  }
  run(path, 'git', ['fast-import', '--quiet'], { input: chunks.join('') });
  return { src, tests, files: src.length + tests.length + 3 };
}

/** A commit on main changing 20 source files (their imports kept, a new value each round). */
function pushOf(bare, paths, round) {
  const chunks = [`commit refs/bench/tmp\ncommitter bench <bench@bench> ${Math.floor(Date.now() / 1000)} +0000\ndata 5\nbench\nfrom refs/heads/main^0\n`];
  for (const p of paths) {
    const [m, part, i] = /mod-(\d+)\/part-(\d+)\/f(\d+)/.exec(p).slice(1).map(Number);
    const text = `${part > 0 ? `import { v as a } from '../part-${part - 1}/f${(i + 1) % PER_PART}.js';\n` : ''}export const v = ${m + round};\n`;
    chunks.push(`M 100644 inline ${p}\ndata ${Buffer.byteLength(text)}\n${text}\n`);
  }
  run(bare, 'git', ['fast-import', '--quiet'], { input: chunks.join('') });
  const oid = git(bare, 'rev-parse', 'refs/bench/tmp');
  git(bare, 'update-ref', '-d', 'refs/bench/tmp');
  return oid;
}

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-select-'));
try {
  const started = Date.now();
  const master = join(root, 'master.git');
  const { src, files } = generate(master);
  const old = git(master, 'rev-parse', 'refs/heads/main');
  console.error(`fixture: ${files} files, 2,000 commits, built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const today = copyRepo(master, join(root, 'today.git'));
  const warm = copyRepo(master, join(root, 'warm.git'));
  const cold = copyRepo(master, join(root, 'cold.git'));
  run(root, process.execPath, [BASELINE_CLI, 'install', today]);
  run(root, process.execPath, [CLI, 'install', warm]);
  run(root, process.execPath, [CLI, 'install', cold]);
  const changed = Array.from({ length: 20 }, (_, k) => src[(k * 7919) % src.length]);
  const hook = (bare, round) => {
    const oid = pushOf(bare, changed, round);
    const r = runHook(bare, 'pre-receive', `${old} ${oid} refs/heads/main\n`, { agent: 'agent-3' });
    if (r.status !== 0) throw new Error(`pre-receive of ${bare} exited ${r.status}: ${r.stderr}`);
    return r.stderr;
  };
  // Warm the test slots (the first push materializes 20,000 files) and the warm repo's cache.
  for (const bare of [today, warm, cold]) console.error(`${bare}: ${hook(bare, -1).split('\n').find((l) => l.startsWith('Tests:'))}`);
  const cache = join(cold, 'agent-hooks', 'imports-index');
  if (!existsSync(join(warm, 'agent-hooks', 'imports-index'))) throw new Error('no imports cache was written');
  const samples = [[], [], []];
  const timed = (fn) => {
    const t = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  let lastWarm = '';
  for (let i = 0; i < PAIRS; i++) {
    samples[0].push(timed(() => hook(today, i)));
    samples[1].push(timed(() => (lastWarm = hook(warm, i))));
    rmSync(cache, { force: true });
    rmSync(join(cold, 'agent-hooks', 'history-cache'), { force: true });
    samples[2].push(timed(() => hook(cold, i)));
  }
  const [a, b, c] = samples.map(median);
  console.error(lastWarm.split('\n').find((l) => l.startsWith('Tests:')));
  console.log(`| 20-file push, ${files} files, selection by imports + history, warm cache vs today's hook | ${fmt(b)} | ${fmt(a)} | ${ratio(b, a)} | at most 1.5x: ${b / a <= 1.5 ? 'met' : '**missed**'} |`);
  console.log(`| the same push, cold caches (every blob parsed, 2,000 commits read) vs today's hook | ${fmt(c)} | ${fmt(a)} | ${ratio(c, a)} | reported |`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
