// Start-up of the Claude Code PreToolUse adapter (an allowed edit in a clone where another agent
// holds 300 lease globs, in the generated repository) against `node -e 0`, interleaved, medians, ratio in one run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchEnv, caVariants, cloneOf, generateRepo, median } from './fixture.mjs';

const PAIRS = Number(process.argv[2] ?? 21);
const ADAPTER = resolve(import.meta.dirname, '..', 'dist', 'claude-pre-tool-use.mjs');
const time = (args, input, extra) => {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { input, env: { ...benchEnv, ...extra } });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
};

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
try {
  // A clone of the generated repository (bench/fixture.mjs): 100 claims of other agents.
  const bare = generateRepo(join(root, 'repo.git'));
  const repo = cloneOf(bare.path, join(root, 'clone'), 'bench');
  const input = JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: 'free/f1.ts' }, cwd: repo });
  for (const [label, extra] of caVariants()) {
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
