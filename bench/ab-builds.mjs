// Two builds of agent-hooks side by side: each one's CLI installs its hooks into its own copy of
// the generated repository, and the same pushes (a 20-file commit to a feature branch, and a claim
// on the claims ref) go to both, interleaved A B A B, after a warm-up. Prints the medians and the
// ratio A/B per kind, and CPU-time means (fixture.mjs childrenCpu: steadier on a shared
// machine). For a change to the hook path (a reshaping, start-up work): build the old
// commit in a worktree, then
//   node bench/ab-builds.mjs <old-checkout>/dist dist [pairs]
// Tests are off (no test policy): this measures the hooks' own cost.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { caVariants, cloneOf, copyRepo, fmt, generateRepo, git, mean, median, ratio, run, timeWithCpu, benchPush, prepareBenchPush } from './fixture.mjs';

const [distA, distB, pairsArg] = process.argv.slice(2);
if (!distA || !distB) {
  console.error('usage: node bench/ab-builds.mjs <distA> <distB> [pairs]');
  process.exit(2);
}
const PAIRS = Number(pairsArg ?? 15);
const root = mkdtempSync(join(tmpdir(), 'agent-hooks-ab-'));
try {
  const base = generateRepo(join(root, 'base.git'));
  const sides = { A: resolve(distA), B: resolve(distB) };
  const clones = {};
  for (const [side, dist] of Object.entries(sides)) {
    const bare = copyRepo(base.path, join(root, `${side}.git`));
    run(root, process.execPath, [join(dist, 'cli.mjs'), 'install', bare]);
    clones[side] = cloneOf(bare, join(root, side));
  }
  const prepare = (clone, kind, n) => prepareBenchPush(clone, kind, n, base.free);
  const push = benchPush;
  console.log('| push | NODE_EXTRA_CA_CERTS | A ms | B ms | A/B | CPU A ms | CPU B ms | CPU A/B |');
  console.log('|---|---|---|---|---|---|---|---|');
  let round = 0;
  for (const [label, env] of caVariants()) {
    for (const kind of ['feature', 'claim']) {
      round++;
      const samples = { A: [], B: [] };
      for (let i = -2; i < PAIRS; i++) {
        // Alternate which side goes first, so neither always pushes to a warmer cache.
        for (const side of i % 2 === 0 ? ['A', 'B'] : ['B', 'A']) {
          const n = round * 1000 + i + 2;
          prepare(clones[side], kind, n);
          const t = timeWithCpu(() => push(clones[side], kind, n, env));
          if (i >= 0) samples[side].push(t);
        }
      }
      const [a, b] = [median(samples.A.map((t) => t.wall)), median(samples.B.map((t) => t.wall))];
      const [ca, cb] = [mean(samples.A.map((t) => t.cpu)), mean(samples.B.map((t) => t.cpu))];
      console.log(`| ${kind === 'feature' ? '1 commit, 20 files, feature branch' : '1 lock file, claims ref'} | ${label} | ${fmt(a)} | ${fmt(b)} | ${ratio(a, b)} | ${fmt(ca)} | ${fmt(cb)} | ${ratio(ca, cb)} |`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
