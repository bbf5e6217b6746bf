// The landing queue (DESIGN.md "The landing queue"): the pure core as tables, then real bare
// repos and clones: concurrent `land`, a bad entry in a batch, a conflict, a lander SIGKILLed
// mid-batch, and the refusals of bad queue input.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { checkQueueRequired, checkQueueUpdates, isClaimsOnlyMove, nextBatchSize, parseQueueNote, parseQueueRef, splitBatch, takeBatch, topicOfBranch, topicProblem, type QueueEntry } from '../core/queue.js';
import { batchSelection } from '../server/batch-tests.js';
import { selectTestFiles } from '../core/selection.js';
import { defaultPolicy, parsePolicy, QUEUE_DEFAULTS, type QueuePolicy } from '../core/policy.js';
import { cli, cliAsync, commit, git, lockText, push, sendersDone, sharedRepo, waitFor } from './helpers/git.js';
import { FakeSlack } from './helpers/slack.js';

const Z = '0'.repeat(40);
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('queue refs and topics', () => {
  it.each([
    ['refs/land/agent-1/fix-parser', { agent: 'agent-1', topic: 'fix-parser' }],
    ['refs/land/agent-1/feature/x', { agent: 'agent-1', topic: 'feature/x' }],
    ['refs/land/agent-1', 'problem'],
    ['refs/land/-bad/x', 'problem'],
    ['refs/land/agent-1/a@b', 'problem'],
    ['refs/land/agent-1/x.lock', 'problem'],
    ['refs/heads/main', 'problem'],
  ])('%s', (ref, expected) => {
    const parsed = parseQueueRef(ref);
    if (expected === 'problem') expect(parsed).toHaveProperty('problem');
    else expect(parsed).toEqual(expected);
  });
  it.each([
    ['feature/parser', 'feature/parser'],
    ['wip@home', 'wip-home'],
    ['a/b/c/d/e', 'a/b/c/d'],
    ['x.lock', 'x'],
  ])('branch %s gives topic %s', (branch, topic) => {
    expect(topicOfBranch(branch)).toBe(topic);
    expect(topicProblem(topic)).toBeUndefined();
  });
});

describe('batching and bisection', () => {
  it.each([
    [8, false, 8, 4],
    [1, false, 8, 1],
    [4, true, 8, 8],
    [8, true, 8, 8],
    [3, true, 5, 5],
  ])('size %i after %s (max %i) is %i', (size, passed, max, next) => expect(nextBatchSize(size, passed, max)).toBe(next));
  it('splits a batch in halves, the first taking the odd one', () => {
    expect(splitBatch([1, 2, 3, 4, 5])).toEqual([[1, 2, 3], [4, 5]]);
    expect(splitBatch([1])).toEqual([[1], []]);
  });
  it('takes entries in arrival order (committer time, then ref name)', () => {
    const e = (refName: string, time: number): QueueEntry => ({ refName, agent: 'a', topic: 't', oid: A, time });
    expect(takeBatch([e('refs/land/c/t', 5), e('refs/land/b/t', 3), e('refs/land/a/t', 5)], 2).map((x) => x.refName)).toEqual(['refs/land/b/t', 'refs/land/a/t']);
  });
  it('a move of the claims ref by lock files only is a claims-only move', () => {
    const policy = defaultPolicy();
    expect(isClaimsOnlyMove(['current_tasks/parser.json', 'current_tasks/lexer.txt'], policy)).toBe(true);
    // The policy file (exempt from leases) can change the tests: a move by it is tested again.
    expect(isClaimsOnlyMove(['current_tasks/parser.json', 'agent-hooks.json'], policy)).toBe(false);
    expect(isClaimsOnlyMove(['current_tasks/parser.json', 'src/a.ts'], policy)).toBe(false);
  });
});

