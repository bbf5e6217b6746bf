// `npm run soak` (issue 7): 30 agent processes (bench/soak-agent.mjs), each with its own clone,
// work one bare repository for a fixed number of rounds, with a Slack stand-in on 127.0.0.1 that
// sometimes answers 429 and 500. Then it checks, and exits 1 on any failure:
// - no task was ever held by two agents at once, in every state the claims ref passed through
//   (its reflog, core.logAllRefUpdates=always);
// - no accepted push touched a path leased by another agent's active claim;
// - every landed ref update was announced exactly once;
// - `git fsck` is clean; no spool file, temp file, lock or process is left behind.
// The same soak runs again with no hooks, for pushes per second with vs without.
// Bounded: rounds and agents are fixed, and every wait has a deadline.
// Usage (after `npm run build`): node bench/soak.mjs [--agents 30] [--rounds 3] [--no-write] [--verbose]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchEnv, CLI, git, run, runAgentProcesses } from './fixture.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const AGENTS = arg('agents', 30);
const ROUNDS = arg('rounds', 3);
const TASKS = 40;
const DEADLINE_MS = 20 * 60_000;
const RESULTS = resolve(import.meta.dirname, 'RESULTS.md');

/** A Slack stand-in: answers 429 (Retry-After: 1) or 500 to about one request in eight each, else 200, and keeps the bodies it accepted. */
async function slackStandIn() {
  const accepted = [];
  const counts = { 200: 0, 429: 0, 500: 0 };
  let n = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      n++;
      const code = n % 8 === 3 ? 429 : n % 8 === 6 ? 500 : 200;
      counts[code]++;
      if (code === 200) accepted.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(code, code === 429 ? { 'retry-after': '1' } : {});
      res.end(code === 200 ? 'ok' : 'try again');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/services/T000/B000/soaksecret`, accepted, counts, close: () => new Promise((r) => server.close(r)) };
}

/** The bare repo (hooks or not), seeded with 40 tasks' files, and one clone per agent. */
function setup(root, hooks, slackUrl) {
  const bare = join(root, 'upstream.git');
  if (hooks) run(root, process.execPath, [CLI, 'install', '--create', bare]);
  else git(root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
  git(bare, 'config', 'receive.advertisePushOptions', 'true');
  git(bare, 'config', 'core.logAllRefUpdates', 'always');
  git(bare, 'config', 'gc.auto', '0');
  const seed = join(root, 'seed');
  git(root, 'clone', '--quiet', bare, seed);
  for (const [k, v] of [['user.name', 'seed'], ['user.email', 'seed@soak']]) git(seed, 'config', k, v);
  mkdirSync(join(seed, 'current_tasks'), { recursive: true });
  writeFileSync(join(seed, 'current_tasks', '.gitkeep'), '');
  for (let t = 0; t < TASKS; t++) {
    mkdirSync(join(seed, 'src', `task-${t}`), { recursive: true });
    for (const f of ['a.txt', 'b.txt']) writeFileSync(join(seed, 'src', `task-${t}`, f), `task ${t} ${f}\n`);
  }
  git(seed, 'add', '-A');
  git(seed, 'commit', '--quiet', '-m', 'seed');
  git(seed, 'push', '--quiet', 'origin', 'HEAD:main');
  if (slackUrl) git(bare, 'config', 'agenthooks.slack.webhookUrl', slackUrl);
  const clones = [];
  for (let a = 1; a <= AGENTS; a++) {
    const clone = join(root, `agent-${a}`);
    git(root, 'clone', '--quiet', bare, clone);
    for (const [k, v] of [['user.name', `agent-${a}`], ['user.email', `agent-${a}@soak`], ['commit.gpgSign', 'false'], ['gc.auto', '0']]) git(clone, 'config', k, v);
    clones.push(clone);
  }
  return { bare, clones };
}

/** Runs every agent at once; resolves with the journal entries and the wall time (ms). */
function runAgents(root, clones) {
  return runAgentProcesses(root, clones, join(import.meta.dirname, 'soak-agent.mjs'), (clone, i, journal) => [clone, `agent-${i + 1}`, String(ROUNDS), String(TASKS), String(7919 * (i + 1)), journal, i % 10 === 0 ? '1' : '0'], { env: { ...benchEnv, AGENT_HOOKS_NOTIFY_BACKOFF_MS: '200' }, deadlineMs: DEADLINE_MS });
}

/** Every ref update that landed after the seed: `{ref, old, new, time}` from the reflogs. */
function landedUpdates(bare) {
  const refs = git(bare, 'for-each-ref', '--format=%(refname)').split('\n').filter(Boolean);
  const out = [];
  for (const ref of refs) {
    const lines = run(bare, 'git', ['reflog', 'show', '--format=%H %gd', '--date=unix', ref], {}).stdout.trim().split('\n').filter(Boolean).reverse();
    let old = '0'.repeat(40);
    for (const line of lines) {
      const [oid, selector] = line.split(' ');
      const time = Number(/@\{(\d+)\}/.exec(selector)?.[1] ?? 0);
      out.push({ ref, old, new: oid, time });
      old = oid;
    }
  }
  return out.filter((u) => !(u.ref === 'refs/heads/main' && u.old === '0'.repeat(40)));
}

/** The claims (task -> {agent, expires ms}) in one commit's current_tasks/. */
function claimsAt(bare, oid, cache) {
  if (cache.has(oid)) return cache.get(oid);
  const names = run(bare, 'git', ['ls-tree', '--name-only', `${oid}:current_tasks`]).stdout.split('\n').filter((n) => /\.(json|txt)$/.test(n));
  const claims = new Map();
  const texts = names.length ? run(bare, 'git', ['cat-file', '--batch'], { input: names.map((n) => `${oid}:current_tasks/${n}\n`).join('') }).stdout : '';
  let at = 0;
  for (const name of names) {
    const eol = texts.indexOf('\n', at);
    const size = Number(texts.slice(at, eol).split(' ')[2]);
    const body = texts.slice(eol + 1, eol + 1 + size);
    at = eol + 1 + size + 1;
    const field = (k) => new RegExp(`^${k}: (.*)$`, 'm').exec(body)?.[1] ?? JSON.parse(body.startsWith('{') ? body : '{}')[k];
    const task = name.replace(/\.(json|txt)$/, '');
    if (claims.has(task)) claims.set(task, { agent: '(two lock files)', expires: Infinity });
    else claims.set(task, { agent: field('agent'), expires: Date.parse(field('renewed') ?? field('started')) + Number(field('ttl') ?? 7200) * 1000 });
  }
  cache.set(oid, claims);
  return claims;
}

function check(bare, entries, slack, root) {
  const failures = [];
  const cache = new Map();
  const landed = landedUpdates(bare);

  // 1. Every state of the claims ref: a task changes holder only when the old claim had expired
  //    (server clock, whole seconds: 1 s of slack) or was released in between.
  const states = landed.filter((u) => u.ref === 'refs/heads/main');
  let handovers = 0;
  for (const u of states) {
    const before = claimsAt(bare, u.old, cache);
    const after = claimsAt(bare, u.new, cache);
    for (const [task, claim] of after) {
      if (claim.agent === '(two lock files)') failures.push(`${u.new}: task ${task} has two lock files`);
      const prior = before.get(task);
      if (prior && prior.agent !== claim.agent) {
        handovers++;
        if (prior.expires > (u.time + 1) * 1000) failures.push(`${u.new}: task ${task} went from ${prior.agent} (active until ${new Date(prior.expires).toISOString()}) to ${claim.agent} at ${new Date(u.time * 1000).toISOString()}`);
      }
    }
  }

  // 2. No accepted push touched another agent's active lease, in any state of the claims ref
  //    that can have been current while it ran (reflog times are whole seconds).
  const timeline = states.map((u) => ({ oid: u.new, time: u.time * 1000 }));
  const accepted = entries.filter((e) => (e.kind === 'push' || e.kind === 'rogue') && e.exit === 0);
  let rogueAccepted = 0;
  let rogueRefused = 0;
  for (const e of entries.filter((x) => x.kind === 'rogue')) e.exit === 0 ? rogueAccepted++ : rogueRefused++;
  for (const e of accepted) {
    const candidates = timeline.filter((s, i) => s.time <= e.t1 + 1000 && (timeline[i + 1]?.time ?? Infinity) >= e.t0 - 1000);
    for (const path of e.paths ?? []) {
      const task = /^src\/(task-\d+)\//.exec(path)?.[1];
      const heldByOther = (s) => {
        const c = claimsAt(bare, s.oid, cache).get(task);
        return c !== undefined && c.agent !== e.agent && c.expires > e.t1 + 1000;
      };
      if (candidates.length > 0 && candidates.every(heldByOther)) failures.push(`${e.agent}'s push of ${e.ref} was accepted but ${path} was leased by ${claimsAt(bare, candidates[0].oid, cache).get(task).agent} throughout`);
    }
  }

  // 3. Every landed ref update announced exactly once.
  const texts = slack ? slack.accepted.map((m) => m.text) : [];
  if (slack) {
    for (const u of landed) {
      const key = u.old === '0'.repeat(40) ? `created at ${u.new.slice(0, 10)}` : `${u.old.slice(0, 10)}..${u.new.slice(0, 10)}`;
      const times = texts.filter((t) => t.includes(`${u.ref.replace('refs/heads/', '')} ${key}`)).length;
      if (times !== 1) failures.push(`${u.ref} ${key} was announced ${times} times`);
    }
  }

  // 4. fsck, and nothing left behind.
  const fsck = run(bare, 'git', ['fsck', '--no-progress'], { allowFail: true });
  if (fsck.status !== 0) failures.push(`git fsck: ${fsck.stderr.trim()}`);
  const home = join(bare, 'agent-hooks');
  const leftovers = [];
  const walk = (dir) => {
    for (const name of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
      const p = join(dir, name.name);
      if (name.isDirectory()) walk(p);
      else if (!/\/agent-hooks\/(notify\.log|overrides\.log)$/.test(p)) leftovers.push(p);
    }
  };
  walk(join(home, 'spool'));
  for (const name of existsSync(home) ? readdirSync(home) : []) if (/lock|tmp/.test(name)) leftovers.push(join(home, name));
  if (leftovers.length > 0) failures.push(`left in the bare repo: ${leftovers.slice(0, 5).join(', ')}`);
  const temps = readdirSync(tmpdir()).filter((n) => n.startsWith('agent-hooks-') && !root.endsWith(n) && !beforeTemps.has(n));
  if (temps.length > 0) failures.push(`temp entries left: ${temps.join(', ')}`);
  const procs = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(root) && !l.includes('ps -eo'));
  if (procs.length > 0) failures.push(`processes left: ${procs.join(' | ')}`);
  return { failures, landed: landed.length, handovers, rogueAccepted, rogueRefused, announced: texts.length };
}

