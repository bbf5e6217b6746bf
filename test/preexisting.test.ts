// Failures that predate a push are not its fault (DESIGN.md "Which tests a change runs"): the
// pure judgement and bisect as tables, then real pushes: main already red (accepted with a
// WARNING; refused with test.preexisting reject), the culprit named by the bisector, a flaky test.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { formatPreexisting, judgeFailures, nextBisectStep, parseRedRecord, type FileResult, type RedRecord } from '../core/preexisting.js';
import { parsePolicy } from '../core/policy.js';
import { cloneAs, commit, git, makeUpstream, push, sendersDone, sync, waitFor, type FileChange } from './helpers/git.js';
import { FakeSlack } from './helpers/slack.js';

describe('judging failures', () => {
  it('flaky beats the rest; failing on the old tip is pre-existing; missing on the old tip blames the push', () => {
    const retry = new Map<string, FileResult>([['a', 'pass'], ['b', 'fail'], ['c', 'fail'], ['d', 'fail']]);
    const old = new Map<string, FileResult>([['a', 'fail'], ['b', 'fail'], ['c', 'pass']]);
    expect(judgeFailures(['a', 'b', 'c', 'd'], retry, old)).toEqual({ flaky: ['a'], preexisting: ['b'], blamed: ['c', 'd'] });
  });
  it('formats the WARNING with and without a culprit, and for reject', () => {
    const culprit = { oid: 'abcdef0123456789', agent: 'agent-a', subject: 'break "f2"' };
    expect(formatPreexisting('test/t2.test.mjs', 'refs/heads/main', culprit)).toBe('WARNING: test/t2.test.mjs fails on main too (red since abcdef0123 by agent-a, "break \\"f2\\""); not blamed on this push');
    expect(formatPreexisting('t', 'refs/heads/main', undefined)).toBe('WARNING: t fails on main too (red before this push); not blamed on this push');
    expect(formatPreexisting('t', 'refs/heads/main', undefined, 'reject')).toMatch(/refused anyway \(test.preexisting is "reject"\)$/);
  });
  it('test.preexisting takes accept or reject, with a readable error and a suggestion', () => {
    const policy = (v: unknown) => parsePolicy(JSON.stringify({ test: { command: ['x'], files: ['t'], preexisting: v } }));
    expect(policy('reject')).toMatchObject({ ok: true, policy: { test: { preexisting: 'reject' } } });
    expect(policy('acept')).toEqual({ ok: false, problems: ['test.preexisting: must be "accept" or "reject", not "acept" (did you mean "accept"?)'] });
    expect(policy(true)).toEqual({ ok: false, problems: ['test.preexisting: must be "accept" or "reject", not true'] });
  });
});

describe('bisect', () => {
  /** Runs the bisect against a history where commits 0..culprit are red (newest first); returns the answer and how many tests it ran. */
  const bisect = (count: number, culprit: number | 'before') => {
    const results = new Map<number, FileResult>([[0, 'fail']]);
    for (let runs = 0; ; runs++) {
      const step = nextBisectStep(count, results);
      if (step.kind !== 'test') return { step, runs };
      expect(results.has(step.index)).toBe(false);
      results.set(step.index, culprit === 'before' || step.index <= culprit ? 'fail' : 'pass');
    }
  };
  it('finds every culprit position in histories of 1 to 40 commits, in about log2(n) + 1 runs', () => {
    for (let count = 1; count <= 40; count++) {
      for (let culprit = 0; culprit < count - 1; culprit++) {
        const { step, runs } = bisect(count, culprit);
        expect(step, `${count} commits, culprit ${culprit}`).toEqual({ kind: 'found', index: culprit });
        expect(runs).toBeLessThanOrEqual(Math.ceil(Math.log2(count)) + 1);
      }
      // Red down to the oldest commit looked at: the culprit is out of reach.
      expect(bisect(count, 'before').step).toEqual({ kind: 'unknown' });
    }
  });
});

const POLICY = { command: ['node', '--test', '{files}'], files: ['test/**/*.test.mjs'], sample: 1, always: [], timeout: 30 };
const testOf = (n: number) => `import test from 'node:test';\nimport assert from 'node:assert';\nimport { f } from '../src/f${n}.mjs';\ntest('f${n} adds ${n}', () => assert.equal(f(1), ${n + 1}));\n`;

/** A project of three modules and their tests, every test file run by each push (sample 1); agent-a is an admin. */
function project(policy: Record<string, unknown> = {}, extra: Record<string, FileChange> = {}) {
  const upstream = makeUpstream();
  git(upstream, ['config', '--add', 'agenthooks.admin', 'agent-a']);
  const a = cloneAs(upstream, 'agent-a');
  const files: Record<string, FileChange> = { 'agent-hooks.json': JSON.stringify({ test: { ...POLICY, ...policy } }), 'package.json': '{"type":"module"}\n', ...extra };
  for (const n of [1, 2, 3]) {
    files[`src/f${n}.mjs`] = `export const f = (x) => x + ${n};\n`;
    files[`test/t${n}.test.mjs`] = testOf(n);
  }
  commit(a, files, 'project');
  expect(push(a).exitCode).toBe(0);
  return { upstream, a, b: cloneAs(upstream, 'agent-b') };
}