describe('the selection of a batch', () => {
  it("is the union of each entry's affected-first selection, seeded by its agent, with the tests it changes", () => {
    const paths = Array.from({ length: 40 }, (_, i) => `test/t${i}.test.mjs`);
    const policy = { command: ['node', '--test'], files: ['test/*.test.mjs'], sample: 0.05, always: [], timeout: 60 };
    const one = selectTestFiles({ paths, changed: [], seed: 'agent-1', policy });
    const two = selectTestFiles({ paths, changed: ['test/t7.test.mjs'], seed: 'agent-2', policy });
    const batch = batchSelection([one, two], policy.sample);
    expect([...batch.files].sort()).toEqual([...new Set([...one.files, ...two.files].map((f) => f.path))].sort());
    // The changed test runs first, whichever entry brought it.
    expect(batch.files[0]).toBe('test/t7.test.mjs');
    expect(batch.picked.changed).toBe(1);
    expect(batch.picked.changed + batch.picked.affected + batch.picked.always + batch.picked.sampled).toBe(batch.files.length);
    expect(batch.seed).toBe('agent-1,agent-2');
    expect(batch.total).toBe(40);
  });
});

describe('enqueue rules', () => {
  const queue: QueuePolicy = { ...QUEUE_DEFAULTS, enabled: true };
  const fact = (refName: string, extra: Partial<{ newOid: string; type: string; beyondMain: boolean; related: boolean }> = {}) => ({
    update: { oldOid: Z, newOid: extra.newOid ?? A, refName },
    type: extra.type ?? 'commit',
    beyondMain: extra.beyondMain ?? true,
    related: extra.related ?? true,
  });
  const check = (facts: ReturnType<typeof fact>[], existing: [string, string][] = [], q = queue) =>
    checkQueueUpdates({ facts, pusher: 'agent-1', queue: q, claimsRef: 'refs/heads/main', existing: new Map(existing) }).map((v) => v.what);
  it.each([
    ['a valid entry', [fact('refs/land/agent-1/fix')], [], ''],
    ['the queue is off', [fact('refs/land/agent-1/fix')], [], 'the landing queue is off', { ...queue, enabled: false }],
    ['no topic', [fact('refs/land/agent-1')], [], 'is not'],
    ['another agent', [fact('refs/land/agent-2/fix')], [], 'only agent-2 may push'],
    ['a tag', [fact('refs/land/agent-1/fix', { type: 'tag' })], [], 'must be a commit, not a tag'],
    ['a deletion', [fact('refs/land/agent-1/fix', { newOid: Z })], [], 'removed by the lander'],
    ['nothing beyond main', [fact('refs/land/agent-1/fix', { beyondMain: false })], [], 'nothing to land'],
    ['unrelated history', [fact('refs/land/agent-1/fix', { related: false })], [], 'unrelated history'],
    ['a second entry of the agent', [fact('refs/land/agent-1/two')], [['refs/land/agent-1/one', B]], 'one entry per agent'],
    ['a re-push of the same entry', [fact('refs/land/agent-1/one')], [['refs/land/agent-1/one', B]], ''],
  ] as [string, ReturnType<typeof fact>[], [string, string][], string, QueuePolicy?][])('%s', (_name, facts, existing, message, q = queue) => {
    const whats = check(facts, existing, q);
    if (message === '') expect(whats).toEqual([]);
    else expect(whats.join('\n')).toContain(message);
  });
  it('queue.required refuses a direct push to a tested ref unless it only changes lock files', () => {
    const policy = defaultPolicy();
    const update = { oldOid: A, newOid: B, refName: 'refs/heads/main' };
    const required = { ...queue, required: true };
    expect(checkQueueRequired(update, ['src/a.ts'], policy, required).map((v) => v.fix)).toEqual(['agent-hooks land']);
    expect(checkQueueRequired(update, ['current_tasks/x.json'], policy, required)).toEqual([]);
    expect(checkQueueRequired(update, ['src/a.ts'], policy, queue)).toEqual([]);
  });
});

describe('policy queue.* and notes', () => {
  it.each([
    ['{"queue":{"enabled":true,"batch":4}}', ''],
    ['{"queue":{"enabled":"yes"}}', 'queue.enabled: must be true or false'],
    ['{"queue":{"batch":0}}', 'queue.batch: must be a whole number from 1 to 100'],
    ['{"queue":{"retries":9}}', 'queue.retries: must be a whole number from 0 to 5'],
    ['{"queue":{"wait":0}}', 'queue.wait: must be whole seconds from 1 to 86400'],
    ['{"queue":{"enable":true}}', 'did you mean "queue.enabled"?'],
  ])('%s', (text, problem) => {
    const result = parsePolicy(text);
    if (problem === '') expect(result.ok && result.policy.queue).toEqual({ ...QUEUE_DEFAULTS, enabled: true, batch: 4 });
    else expect(result.ok ? [] : result.problems.join('\n')).toContain(problem);
  });
  it('reads only the lander\'s verdicts', () => {
    expect(parseQueueNote('{"state":"landed","onto":"abc","reason":"","errors":[]}')?.state).toBe('landed');
    expect(parseQueueNote('{"state":"maybe","onto":"abc","reason":"","errors":[]}')).toBeUndefined();
    expect(parseQueueNote('not json')).toBeUndefined();
  });
});