/** Waits (at most `ms`) for the spool of `bare` to empty and its sender to end. */
async function drained(bare, ms) {
  const spool = join(bare, 'agent-hooks', 'spool');
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const pending = existsSync(spool) ? readdirSync(spool).filter((n) => n !== 'failed') : [];
    const busy = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.includes(bare);
    if (pending.length === 0 && !busy) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

const beforeTemps = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('agent-hooks-')));

async function soak(hooks) {
  const root = mkdtempSync(join(tmpdir(), 'agent-hooks-soak-'));
  const slack = hooks ? await slackStandIn() : undefined;
  try {
    const { bare, clones } = setup(root, hooks, slack?.url);
    const { entries, wall } = await runAgents(root, clones);
    if (hooks && !(await drained(bare, 120_000))) throw new Error('the notification spool did not drain within 120 s');
    const pushes = entries.filter((e) => ['claim', 'push', 'rogue', 'release'].includes(e.kind));
    const result = hooks ? check(bare, entries, slack, root) : { failures: [], landed: landedUpdates(bare).length };
    const logText = existsSync(join(bare, 'agent-hooks', 'notify.log')) ? readFileSync(join(bare, 'agent-hooks', 'notify.log'), 'utf8') : '';
    if (slack && logText.includes('soaksecret')) result.failures.push('the webhook token appears in notify.log');
    return { ...result, wall, attempts: pushes.length, gaveUp: entries.filter((e) => e.kind === 'push' && e.exit !== 0).length, slackCounts: slack?.counts, entries };
  } finally {
    await slack?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
}

const withHooks = await soak(true);
// --verbose: the journal entry (with git's last output) of every push that gave up.
if (process.argv.includes('--verbose')) for (const e of withHooks.entries.filter((x) => x.kind === 'push' && x.exit !== 0)) console.error(JSON.stringify(e));
const without = await soak(false);
const rate = (r) => r.landed / (r.wall / 1000);
const heldExits = withHooks.entries.filter((e) => e.kind === 'claim' && e.exit === 3).length;
const lines = [
  '## Soak',
  '',
  `\`npm run soak\`, ${new Date().toISOString().slice(0, 10)}: ${AGENTS} agent processes x ${ROUNDS} rounds, ${TASKS} tasks, one bare repo on this machine (${cpus().length} CPUs), a Slack stand-in answering 429 and 500 to one request in eight each. Pushes per second count ref updates that landed.`,
  '',
  '| | with agent-hooks | no hooks | ratio |',
  '|---|---|---|---|',
  `| wall time (s) | ${(withHooks.wall / 1000).toFixed(1)} | ${(without.wall / 1000).toFixed(1)} | ${(withHooks.wall / without.wall).toFixed(2)}x |`,
  `| ref updates landed | ${withHooks.landed} | ${without.landed} | |`,
  `| pushes per second | ${rate(withHooks).toFixed(2)} | ${rate(without).toFixed(2)} | ${(rate(withHooks) / rate(without)).toFixed(2)}x |`,
  `| pushes given up after retries | ${withHooks.gaveUp} | ${without.gaveUp} | |`,
  '',
  `With hooks: ${withHooks.attempts} agent actions; ${heldExits} claims answered "held by another agent" (exit 3); ${withHooks.handovers} tasks changed hands, each after a release or an expiry; ${withHooks.rogueRefused} rogue pushes refused and ${withHooks.rogueAccepted} accepted (their task was free); Slack answered ${JSON.stringify(withHooks.slackCounts)} and ${withHooks.announced} messages were accepted.`,
  '',
  withHooks.failures.length === 0
    ? 'Checks: all passed (no task held twice in any state of the claims ref, no accepted push on another agent\'s lease, every landed ref update announced exactly once, fsck clean, nothing left behind).'
    : `Checks: **${withHooks.failures.length} failed**:\n${withHooks.failures.slice(0, 30).map((f) => `- ${f}`).join('\n')}`,
  '',
];
const section = lines.join('\n');
process.stdout.write(`${section}\n`);
if (!process.argv.includes('--no-write')) {
  const text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmark results\n\n';
  const at = text.indexOf('## Soak');
  // Sections after this one (the landing queue's) stay.
  const end = at >= 0 ? text.indexOf('\n## ', at + 1) : -1;
  writeFileSync(RESULTS, `${at >= 0 ? text.slice(0, at) : `${text}\n`}${section}${end >= 0 ? text.slice(end + 1) : ''}`);
}
process.exit(withHooks.failures.length === 0 ? 0 : 1);
