// Push overhead (issue 7, figure 1): a 1-commit, 20-file push to a feature branch, and a claim
// push, to the generated repository with agent-hooks (tests off) against a copy without hooks.
// Interleaved (A B A B ...), medians over PAIRS pairs, one run. Prints Markdown table rows.
// Run after `npm run build`: node bench/push-overhead.mjs [pairs]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caVariants, CLI, cloneOf, copyRepo, fmt, generateRepo, git, median, ratio, run, time } from './fixture.mjs';

const PAIRS = Number(process.argv[2] ?? 15);
const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
try {
  const plain = generateRepo(join(root, 'plain.git'));
  const hooked = copyRepo(plain.path, join(root, 'hooked.git'));
  run(root, process.execPath, [CLI, 'install', hooked]);
  const clones = { hooked: cloneOf(hooked, join(root, 'hooked')), plain: cloneOf(plain.path, join(root, 'plain')) };
  let round = 0;
  const prepare = (clone, kind, n) => {
    if (kind === 'feature') {
      git(clone, 'checkout', '--quiet', '-B', `feature-${n}`, 'origin/main');
      for (const p of plain.free.slice(0, 20)) writeFileSync(join(clone, p), `export const round = ${n};\n`);
    } else {
      git(clone, 'checkout', '--quiet', 'main');
      const lock = { agent: 'bench', started: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), files: [`free/f${n}.ts`] };
      writeFileSync(join(clone, 'current_tasks', `bench-${n}.json`), `${JSON.stringify(lock)}\n`);
    }
    git(clone, 'add', '-A');
    git(clone, 'commit', '--quiet', '-m', `round ${n}`);
  };
  const push = (clone, kind, n, env) => {
    const target = kind === 'feature' ? `HEAD:refs/heads/feature-${n}` : 'HEAD:main';
    run(clone, 'git', ['push', '--quiet', '-o', 'agent=bench', 'origin', target], { env });
  };
  for (const [label, env] of caVariants()) {
    for (const kind of ['feature', 'claim']) {
      round++;
      const samples = { hooked: [], plain: [] };
      // Interleaved; preparing each commit is not measured, only the push.
      for (let i = 0; i < PAIRS; i++) {
        for (const side of ['hooked', 'plain']) {
          const n = round * 1000 + i;
          prepare(clones[side], kind, n);
          samples[side].push(time(() => push(clones[side], kind, n, env)));
        }
      }
      const [a, b] = [median(samples.hooked), median(samples.plain)];
      const what = kind === 'feature' ? '1 commit, 20 files, feature branch' : '1 lock file, claims ref';
      console.log(`| ${what} | ${label} | ${fmt(a)} | ${fmt(b)} | ${ratio(a, b)} |`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
