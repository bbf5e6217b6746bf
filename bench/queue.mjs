// `npm run bench:queue` (issue 14): the same workload landed on main by direct pushes
// (`agent-hooks push`, which fetches, rebases and tests again after every lost race) and through
// the landing queue (`agent-hooks land`: batched, tested once per batch). N agent processes
// (bench/queue-agent.mjs), each with its own clone, make 3 changes each; the policy samples 5% of
// 40 test files of ~0.6 s each. One run per mode and agent count, side by side:
// landed per minute, test runs (every start of the test command, counted by the command itself),
// give-ups (a push or land that did not land), and p50/max latency from commit to landed.
// Usage (after `npm run build`): node bench/queue.mjs [--agents 8,30] [--changes 3] [--no-write]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI, git, median, run, runAgentProcesses } from './fixture.mjs';

const argText = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const AGENT_COUNTS = argText('agents', '8,30').split(',').map(Number);
const CHANGES = Number(argText('changes', '3'));
const MODES = argText('modes', 'direct,queue').split(',');
const TEST_FILES = 40;
const TEST_SECONDS = 0.6;
const SAMPLE = 0.05;
const DEADLINE_MS = 20 * 60_000;
const RESULTS = resolve(import.meta.dirname, 'RESULTS.md');

/** A bare repo with 40 test files and the policy (queue on or off), and one clone per agent. */
function setup(root, agents, queue) {
  const bare = join(root, 'upstream.git');
  git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  run(root, process.execPath, [CLI, 'install', bare]);
  git(bare, 'config', 'gc.auto', '0');
  // The test command counts its own runs in a file outside the repo, which a sandboxed run cannot
  // see; the sandbox's own cost is measured in bench/sandbox.ts (RESULTS.md).
  git(bare, 'config', 'agenthooks.testSandbox', 'off');
  const runs = join(root, 'test-runs');
  const seed = join(root, 'seed');
  git(root, 'clone', '--quiet', bare, seed);
  for (const [k, v] of [['user.name', 'seed'], ['user.email', 'seed@bench']]) git(seed, 'config', k, v);
  mkdirSync(join(seed, 'current_tasks'), { recursive: true });
  writeFileSync(join(seed, 'current_tasks', '.gitkeep'), '');
  mkdirSync(join(seed, 'test'), { recursive: true });
  for (let t = 0; t < TEST_FILES; t++) writeFileSync(join(seed, 'test', `t${String(t).padStart(2, '0')}.sh`), `sleep ${TEST_SECONDS}\n`);
  const policy = {
    test: { command: ['sh', '-c', `echo run >> ${runs}; for f; do sh "$f" || exit 1; done`, 'tests'], files: ['test/*.sh'], sample: SAMPLE, timeout: 120 },
    ...(queue ? { queue: { enabled: true } } : {}),
  };
  writeFileSync(join(seed, 'agent-hooks.json'), `${JSON.stringify(policy, null, 2)}\n`);
  git(seed, 'add', '-A');
  git(seed, 'commit', '--quiet', '-m', 'seed');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
  writeFileSync(runs, ''); // the seed push's own test run does not count
  const clones = [];
  for (let a = 1; a <= agents; a++) {
    const clone = join(root, `agent-${a}`);
    git(root, 'clone', '--quiet', bare, clone);
    for (const [k, v] of [['user.name', `agent-${a}`], ['user.email', `agent-${a}@bench`], ['commit.gpgSign', 'false'], ['gc.auto', '0']]) git(clone, 'config', k, v);
    clones.push(clone);
  }
  return { bare, clones, runs };
}

/** Runs every agent at once; resolves with the journal entries and the wall time (ms). */
function runAgents(root, clones, mode) {
  return runAgentProcesses(root, clones, join(import.meta.dirname, 'queue-agent.mjs'), (clone, i, journal) => [clone, `agent-${i + 1}`, String(CHANGES), mode, journal], { deadlineMs: DEADLINE_MS });
}

/** Waits until no lander serves `bare` (the last verdicts are written before it exits). */
async function landerDone(bare, ms) {
  const lock = join(bare, 'agent-hooks', 'workers', 'lander.lock');
  const until = Date.now() + ms;
  while (Date.now() < until && existsSync(lock)) await new Promise((r) => setTimeout(r, 200));
}

