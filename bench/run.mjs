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

/** The dashboard and soak sections of the current RESULTS.md (written by their own scripts), kept across `npm run bench`. */
function soakSection() {
  if (!existsSync(results)) return '## Soak\n\nNot run yet: `npm run soak`.\n';
  const text = readFileSync(results, 'utf8');
  const at = Math.min(...['## Dashboard', '## Soak'].map((h) => text.indexOf(h)).filter((i) => i >= 0));
  return Number.isFinite(at) ? text.slice(at) : '## Soak\n\nNot run yet: `npm run soak`.\n';
}

/**
 * The affected-first selection section of the current RESULTS.md, kept across `npm run bench`:
 * it compares against another build's hook (`node bench/selection.mjs --baseline <dir>`), so it is
 * measured by hand when selection changes.
 */
function selectionSection() {
  const fallback = '## 6. Affected-first selection\n\nNot run yet: `node bench/selection.mjs --baseline <a build of main>`.\n';
  if (!existsSync(results)) return fallback;
  const text = readFileSync(results, 'utf8');
  const at = text.indexOf('## 6. Affected-first selection');
  if (at < 0) return fallback;
  const end = text.indexOf('\n## ', at + 1);
  return end < 0 ? text.slice(at) : text.slice(at, end + 1);
}

try {
  for (const name of ['lease-match', 'sandbox', 'glob-limits']) await build({ entryPoints: [join(here, `${name}.ts`)], bundle: true, platform: 'node', format: 'esm', mainFields: ['module', 'main'], outfile: join(dir, `${name}.mjs`), logLevel: 'warning' });
  const git = execFileSync('git', ['--version'], { encoding: 'utf8' }).trim();
  const report = [
    '# Benchmark results',
    '',
    `Machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}; node ${process.version}; ${git}; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'} in the environment (rows say which each used). Written ${new Date().toISOString().slice(0, 10)} by \`npm run bench\`.`,
    '',
    'Every figure is a ratio of medians measured in one run, the two sides interleaved (A B A B ...), on the generated repository (`bench/fixture.mjs`: 20,000 files, 2,000 commits, 200 branches, 100 active claims holding 300 lease globs) unless a row says otherwise. The machine is shared and noisy: compare ratios, not milliseconds. Misses are explained in [README.md](README.md).',
    '',
    '## 1. Push overhead (with agent-hooks, tests off, vs no hooks, vs a bare `node -e 0`)',
    '',
    'The overhead is the push with agent-hooks minus the push without. Wall times are medians; the machine is shared, so the aim (issue 18: an overhead of at most 1.5x `node -e 0`) is judged on CPU time (user + system of the push and every process it starts, means), which does not count waiting for a CPU. The floor is the same push to a copy whose pre-receive bundle is empty: node started, the sh post-receive run, nothing read.',
    '',
    '| push | environment | with agent-hooks (ms) | without (ms) | ratio | node -e 0 (ms) | overhead / node -e 0 | CPU ms: with / without / node -e 0 | CPU floor / node -e 0 | CPU overhead / node -e 0 | aim |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    withAim(node(join(here, 'push-overhead.mjs')), 1.5),
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
    '## 4b. The MCP server (`agent-hooks mcp`) against the Claude Code adapter',
    '',
    '| case | MCP (ms) | claude pre-tool-use (ms) | ratio | aim |',
    '|---|---|---|---|---|',
    withAim(node(join(here, 'mcp-start.mjs')), Infinity, 'reported'),
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
    selectionSection(),
    '## Glob limits and case-variants (issue 13 items 11 and 17)',
    '',
    'A ReDoS glob against one path: picomatch as matching was before the limits, against `compilePattern` now (over the cost limit, the glob is judged by its literal base). Then rule 5\'s lookup on the lease-match fixture with the case-variant pass against without (`bench/glob-limits.ts`).',
    '',
    '| case | before / with the pass (ms) | now / without (ms) | ratio |',
    '|---|---|---|---|',
    node(join(dir, 'glob-limits.mjs')),
    '',
    soakSection(),
  ].join('\n');
  writeFileSync(results, report);
  process.stdout.write(report);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
