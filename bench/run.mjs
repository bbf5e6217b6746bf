// `npm run bench`: runs every benchmark and writes bench/RESULTS.md. Each figure is a ratio of
// medians measured in one run, the two sides interleaved, on the generated repository of
// bench/fixture.mjs. Each row says whether it meets its aim (issue 7); bench/README.md explains
// each miss. The soak section, written by `npm run soak`, is kept as it is.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const results = resolve(here, 'RESULTS.md');
const dir = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
const node = (script, ...args) => {
  process.stderr.write(`running ${script.split('/').pop()} ...\n`);
  return execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
};

/** Adds an aim column to table rows whose last cell is a ratio like `1.23x`: `at most 1.8x: met` or `missed`. */
function withAim(rows, max, label = `at most ${max}x`) {
  return rows.split('\n').map((row) => {
    const m = /\| ([\d.]+)x \|$/.exec(row);
    if (!m) return `${row} |`;
    return `${row} ${label}: ${Number(m[1]) <= max ? 'met' : '**missed** (see README)'} |`;
  }).join('\n');
}

/** The soak section of the current RESULTS.md, kept across `npm run bench`. */
function soakSection() {
  if (!existsSync(results)) return '## Soak\n\nNot run yet: `npm run soak`.\n';
  const text = readFileSync(results, 'utf8');
  const at = text.indexOf('## Soak');
  return at >= 0 ? text.slice(at) : '## Soak\n\nNot run yet: `npm run soak`.\n';
}

try {
  for (const name of ['lease-match', 'sandbox']) await build({ entryPoints: [join(here, `${name}.ts`)], bundle: true, platform: 'node', format: 'esm', mainFields: ['module', 'main'], outfile: join(dir, `${name}.mjs`), logLevel: 'warning' });
  const git = execFileSync('git', ['--version'], { encoding: 'utf8' }).trim();
  const report = [
    '# Benchmark results',
    '',
    `Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}; node ${process.version}; ${git}; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'} in the environment (rows say which each used). Written ${new Date().toISOString().slice(0, 10)} by \`npm run bench\`.`,
    '',
    'Every figure is a ratio of medians measured in one run, the two sides interleaved (A B A B ...), on the generated repository (`bench/fixture.mjs`: 20,000 files, 2,000 commits, 200 branches, 100 active claims holding 300 lease globs) unless a row says otherwise. The machine is shared and noisy: compare ratios, not milliseconds. Misses are explained in [README.md](README.md).',
    '',
    '## 1. Push overhead (with agent-hooks, tests off, vs no hooks)',
    '',
    '| push | environment | with agent-hooks (ms) | without (ms) | ratio | aim |',
    '|---|---|---|---|---|---|',
    withAim(node(join(here, 'push-overhead.mjs')), 1.8),
    '',
    '## 2. Against a baseline (a bash pre-receive calling git and jq per file)',
    '',
    '| push | agent-hooks (ms) | bash + jq (ms) | ratio | aim |',
    '|---|---|---|---|---|',
    withAim(node(join(here, 'baseline.mjs')), 1, 'ahead (below 1x)'),
    '',
    '## 3. Growth (pre-receive time, small vs large)',
    '',
    '| dimension | small (ms) | large (ms) | large/small | aim |',
    '|---|---|---|---|---|',
    node(join(here, 'growth.mjs')).split('\n').map((row) => (row.includes('changed files') ? withAim(row, 100, 'at most linear (100x)') : withAim(row, 1.2))).join('\n'),
    '',
    '## 4. pre-commit (with the hook vs `git commit --no-verify`) and the Claude Code adapter',
    '',
    '| case | environment | with (ms) | without (ms) | ratio | aim |',
    '|---|---|---|---|---|---|',
    withAim(node(join(here, 'pre-commit.mjs')), Infinity, 'reported'),
    withAim(node(join(here, 'claude-start.mjs')), 1.5),
    '',
    '## 5. Test sampling and notifications (the ratios of their own issues)',
    '',
    'On their own small fixtures (a node:test suite; a repo with notifications on and off).',
    '',
    '| case | A (ms) | B (ms) | A/B | aim |',
    '|---|---|---|---|---|',
    node(join(here, 'test-sampling.mjs')).split('\n').map((row) => withAim(row, row.includes('warm') ? 1 : 0.2, row.includes('warm') ? 'below 1x' : 'at most 0.2x')).join('\n'),
    withAim(node(join(here, 'notify-overhead.mjs')), 1.1),
    '',
    '## 6. The test sandbox (bwrap vs none)',
    '',
    'The same command through `runIsolated` in the sandbox and unsandboxed, and a whole tested push with `agenthooks.testSandbox auto` vs `off` (`bench/sandbox.ts`). Reported: the sandbox is a security boundary, not an option to trade for speed.',
    '',
    '| case | sandboxed (ms) | unsandboxed (ms) | ratio | cost |',
    '|---|---|---|---|---|',
    node(join(dir, 'sandbox.mjs')),
    '',
    '## Lease matching (ours vs a naive loop over compiled picomatch matchers)',
    '',
    '| case | LeaseTable (ms) | naive (ms) | ratio | aim |',
    '|---|---|---|---|---|',
    withAim(node(join(dir, 'lease-match.mjs')), 1, 'below 1x'),
    '',
    soakSection(),
  ].join('\n');
  writeFileSync(results, report);
  process.stdout.write(report);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