// ---- real repositories ----

const TEST_SCRIPT = 'for f in "$@"; do sh "$f" || exit 1; done';

/**
 * A bare repo with the queue on and sampled tests that are shell scripts (every one runs):
 * test/ok.sh passes; test/broken.sh fails while a file named `broken` is in the tree, and
 * test/slow.sh sleeps while `slow` is.
 */
function queueRepo(agents: string[], queue: Record<string, unknown> = {}) {
  const { upstream, clones } = sharedRepo(agents);
  const first = clones[agents[0]!]!;
  commit(first, {
    'agent-hooks.json': JSON.stringify({ queue: { enabled: true, ...queue }, test: { command: ['sh', '-c', TEST_SCRIPT, 'tests'], files: ['test/*.sh'], sample: 1 } }),
    'test/ok.sh': 'exit 0\n',
    'test/broken.sh': '[ ! -e broken ]\n',
    'test/slow.sh': 'if [ -e slow ]; then sleep "$(cat slow)"; fi\n',
    'shared.txt': 'one\ntwo\nthree\n',
  }, 'queue policy and tests');
  const r = push(first);
  if (r.exitCode !== 0) throw new Error(`policy push failed: ${r.stderr}`);
  for (const agent of agents) {
    git(clones[agent]!, ['pull', '--quiet', '--rebase', 'origin', 'main']);
    git(clones[agent]!, ['checkout', '--quiet', '-b', `work-${agent}`]);
  }
  return { upstream, clones };
}

const mainLog = (upstream: string) => git(upstream, ['log', '--format=%s', 'main']).stdout;
const queueRefs = (upstream: string) => git(upstream, ['for-each-ref', '--format=%(refname)', 'refs/land/']).stdout.trim();
const landerLog = (upstream: string) => (existsSync(join(upstream, 'agent-hooks', 'workers', 'lander.log')) ? readFileSync(join(upstream, 'agent-hooks', 'workers', 'lander.log'), 'utf8') : '');
const noteOf = (upstream: string, oid: string) => JSON.parse(git(upstream, ['notes', '--ref', 'refs/notes/agent-hooks', 'show', oid]).stdout) as { state: string; reason: string; errors: string[]; onto: string };
const testRuns = (upstream: string) => (landerLog(upstream).match(/^\S+ tests of \S+ \(\d+ files\) (passed|failed)/gm) ?? []).length;

/**
 * Holds the lander's pid lock with a live process of ours, so post-receive starts no lander and
 * entries wait: the test then runs `agent-hooks lander` itself, with every entry in the queue.
 */
function holdLander(upstream: string): ChildProcess {
  const holder = spawn('sleep', ['600'], { stdio: 'ignore' });
  onTestFinished(() => {
    holder.kill('SIGKILL');
  });
  const lock = join(upstream, 'agent-hooks', 'workers', 'lander.lock');
  mkdirSync(lock, { recursive: true });
  writeFileSync(join(lock, 'pid'), String(holder.pid));
  return holder;
}

const landNoWait = (clone: string) => cli(['land', '--no-wait'], { cwd: clone });