async function measure(agents, mode) {
  const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-queue-'));
  try {
    const { bare, clones, runs } = setup(root, agents, mode === 'queue');
    const { entries, wall } = await runAgents(root, clones, mode);
    if (mode === 'queue') await landerDone(bare, 60_000);
    const subjects = new Set(git(bare, 'log', '--format=%s', 'main').split('\n'));
    const landed = entries.filter((e) => e.exit === 0 && subjects.has(`${e.agent}: change ${e.k}`));
    const latencies = landed.map((e) => (e.t1 - e.t0) / 1000);
    const testRuns = readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
    const log = join(bare, 'agent-hooks', 'workers', 'lander.log');
    const batches = existsSync(log) ? (readFileSync(log, 'utf8').match(/ batch of \d+:/g) ?? []).length : 0;
    if (existsSync(log) && process.argv.includes('--keep-log')) writeFileSync(join(tmpdir(), `lander-${agents}.log`), readFileSync(log));
    return {
      mode,
      agents,
      changes: entries.length,
      landed: landed.length,
      wall,
      perMinute: landed.length / (wall / 60_000),
      testRuns,
      gaveUp: entries.filter((e) => e.exit !== 0).length,
      p50: latencies.length ? median(latencies) : NaN,
      max: latencies.length ? Math.max(...latencies) : NaN,
      batches,
      failures: entries.filter((e) => e.exit !== 0).slice(0, 3).map((e) => e.out),
    };
  } finally {
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

const results = [];
for (const agents of AGENT_COUNTS) {
  for (const mode of MODES) {
    const r = await measure(agents, mode);
    results.push(r);
    process.stderr.write(`${agents} agents, ${mode}: ${r.landed}/${r.changes} landed in ${(r.wall / 1000).toFixed(1)} s, ${r.testRuns} test runs, ${r.gaveUp} gave up\n`);
    for (const f of r.failures) process.stderr.write(`  gave up: ${f}\n`);
  }
}

const row = (label, f) => `| ${label} | ${AGENT_COUNTS.flatMap((n) => MODES.map((m) => f(results.find((r) => r.agents === n && r.mode === m)))).join(' | ')} |`;
const lines = [
  '## Landing queue',
  '',
  `\`npm run bench:queue\`, ${new Date().toISOString().slice(0, 10)}: ${AGENT_COUNTS.join(' and ')} agent processes x ${CHANGES} changes each (a new file on a fresh branch from main), one bare repo on this machine (${cpus().length} CPUs, shared); ${TEST_FILES} test files of ${TEST_SECONDS} s, sample ${SAMPLE}, tests unsandboxed (\`agenthooks.testSandbox off\`). direct: \`agent-hooks push origin HEAD:main\` (fetch, rebase, test again after each lost race; at most 12 attempts). queue: \`agent-hooks land\` (queue.batch 8). One run each; latency is from the commit to \`land\`/\`push\` returning landed.`,
  '',
  `| | ${AGENT_COUNTS.flatMap((n) => MODES.map((m) => `${n} agents, ${m}`)).join(' | ')} |`,
  `|---|${AGENT_COUNTS.flatMap(() => MODES.map(() => '---')).join('|')}|`,
  row('changes landed', (r) => `${r.landed}/${r.changes}`),
  row('wall time (s)', (r) => (r.wall / 1000).toFixed(1)),
  row('landed per minute', (r) => r.perMinute.toFixed(1)),
  row('test runs', (r) => String(r.testRuns)),
  row('gave up', (r) => String(r.gaveUp)),
  row('latency p50 (s)', (r) => r.p50.toFixed(1)),
  row('latency max (s)', (r) => r.max.toFixed(1)),
  row('lander batches', (r) => (r.mode === 'queue' ? String(r.batches) : '-')),
  '',
  ...(MODES.length < 2 ? [] : AGENT_COUNTS).map((n) => {
    const d = results.find((r) => r.agents === n && r.mode === 'direct');
    const q = results.find((r) => r.agents === n && r.mode === 'queue');
    return `${n} agents: the queue lands ${(q.perMinute / d.perMinute).toFixed(1)}x as many changes per minute with ${(q.testRuns / Math.max(1, d.testRuns)).toFixed(2)}x the test runs.`;
  }),
  '',
];
const section = lines.join('\n');
process.stdout.write(`${section}\n`);
if (!process.argv.includes('--no-write') && MODES.length === 2) {
  const text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n\n';
  const at = text.indexOf('## Landing queue');
  const end = at >= 0 ? text.indexOf('\n## ', at + 1) : -1;
  writeFileSync(RESULTS, at >= 0 ? `${text.slice(0, at)}${section}${end >= 0 ? text.slice(end + 1) : ''}` : `${text.trimEnd()}\n\n${section}`);
}
