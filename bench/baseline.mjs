// agent-hooks against a baseline (issue 7, figure 2): the same claim and lease checks as a bash
// pre-receive calling git and jq per file (bench/baseline/pre-receive.sh, written by us for this
// benchmark), on pushes of 1, 100 and 1,000 changed files to a new branch of the generated
// repository (100 claims of other agents, 300 lease globs). Both hooks are run directly on the
// pushed commit, as git runs them; interleaved, medians. Prints Markdown table rows.
// Needs jq. Run after `npm run build`: node bench/baseline.mjs [pairs]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitWithout, fmt, generateRepo, interleaved, ratio, runHook, ZERO } from './fixture.mjs';

const PAIRS = Number(process.argv[2] ?? 10);
const BASELINE = join(import.meta.dirname, 'baseline', 'pre-receive.sh');
if (spawnSync('jq', ['--version']).status !== 0) {
  console.log('| (skipped: jq is not installed; `apt-get install jq`) | | | |');
  process.exit(0);
}

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
try {
  const repo = generateRepo(join(root, 'repo.git'), { install: true });
  const baseline = (stdin) => spawnSync(BASELINE, [], { cwd: repo.path, input: stdin, encoding: 'utf8', env: { ...process.env, GIT_DIR: '.', GIT_PUSH_OPTION_COUNT: '1', GIT_PUSH_OPTION_0: 'agent=bench' } });
  const ours = (stdin) => runHook(repo.path, 'pre-receive', stdin);

  // Both must give the same verdicts before their times mean anything.
  const leased = `${ZERO} ${commitWithout(repo.path, ['src/mod-3/part-0/f1.ts', 'free/f1.ts'], 'leased')} refs/heads/leased\n`;
  const clean = `${ZERO} ${commitWithout(repo.path, repo.free.slice(0, 5), 'clean')} refs/heads/clean\n`;
  for (const [stdin, expected] of [[leased, 1], [clean, 0]]) {
    const [a, b] = [ours(stdin).status, baseline(stdin).status];
    if (a !== expected || b !== expected) throw new Error(`the hooks disagree with the expected exit ${expected}: agent-hooks ${a}, baseline ${b}`);
  }

  for (const n of [1, 100, 1000]) {
    const stdin = `${ZERO} ${commitWithout(repo.path, repo.free.slice(0, n), `n${n}`)} refs/heads/feature-${n}\n`;
    const [a, b] = interleaved(PAIRS, [() => ours(stdin), () => baseline(stdin)]);
    console.log(`| ${n.toLocaleString('en-US')} changed file${n === 1 ? '' : 's'}, new branch | ${fmt(a)} | ${fmt(b)} | ${ratio(a, b)} |`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