const redRecords = (upstream: string): RedRecord[] => {
  const dir = join(upstream, 'agent-hooks', 'red');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RedRecord) : [];
};
const bisectorDone = (upstream: string) => !existsSync(join(upstream, 'agent-hooks', 'workers', 'red-bisector.lock'));

describe('red records read back (parseRedRecord)', () => {
  const oid = 'a'.repeat(40);
  const good: RedRecord = { ref: 'refs/heads/main', test: 'test/a.test.mjs', redAt: oid, seen: '2026-11-30T12:00:00Z', state: 'found', culprit: { oid, agent: 'agent-7', subject: 'oops' }, announced: true, command: ['node', '--test'], timeout: 300 };
  it('reads back what the writer wrote, field for field', () => {
    expect(parseRedRecord(JSON.stringify(good))).toEqual(good);
    const { culprit: _none, ...rest } = good;
    const bisecting: RedRecord = { ...rest, state: 'bisecting', announced: false, setup: ['npm', 'ci'], setupInputs: ['package-lock.json'] };
    expect(parseRedRecord(JSON.stringify(bisecting))).toEqual(bisecting);
  });
  it.each([
    ['torn', '{"ref":"refs/heads/main","te'],
    ['not an object', '[1,2]'],
    ['null', 'null'],
    ['test not a string', JSON.stringify({ ...good, test: 42 })],
    ['no redAt (the bisector would start from nothing)', JSON.stringify({ ...good, redAt: undefined })],
    ['unknown state', JSON.stringify({ ...good, state: 'green' })],
    ['command not a list of strings', JSON.stringify({ ...good, command: 'rm -rf /' })],
    ['no timeout', JSON.stringify({ ...good, timeout: '300' })],
  ])('no record: %s', (_name, text) => {
    expect(parseRedRecord(text)).toBeUndefined();
  });
  it('drops a culprit that is not one (oid not hex, agent not a string), keeping the record', () => {
    const { culprit: _dropped, ...withoutCulprit } = good;
    expect(parseRedRecord(JSON.stringify({ ...good, culprit: { oid: '--upload-pack=x', agent: 'a', subject: 's' } }))).toEqual(withoutCulprit);
    expect(parseRedRecord(JSON.stringify({ ...good, culprit: { oid, agent: 7, subject: 's' } }))!.culprit).toBeUndefined();
  });
});

