// pre-commit cost: a commit of 1,000 paths against 300 lease globs (100 claims of other agents)
// in the generated 20,000-file repo, with the hook against `git commit --no-verify`, interleaved, medians.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caVariants, CLI, cloneOf, generateRepo, git, median, run } from './fixture.mjs';

const PAIRS = Number(process.argv[2] ?? 11);

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
try {
  // The generated repository (bench/fixture.mjs): 20,000 files, 100 claims of other agents.
  const bare = generateRepo(join(root, 'repo.git'));
  const repo = cloneOf(bare.path, join(root, 'clone'), 'bench');
  run(root, process.execPath, [CLI, 'install', repo]);
  // 1,000 changed paths under free/, leased by nobody: the hook checks them all and passes.
  for (const p of bare.free) writeFileSync(join(repo, p), 'export const changed = 1;\n');
  git(repo, 'add', '-A');

  for (const [label, extra] of caVariants()) {
    const withHook = [];
    const without = [];
    for (let i = 0; i < PAIRS; i++) {
      for (const [list, args] of [[withHook, []], [without, ['--no-verify']]]) {
        const start = process.hrtime.bigint();
        run(repo, 'git', ['commit', '--quiet', '-m', `round ${i}`, ...args], { env: extra });
        list.push(Number(process.hrtime.bigint() - start) / 1e6);
        git(repo, 'reset', '--quiet', '--soft', 'HEAD~1');
      }
    }
    console.log(`| commit of 1,000 paths, 300 lease globs, 20,000-file repo | ${label} | ${median(withHook).toFixed(1)} | ${median(without).toFixed(1)} | ${(median(withHook) / median(without)).toFixed(2)}x |`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
