// Growth (issue 7, figure 3): pre-receive time as the repository grows, one dimension at a time,
// on generated repositories that differ only in that dimension. The hook is run directly on the
// pushed commit, as git runs it; interleaved, medians. Prints Markdown table rows.
// Run after `npm run build`: node bench/growth.mjs [pairs]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitWithout, fmt, generateRepo, git, interleaved, ratio, run, runHook, ZERO } from './fixture.mjs';

const PAIRS = Number(process.argv[2] ?? 15);
const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
let n = 0;
const repo = (options) => generateRepo(join(root, `r${n++}.git`), { install: true, ...options });

/** A ref update that pushes 20 unleased files to a new branch. */
const featurePush = (r, count = 20) => `${ZERO} ${commitWithout(r.path, r.free.slice(0, count), `c${count}`)} refs/heads/feature\n`;

/** A ref update of the claims ref adding one claim of the pusher, leasing unleased files. */
function claimPush(r) {
  const lock = JSON.stringify({ agent: 'bench', started: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), files: ['free/f1*.ts'] });
  const blob = run(r.path, 'git', ['hash-object', '-w', '--stdin'], { input: `${lock}\n` }).stdout.trim();
  const index = join(root, `index-${n++}`);
  const env = { GIT_INDEX_FILE: index };
  run(r.path, 'git', ['read-tree', 'main'], { env });
  run(r.path, 'git', ['update-index', '--add', '--cacheinfo', `100644,${blob},current_tasks/bench.json`], { env });
  const tree = run(r.path, 'git', ['write-tree'], { env }).stdout.trim();
  const commit = run(r.path, 'git', ['commit-tree', tree, '-p', 'main', '-m', 'claim bench'], { env: { GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'b@b' } }).stdout.trim();
  return `${git(r.path, 'rev-parse', 'main')} ${commit} refs/heads/main\n`;
}

function row(what, [small, large], [a, b]) {
  const check = (r, stdin) => {
    const result = runHook(r.path, 'pre-receive', stdin);
    if (result.status !== 0) throw new Error(`${what}: the measured push was rejected: ${result.stderr}`);
  };
  check(small, a);
  check(large, b);
  const [ms, ml] = interleaved(PAIRS, [() => runHook(small.path, 'pre-receive', a), () => runHook(large.path, 'pre-receive', b)]);
  console.log(`| ${what} | ${fmt(ms)} | ${fmt(ml)} | ${ratio(ml, ms)} |`);
}

try {
  const branches = [repo({ branches: 10 }), repo({ branches: 1000 })];
  row('10 vs 1,000 branches (20-file push to a new branch)', branches, branches.map((r) => featurePush(r)));
  const claims = [repo({ claims: 10 }), repo({ claims: 1000 })];
  row('10 vs 1,000 claims (20-file push to a new branch)', claims, claims.map((r) => featurePush(r)));
  row('10 vs 1,000 claims (a claim push, rule 4 checked)', claims, claims.map(claimPush));
  const base = repo({});
  row('1 vs 1,000 changed files (push to a new branch)', [base, base], [featurePush(base, 1), featurePush(base, 1000)]);
} finally {
  rmSync(root, { recursive: true, force: true });
}
