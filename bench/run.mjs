// `npm run bench`: runs every benchmark and writes bench/RESULTS.md. Each figure is a ratio of
// medians measured in one run, the two sides interleaved. Run after `npm run build`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const dir = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
const node = (script, ...args) => execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
try {
  await build({ entryPoints: [join(here, 'lease-match.ts')], bundle: true, platform: 'node', format: 'esm', mainFields: ['module', 'main'], outfile: join(dir, 'lease-match.mjs'), logLevel: 'warning' });
  const git = execFileSync('git', ['--version'], { encoding: 'utf8' }).trim();
  const report = [
    '# Benchmark results',
    '',
    `Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}; node ${process.version}; ${git}; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'} in the environment (rows say which each used). Ratios of medians, interleaved, one run.`,
    '',
    '## Lease matching (ours vs a naive loop over compiled picomatch matchers)',
    '',
    '| case | LeaseTable (ms) | naive (ms) | ratio |',
    '|---|---|---|---|',
    node(join(dir, 'lease-match.mjs')),
    '',
    '## pre-commit (with the hook vs `git commit --no-verify`)',
    '',
    '| case | environment | with hook (ms) | without (ms) | ratio |',
    '|---|---|---|---|---|',
    node(join(here, 'pre-commit.mjs')),
    '',
    '## Claude Code adapter start-up (PreToolUse, an allowed edit, vs `node -e 0`)',
    '',
    '| case | environment | adapter (ms) | node -e 0 (ms) | ratio |',
    '|---|---|---|---|---|',
    node(join(here, 'claude-start.mjs')),
    '',
    '## Test sampling (pushes whose pre-receive runs tests)',
    '',
    '| case | A (ms) | B (ms) | A/B |',
    '|---|---|---|---|',
    node(join(here, 'test-sampling.mjs')),
    '',
    '## Notifications (NODE_EXTRA_CA_CERTS unset)',
    '',
    '| case | on (ms) | off (ms) | ratio |',
    '|---|---|---|---|',
    node(join(here, 'notify-overhead.mjs')),
    '',
    '## Push overhead (with agent-hooks vs no hooks)',
    '',
    node(join(here, 'push-overhead.mjs')).split('\n').slice(2).join('\n'),
    '',
  ].join('\n');
  writeFileSync(resolve(here, 'RESULTS.md'), report);
  process.stdout.write(report);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