describe('landing through the queue (real repos)', { timeout: 120_000 }, () => {
  it('concurrent land calls from several clones all land; each gets its verdict and a fetched main; at most one test run per entry', async () => {
    const agents = ['agent-1', 'agent-2', 'agent-3', 'agent-4'];
    const { upstream, clones } = queueRepo(agents);
    agents.forEach((a, i) => commit(clones[a]!, { [`src/${a}.txt`]: `${i}\n` }, `change of ${a}`));
    const results = await Promise.all(agents.map((a) => cliAsync(['land', '--timeout', '90'], { cwd: clones[a]! })));
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^queued \S+ as refs\/land\/agent-\d\/work-agent-\d$/m);
      expect(r.stdout).toMatch(/^landed as \S+ on main/m);
    }
    for (const a of agents) expect(mainLog(upstream)).toContain(`change of ${a}`);
    expect(queueRefs(upstream)).toBe('');
    // Every land fetched main afterwards: the clone's view of main holds its change.
    for (const a of agents) expect(git(clones[a]!, ['merge-base', '--is-ancestor', 'HEAD', 'origin/main'], { allowFail: true }).exitCode).toBe(0);
    expect(testRuns(upstream)).toBeLessThanOrEqual(agents.length);
  });

  it('a batch of four is merged and tested once, then landed with one compare-and-swap', () => {
    const agents = ['agent-1', 'agent-2', 'agent-3', 'agent-4'];
    const { upstream, clones } = queueRepo(agents);
    const holder = holdLander(upstream);
    const oids = agents.map((a, i) => commit(clones[a]!, { [`src/${a}.txt`]: `${i}\n` }, `change of ${a}`));
    for (const a of agents) expect(landNoWait(clones[a]!).exitCode).toBe(0);
    expect(queueRefs(upstream).split('\n')).toHaveLength(4);
    const listed = JSON.parse(cli(['queue', '--json'], { cwd: clones['agent-1']! }).stdout) as { entries: { ref: string; oid: string }[] };
    expect(listed.entries.map((e) => e.oid).sort()).toEqual([...oids].sort());
    const doctor = cli(['doctor', upstream]);
    expect(doctor.stdout).toMatch(/landing queue: 4 entries, lander running/);
    holder.kill('SIGKILL');
    const r = cli(['lander', upstream]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('done: 1 batches, 1 test runs, 4 landed, 0 ejected');
    for (const oid of oids) expect(noteOf(upstream, oid)).toMatchObject({ state: 'landed', reason: 'batch of 4' });
    expect(queueRefs(upstream)).toBe('');
    // The entries are merged one after another: four merge commits (the first one fast-forwards).
    expect(mainLog(upstream).split('\n').filter((l) => l.startsWith('Land work-agent-'))).toHaveLength(3);
  });

  it('a bad entry in a batch is found by bisection and ejected; the rest land', () => {
    const agents = ['agent-1', 'agent-2', 'agent-3', 'agent-4'];
    const { upstream, clones } = queueRepo(agents);
    const holder = holdLander(upstream);
    const oids = agents.map((a, i) => commit(clones[a]!, a === 'agent-3' ? { broken: 'yes\n' } : { [`src/${a}.txt`]: `${i}\n` }, `change of ${a}`));
    for (const a of agents) expect(landNoWait(clones[a]!).exitCode).toBe(0);
    holder.kill('SIGKILL');
    const r = cli(['lander', upstream]);
    expect(r.stdout).toContain('3 landed, 1 ejected');
    expect(r.stdout).toContain('bisecting');
    agents.forEach((a, i) => expect(noteOf(upstream, oids[i]!).state).toBe(a === 'agent-3' ? 'ejected' : 'landed'));
    expect(mainLog(upstream)).not.toContain('change of agent-3');
    expect(git(upstream, ['ls-tree', 'main', 'broken']).stdout).toBe('');
    // The ejected agent's land says why, how to reproduce and what to do; exit 1.
    const ejected = cli(['land'], { cwd: clones['agent-3']! });
    expect(ejected.exitCode).toBe(1);
    expect(ejected.stderr).toMatch(/^ERROR: refs\/heads\/main: /m);
    expect(ejected.stdout).toMatch(/^reproduce: git pull --rebase origin main && agent-hooks test --fast --agent agent-3$/m);
    expect(ejected.stdout).toContain('fix: git pull --rebase && agent-hooks land');
  });

  it('a test that fails once and passes on the retry is flaky, not held against the entry', () => {
    const { upstream, clones } = queueRepo(['agent-1']);
    const clone = clones['agent-1']!;
    // Fails the first time it runs in the lander's slot, passes after (a marker file outside the
    // tree, which only an unsandboxed test can see).
    git(upstream, ['config', 'agenthooks.testSandbox', 'off']);
    const marker = join(upstream, '..', 'flaky-ran');
    commit(clone, { 'test/flaky.sh': `if [ -e ${marker} ]; then exit 0; fi; touch ${marker}; exit 1\n` }, 'flaky test');
    const r = cli(['land', '--timeout', '60'], { cwd: clone });
    expect(r.exitCode).toBe(0);
    // The test stage reruns a failed run's files alone on the same tree; each passing now, the run
    // was flaky: the batch lands after one run of the lander, with the warning in its note.
    expect(r.stderr).toMatch(/^WARNING: flaky \(failed once, passed on the retry\): refs\/heads\/main: the test run failed, then each of its \d+ files passed on a retry of the same tree [0-9a-f]{10} \(flaky\); not blamed on this push$/m);
    expect(testRuns(upstream)).toBe(1);
  });

  it('a conflict is ejected at once, naming the path; the other entry lands', () => {
    const { upstream, clones } = queueRepo(['agent-1', 'agent-2']);
    const holder = holdLander(upstream);
    const first = commit(clones['agent-1']!, { 'shared.txt': 'one\nTWO by agent-1\nthree\n' }, 'agent-1 edits shared');
    const second = commit(clones['agent-2']!, { 'shared.txt': 'one\nTWO by agent-2\nthree\n' }, 'agent-2 edits shared');
    expect(landNoWait(clones['agent-1']!).exitCode).toBe(0);
    expect(landNoWait(clones['agent-2']!).exitCode).toBe(0);
    holder.kill('SIGKILL');
    const r = cli(['lander', upstream]);
    expect(r.stdout).toContain('done: 1 batches, 1 test runs, 1 landed, 1 ejected');
    expect(noteOf(upstream, first).state).toBe('landed');
    const note = noteOf(upstream, second);
    expect(note).toMatchObject({ state: 'ejected', reason: 'merge conflict with refs/heads/main in shared.txt' });
    expect(note.errors).toEqual(['ERROR: refs/land/agent-2/work-agent-2: shared.txt: merge conflict with refs/heads/main; fix: git pull --rebase, resolve shared.txt, then agent-hooks land']);
  });

  it('landings and ejections are announced once each; the queue pushes themselves are not', async () => {
    const slack = await new FakeSlack().start();
    onTestFinished(() => slack.stop());
    const { upstream, clones } = queueRepo(['agent-1', 'agent-2']);
    git(upstream, ['config', 'agenthooks.slack.webhookUrl', slack.url]);
    const holder = holdLander(upstream);
    commit(clones['agent-1']!, { 'shared.txt': 'one\nTWO by agent-1\nthree\n' }, 'agent-1 edits shared');
    commit(clones['agent-2']!, { 'shared.txt': 'one\nTWO by agent-2\nthree\n' }, 'agent-2 edits shared');
    for (const a of ['agent-1', 'agent-2']) expect(landNoWait(clones[a]!).exitCode).toBe(0);
    holder.kill('SIGKILL');
    cli(['lander', upstream], { env: { AGENT_HOOKS_NOTIFY_INTERVAL_MS: '10' } });
    await waitFor(() => slack.delivered().length >= 2);
    await sendersDone(upstream);
    const messages = slack.received.filter((r) => r.status === 200).map((r) => JSON.parse(r.text).text as string);
    expect(messages.filter((m) => m.startsWith('agent-1 pushed to upstream.git\nbranch main ') && m.includes('1 new commit'))).toHaveLength(1);
    expect(messages.filter((m) => m.includes('agent-2 was refused a push') && m.includes('merge conflict with refs/heads/main in shared.txt'))).toHaveLength(1);
    expect(messages).toHaveLength(2);
  });

  it('a claim pushed while a batch is tested moves main by lock files only: the batch lands without a second test run', async () => {
    const { upstream, clones } = queueRepo(['agent-1', 'agent-2']);
    const oid = commit(clones['agent-1']!, { slow: '6\n' }, 'slow change');
    expect(landNoWait(clones['agent-1']!).exitCode).toBe(0);
    await waitFor(() => /running \d+ of \d+ test files/.test(landerLog(upstream)), 30_000);
    expect(cli(['claim', 'parser', '--files', 'src/parser/**'], { cwd: clones['agent-2']! }).exitCode).toBe(0);
    await waitFor(() => queueRefs(upstream) === '' && !existsSync(join(upstream, 'agent-hooks', 'workers', 'lander.lock')), 60_000);
    expect(landerLog(upstream)).toContain('moved by claims only; merging again without tests');
    expect(testRuns(upstream)).toBe(1);
    expect(noteOf(upstream, oid).state).toBe('landed');
    expect(git(upstream, ['ls-tree', '--name-only', 'main', 'current_tasks/']).stdout).toMatch(/parser/);
    expect(mainLog(upstream)).toContain('slow change');
  });

  it('an entry pushed again while its batch is tested is replaced: the old commit gets a verdict saying so, the new one is tested and lands', async () => {
    const { upstream, clones } = queueRepo(['agent-1']);
    const clone = clones['agent-1']!;
    const old = commit(clone, { slow: '4\n', 'src/a.txt': 'first\n' }, 'first version');
    expect(landNoWait(clone).exitCode).toBe(0);
    await waitFor(() => /running \d+ of \d+ test files/.test(landerLog(upstream)), 30_000);
    const next = commit(clone, { slow: null, 'src/a.txt': 'second\n' }, 'second version');
    expect(landNoWait(clone).exitCode).toBe(0);
    await waitFor(() => queueRefs(upstream) === '' && !existsSync(join(upstream, 'agent-hooks', 'workers', 'lander.lock')), 60_000);
    expect(noteOf(upstream, old)).toMatchObject({ state: 'ejected', reason: `replaced by ${next.slice(0, 10)}, pushed later to refs/land/agent-1/work-agent-1` });
    expect(noteOf(upstream, next).state).toBe('landed');
    expect(git(upstream, ['show', 'main:src/a.txt']).stdout).toBe('second\n');
  });

  it('a lease taken after queueing counts: the lander ejects the entry (exit 3 for land)', () => {
    const { upstream, clones } = queueRepo(['agent-1', 'agent-2']);
    const holder = holdLander(upstream);
    const oid = commit(clones['agent-1']!, { 'src/parser.ts': 'x\n' }, 'agent-1 touches the parser');
    expect(landNoWait(clones['agent-1']!).exitCode).toBe(0);
    const claim = cli(['claim', 'parser', '--files', 'src/parser.ts'], { cwd: clones['agent-2']! });
    expect(claim.exitCode).toBe(0);
    holder.kill('SIGKILL');
    cli(['lander', upstream]);
    expect(noteOf(upstream, oid)).toMatchObject({ state: 'ejected' });
    const r = cli(['land'], { cwd: clones['agent-1']! });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/src\/parser.ts.*is leased by agent-2/);
    // A new commit on the leased path is refused when it is queued (rule 5 in pre-receive): exit 3 too.
    commit(clones['agent-1']!, { 'src/parser.ts': 'y\n' }, 'agent-1 tries again');
    const again = cli(['land', '--no-wait'], { cwd: clones['agent-1']! });
    expect(again.exitCode).toBe(3);
    expect(again.stderr).toMatch(/^ERROR: refs\/land\/agent-1\/work-agent-1: "?src\/parser.ts"? .*is leased by agent-2/m);
    expect(queueRefs(upstream)).toBe('');
  });

  it('a lander SIGKILLed mid-batch loses nothing: main did not move, doctor says so, the next lander lands all', async () => {
    const { upstream, clones } = queueRepo(['agent-1', 'agent-2']);
    const holder = holdLander(upstream);
    const before = git(upstream, ['rev-parse', 'main']).stdout;
    commit(clones['agent-1']!, { slow: '30\n' }, 'slow change');
    commit(clones['agent-2']!, { 'src/b.txt': 'b\n' }, 'quick change');
    for (const a of ['agent-1', 'agent-2']) expect(landNoWait(clones[a]!).exitCode).toBe(0);
    holder.kill('SIGKILL');
    // The next push (any ref) starts a lander; it blocks in the slow test.
    expect(push(clones['agent-2']!, ['origin', 'HEAD:refs/heads/scratch']).exitCode).toBe(0);
    await waitFor(() => /running \d+ of \d+ test files/.test(landerLog(upstream)), 30_000);
    const pid = Number(readFileSync(join(upstream, 'agent-hooks', 'workers', 'lander.lock', 'pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    expect(git(upstream, ['rev-parse', 'main']).stdout).toBe(before);
    expect(queueRefs(upstream).split('\n')).toHaveLength(2);
    const doctor = cli(['doctor', upstream]);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stderr + doctor.stdout).toMatch(/the landing queue holds 2 entries .* but no lander is running; fix: agent-hooks lander /);
    // The entry itself is slow: a new version of it (the same topic, pushed again) replaces it and
    // its push starts the next lander.
    commit(clones['agent-1']!, { slow: null }, 'not slow any more');
    expect(landNoWait(clones['agent-1']!).exitCode).toBe(0);
    await waitFor(() => queueRefs(upstream) === '', 60_000);
    expect(mainLog(upstream)).toContain('quick change');
    expect(mainLog(upstream)).toContain('not slow any more');
  });
});