describe('main already red', () => {
  it('accepts a docs push whose selection holds the red test with a WARNING, names the culprit once bisected, still blames new breakage, and refuses with test.preexisting reject', async () => {
    // 13 test files, more than are ever run again one by one: the failure lines name the red one.
    const more = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`test/ok${i}.test.mjs`, `import test from 'node:test';\ntest('ok ${i}', () => {});\n`]));
    const { upstream, a, b } = project({}, more);
    const slack = await new FakeSlack().start();
    onTestFinished(() => slack.stop());
    git(upstream, ['config', 'agenthooks.slack.webhookUrl', slack.url]);
    const redMessages = () => slack.received.map((r) => JSON.parse(r.text).text as string).filter((t) => t.startsWith('Tests are red'));
    // agent-a lands a break between green commits, by an admin override.
    commit(a, { 'README.md': 'one\n' }, 'green one');
    commit(a, { 'docs/a.md': 'two\n' }, 'green two');
    const culprit = commit(a, { 'src/f2.mjs': 'export const f = (x) => x - 2;\n' }, 'break f2');
    commit(a, { 'docs/b.md': 'three\n' }, 'green after');
    const override = push(a, ['-o', 'override=hotfix', 'origin', 'HEAD:main']);
    expect(override.exitCode, override.stderr).toBe(0);
    expect(override.warnings).toContain('WARNING: push: the sampled tests did not pass (overridden by admin agent-a)');

    // agent-b's docs change: the red test fails on main before the push too.
    sync(b);
    commit(b, { 'docs/b-notes.md': 'notes\n' }, 'docs only');
    const first = push(b);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.errors).toEqual([]);
    expect(first.warnings).toEqual(['WARNING: test/t2.test.mjs fails on main too (red before this push); not blamed on this push']);

    // The bisector names agent-a's commit, once.
    await waitFor(() => redRecords(upstream).some((r) => r.state !== 'bisecting' && r.announced) && bisectorDone(upstream) && redMessages().length > 0, 60_000);
    const [record] = redRecords(upstream);
    expect(record).toMatchObject({ test: 'test/t2.test.mjs', ref: 'refs/heads/main', state: 'found', culprit: { oid: culprit, agent: 'agent-a', subject: 'break f2' } });
    expect(redMessages()).toEqual([`Tests are red on upstream.git since a commit by agent-a\ntest/t2.test.mjs fails on main since ${culprit.slice(0, 10)} by agent-a, "break f2"`]);

    commit(b, { 'docs/b-notes.md': 'more notes\n' }, 'docs again');
    const second = push(b);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.warnings).toEqual([`WARNING: test/t2.test.mjs fails on main too (red since ${culprit.slice(0, 10)} by agent-a, "break f2"); not blamed on this push`]);
    expect(redRecords(upstream)).toHaveLength(1);

    // Breaking a green test is still the pusher's fault, and so is a new test that fails.
    commit(b, { 'src/f3.mjs': 'export const f = () => 0;\n' }, 'break f3');
    const breaking = push(b);
    expect(breaking.exitCode).toBe(1);
    expect(breaking.stderr).toMatch(/push rejected: the sampled tests did not pass/);
    expect(breaking.warnings).toContain(`WARNING: test/t2.test.mjs fails on main too (red since ${culprit.slice(0, 10)} by agent-a, "break f2"); not blamed on this push`);
    git(b, ['reset', '--quiet', '--hard', 'HEAD~1']);
    commit(b, { 'test/t9.test.mjs': "import test from 'node:test';\ntest('new and red', () => { throw new Error('no'); });\n" }, 'a new red test');
    const newRed = push(b);
    expect(newRed.exitCode).toBe(1);
    expect(newRed.warnings.join('\n')).not.toMatch(/t9/);
    git(b, ['reset', '--quiet', '--hard', 'HEAD~1']);

    // With test.preexisting reject (a policy push, judged by the old policy), the red test refuses the push.
    commit(b, { 'agent-hooks.json': JSON.stringify({ test: { ...POLICY, preexisting: 'reject' } }) }, 'reject pre-existing failures');
    expect(push(b).exitCode).toBe(0);
    commit(b, { 'docs/b-notes.md': 'rejected notes\n' }, 'docs under reject');
    const rejected = push(b);
    expect(rejected.exitCode).toBe(1);
    expect(rejected.warnings).toEqual([`WARNING: test/t2.test.mjs fails on main too (red since ${culprit.slice(0, 10)} by agent-a, "break f2"); refused anyway (test.preexisting is "reject")`]);
    expect(rejected.errors.length).toBeGreaterThan(0);
    // Announced once, however many pushes saw it red since.
    await sendersDone(upstream);
    expect(redMessages()).toHaveLength(1);
    expect(bisectorDone(upstream)).toBe(true);

    // Fixed on main, the record goes: a later break of the same test is a new red with its own culprit.
    git(b, ['reset', '--quiet', '--hard', 'HEAD~1']);
    commit(b, { 'src/f2.mjs': 'export const f = (x) => x + 2;\n' }, 'fix f2');
    const fixed = push(b);
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    expect(fixed.warnings).toEqual([]);
    expect(redRecords(upstream)).toEqual([]);
  }, 180_000);
});

// A runner that writes a JUnit report naming each file (as vitest's and jest's reporters do).
const RUNNER = `import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const files = process.argv.slice(2);
let failed = 0;
const suites = files.map((f) => {
  const ok = spawnSync(process.execPath, ['--test', f], { stdio: 'inherit' }).status === 0;
  if (!ok) failed++;
  return '<testsuite file="' + f + '"><testcase name="all">' + (ok ? '' : '<failure message="failed"/>') + '</testcase></testsuite>';
});
writeFileSync('report.xml', '<testsuites>' + suites.join('') + '</testsuites>');
process.exit(failed ? 1 : 0);
`;

describe('flaky tests', () => {
  it('a test that fails, then passes on a retry of the same tree, is reported as flaky and not held against the push', () => {
    const { a } = project({ command: ['node', 'run.mjs', '{files}'], junit: 'report.xml' }, { 'run.mjs': RUNNER });
    // Fails the first time it runs in a work dir, passes after: a marker in the test's own checkout.
    const flaky = `import test from 'node:test';\nimport { existsSync, writeFileSync } from 'node:fs';\ntest('flaky', () => {\n  if (existsSync('.flaky-${Date.now()}')) return;\n  writeFileSync('.flaky-${Date.now()}', '');\n  throw new Error('first run fails');\n});\n`.replace(/\$\{Date.now\(\)\}/g, String(Date.now()));
    commit(a, { 'test/flaky.test.mjs': flaky }, 'a flaky test');
    const r = push(a);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^WARNING: test\/flaky\.test\.mjs failed, then passed on a retry of the same tree [0-9a-f]{10} \(flaky\); not blamed on this push$/);
    expect(r.stderr).toMatch(/remote: Tests: 3\/4 passed, 1 failed/);
  }, 120_000);

  it('a test that always fails is not flaky: the push that adds it is refused', () => {
    const { a } = project({ command: ['node', 'run.mjs', '{files}'], junit: 'report.xml' }, { 'run.mjs': RUNNER });
    commit(a, { 'test/red.test.mjs': "import test from 'node:test';\ntest('red', () => { throw new Error('always'); });\n" }, 'a red test');
    const r = push(a);
    expect(r.exitCode).toBe(1);
    expect(r.errors.join('\n')).toMatch(/test\/red\.test\.mjs/);
    expect(r.warnings).toEqual([]);
  }, 120_000);
});