describe('bad queue input is refused with a clear answer', { timeout: 60_000 }, () => {
  it.each([
    ['another agent\'s namespace', ['-o', 'agent=agent-1', 'origin', 'HEAD:refs/land/agent-2/x'], /only agent-2 may push under refs\/land\/agent-2\//],
    ['no topic', ['-o', 'agent=agent-1', 'origin', 'HEAD:refs/land/agent-1'], /a queue ref is refs\/land\/<agent-id>\/<topic>/],
    ['a bad topic', ['-o', 'agent=agent-1', 'origin', 'HEAD:refs/land/agent-1/a@b'], /is not a topic/],
    ['nothing beyond main', ['-o', 'agent=agent-1', 'origin', 'origin/main:refs/land/agent-1/x'], /nothing to land/],
  ])('%s', (_name, args, message) => {
    const { upstream, clones } = queueRepo(['agent-1']);
    commit(clones['agent-1']!, { 'src/a.txt': 'a\n' });
    const r = push(clones['agent-1']!, args);
    expect(r.exitCode).not.toBe(0);
    expect(r.errors.join('\n')).toMatch(message);
    expect(queueRefs(upstream)).toBe('');
  });

  it('tags, deletions, unrelated history and a second entry of one agent', () => {
    const { upstream, clones } = queueRepo(['agent-1']);
    const clone = clones['agent-1']!;
    commit(clone, { 'src/a.txt': 'a\n' });
    git(clone, ['tag', '-a', '-m', 'tag', 'v1']);
    expect(push(clone, ['-o', 'agent=agent-1', 'origin', 'v1:refs/land/agent-1/tag']).errors.join('\n')).toMatch(/must be a commit, not a tag/);
    git(clone, ['checkout', '--quiet', '--orphan', 'other']);
    commit(clone, { 'x.txt': 'x\n' }, 'orphan');
    expect(push(clone, ['-o', 'agent=agent-1', 'origin', 'HEAD:refs/land/agent-1/orphan']).errors.join('\n')).toMatch(/unrelated history/);
    git(clone, ['checkout', '--quiet', 'work-agent-1']);
    const holder = holdLander(upstream);
    expect(landNoWait(clone).exitCode).toBe(0);
    const second = push(clone, ['-o', 'agent=agent-1', 'origin', 'HEAD:refs/land/agent-1/another']);
    expect(second.errors.join('\n')).toMatch(/one entry per agent: agent-1 would have refs\/land\/agent-1\/another, refs\/land\/agent-1\/work-agent-1/);
    expect(push(clone, ['-o', 'agent=agent-1', 'origin', ':refs/land/agent-1/work-agent-1']).errors.join('\n')).toMatch(/removed by the lander/);
    // A re-push of the same topic replaces the entry.
    const amended = commit(clone, { 'src/a.txt': 'a2\n' }, 'amended');
    expect(landNoWait(clone).exitCode).toBe(0);
    expect(git(upstream, ['rev-parse', 'refs/land/agent-1/work-agent-1']).stdout.trim()).toBe(amended);
    holder.kill('SIGKILL');
  });

  it("queue.required also counts the net change: a merge that takes an old tree cannot skip the queue (review)", () => {
    const { upstream, clones } = queueRepo(['agent-1'], { required: true });
    const clone = clones['agent-1']!;
    // The merge's tree is the tree of main's first commit: its second parent is that commit, so
    // `git log -c` lists no path, yet it deletes the policy and every test.
    const first = git(clone, ['rev-list', '--max-parents=0', 'HEAD']).stdout.trim();
    const main = git(clone, ['rev-parse', 'origin/main']).stdout.trim();
    const merge = git(clone, ['commit-tree', `${first}^{tree}`, '-p', main, '-p', first, '-m', 'merge an old tree'], { env: { GIT_AUTHOR_NAME: 'agent-1', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'agent-1', GIT_COMMITTER_EMAIL: 'a@x' } }).stdout.trim();
    const direct = push(clone, ['-o', 'agent=agent-1', 'origin', `${merge}:refs/heads/main`]);
    expect(direct.exitCode).toBe(1);
    expect(direct.errors.join('\n')).toMatch(/queue.required: changes reach refs\/heads\/main only through the landing queue .*; fix: agent-hooks land$/m);
    expect(git(upstream, ['rev-parse', 'main']).stdout.trim()).toBe(main);
  });

  it('a push may not write the verdict notes or the batch marker: only the lander does, on the server (review)', () => {
    const { upstream, clones } = queueRepo(['agent-1', 'agent-2']);
    const victim = clones['agent-1']!;
    commit(victim, { 'src/a.txt': 'a\n' }, 'work of agent-1');
    const holder = holdLander(upstream);
    expect(cli(['land', '--no-wait'], { cwd: victim }).exitCode).toBe(0);
    const entry = git(upstream, ['rev-parse', 'refs/land/agent-1/work-agent-1']).stdout.trim();
    // agent-2 forges an ejection of agent-1's entry, and a batch marker.
    const attacker = clones['agent-2']!;
    git(attacker, ['fetch', '--quiet', 'origin', entry]);
    git(attacker, ['notes', '--ref', 'refs/notes/agent-hooks', 'add', '-m', JSON.stringify({ state: 'ejected', onto: entry, reason: 'forged', errors: [], ref: 'refs/land/agent-1/work-agent-1' }), entry]);
    const note = push(attacker, ['-o', 'agent=agent-2', 'origin', 'refs/notes/agent-hooks:refs/notes/agent-hooks']);
    expect(note.exitCode).toBe(1);
    expect(note.errors).toEqual([expect.stringMatching(/^ERROR: refs\/notes\/agent-hooks: only the lander writes refs\/notes\/agent-hooks .*; fix: /)]);
    const marker = push(attacker, ['-o', 'agent=agent-2', 'origin', 'HEAD:refs/agent-hooks/lander/testing']);
    expect(marker.exitCode).toBe(1);
    expect(marker.errors.join('\n')).toMatch(/only the lander writes refs\/agent-hooks\/lander\/testing/);
    expect(git(upstream, ['for-each-ref', 'refs/notes/', 'refs/agent-hooks/']).stdout).toBe('');
    holder.kill('SIGKILL');
    // The entry is judged for real and lands.
    expect(cli(['lander', upstream]).stdout).toContain('1 landed, 0 ejected');
    expect(noteOf(upstream, entry).state).toBe('landed');
  });

  it('with the queue off, queue refs are refused; with queue.required, direct pushes to main are, claims are not', () => {
    const off = queueRepo(['agent-1'], { enabled: false });
    commit(off.clones['agent-1']!, { 'src/a.txt': 'a\n' });
    const refused = cli(['land', '--no-wait'], { cwd: off.clones['agent-1']! });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/the landing queue is off/);

    const { upstream, clones } = queueRepo(['agent-1'], { required: true });
    const clone = clones['agent-1']!;
    const claim = cli(['claim', 'parser', '--files', 'src/parser/**'], { cwd: clone });
    expect(claim.exitCode).toBe(0);
    git(clone, ['pull', '--quiet', '--rebase', 'origin', 'main']);
    commit(clone, { 'src/a.txt': 'a\n' });
    const direct = push(clone, ['-o', 'agent=agent-1', 'origin', 'HEAD:main']);
    expect(direct.errors.join('\n')).toMatch(/queue.required: .*; fix: agent-hooks land$/);
    // agent-hooks push goes through the queue instead, and lands.
    const viaPush = cli(['push', 'origin', 'HEAD:main'], { cwd: clone });
    expect(viaPush.stdout).toContain('landing through the queue');
    expect(viaPush.exitCode).toBe(0);
    expect(mainLog(upstream)).toContain('change');
    void lockText;
  });
});
