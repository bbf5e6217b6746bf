// Test sampling: the pure selection as tables, then real pushes of a fixture project with 40 test
// files (node's test runner) into a bare repo whose pre-receive runs the sample.
import { execSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestPolicy } from '../core/policy.js';
import { failuresFromOutput, rankOf, selectTests, testArgv } from '../core/sampling.js';
import { readJUnit } from '../server/run-tests.js';
import { cli, cloneAs, commit, git, makeUpstream, push, pushAsync, sendersDone, sync, tempDir, type FileChange } from './helpers/git.js';

const POLICY: TestPolicy = { command: ['node', '--test', '{files}'], files: ['test/**/*.test.mjs'], sample: 0.1, always: [], timeout: 20 };
const TESTS = Array.from({ length: 40 }, (_, i) => `test/t${String(i).padStart(2, '0')}.test.mjs`);

describe('selection', () => {
  it('is deterministic per seed, ceil(sample x n) files, and differs between seeds', () => {
    const a = selectTests(TESTS, POLICY, 'agent-1', []);
    expect(a.files).toHaveLength(4);
    expect(selectTests([...TESTS].reverse(), POLICY, 'agent-1', []).files).toEqual(a.files);
    expect(selectTests(TESTS, POLICY, 'agent-2', []).files).not.toEqual(a.files);
    expect(a.files).toEqual([...TESTS].sort((x, y) => (rankOf('agent-1', x) < rankOf('agent-1', y) ? -1 : 1)).slice(0, 4).sort());
  });
  it('adds changed test files and test.always, runs at least one, ignores non-tests', () => {
    const unsampled = TESTS.find((t) => !selectTests(TESTS, POLICY, 'agent-1', []).files.includes(t))!;
    const s = selectTests([...TESTS, 'src/x.mjs'], { ...POLICY, always: ['test/t39.test.mjs'] }, 'agent-1', [unsampled, 'src/x.mjs', 'test/gone.test.mjs']);
    expect(s.files).toContain(unsampled);
    expect(s.files).toContain('test/t39.test.mjs');
    expect(s.changed).toEqual([unsampled]);
    expect(selectTests(TESTS.slice(0, 3), { ...POLICY, sample: 0.01 }, 'a', []).files).toHaveLength(1);
    expect(selectTests(TESTS, POLICY, 'a', [], true).files).toHaveLength(40);
  });
  it.each([
    [['node', '--test', '{files}', '--x'], ['node', '--test', 'a', 'b', '--x']],
    [['npx', 'vitest', 'run'], ['npx', 'vitest', 'run', 'a', 'b']],
  ])('testArgv(%j)', (command, expected) => expect(testArgv(command, ['a', 'b'])).toEqual(expected));
  // The first assertion message of each failing test joins its line (issue 17: `21 !== 20`).
  it.each([
    ['TAP, block error', ['not ok 1 - adds', '  ---', "  location: '/w/test/a.test.mjs:3:1'", '  error: |-', '    Expected values to be strictly equal:', '    ', '    21 !== 20', '    ', "  code: 'ERR_ASSERTION'", '  stack: |-', '    TestContext.<anonymous> (file:///w/test/a.test.mjs:3:29)', '  ...', 'ok 2 - fine'], ['not ok 1 - adds (/w/test/a.test.mjs:3:1): Expected values to be strictly equal: 21 !== 20']],
    ['TAP, one-line error', ['not ok 3 - throws', '  ---', "  error: 'boom here'", "  name: 'TypeError'"], ['not ok 3 - throws: boom here']],
    ['spec reporter', ['✖ adds (1.2ms)', '  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:', '', '  21 !== 20', '', '✖ other (1ms)', '  TypeError: x is not a function'], ['✖ adds (1.2ms): AssertionError: Expected values to be strictly equal: 21 !== 20', '✖ other (1ms): TypeError: x is not a function']],
    ['vitest', [' FAIL  test/a.test.ts > adds', 'AssertionError: expected 21 to be 20 // Object.is equality'], ['FAIL  test/a.test.ts > adds: AssertionError: expected 21 to be 20 // Object.is equality']],
    ['no message under it: the next failure is not borrowed', ['not ok 1 - first', 'not ok 2 - second', "  error: 'two'"], ['not ok 1 - first', 'not ok 2 - second: two']],
  ])('failure lines carry the first assertion: %s', (_name, output, expected) => expect(failuresFromOutput(output, [])).toEqual(expected));
  it('finds failures in output and in JUnit reports', () => {
    expect(failuresFromOutput(['✔ adds', '✖ breaks (2ms)', 'test at test/b.test.mjs:2:1', '✖ breaks (2ms)'], ['test/b.test.mjs'])).toEqual(['✖ breaks (2ms)', 'test at test/b.test.mjs:2:1']);
    const xml = '<testsuites><testsuite name="x" file="test/a.test.mjs"><testcase name="ok"/><testcase name="bad"><failure message="2 == 3">trace</failure></testcase></testsuite><testsuite><testcase classname="test/b.test.mjs" name="fine"/></testsuite></testsuites>';
    const r = readJUnit(xml, new Set(['test/a.test.mjs', 'test/b.test.mjs']));
    expect(r).toEqual({ failures: ['test/a.test.mjs: bad: 2 == 3'], failedFiles: ['test/a.test.mjs'], ran: new Set(['test/a.test.mjs', 'test/b.test.mjs']) });
  });
});

/** A fixture project: src/fNN.mjs and test/tNN.test.mjs that tests it, plus the policy. */
function fixture(policy: Partial<TestPolicy> = {}): Record<string, FileChange> {
  const files: Record<string, FileChange> = {
    'agent-hooks.json': JSON.stringify({ test: { ...POLICY, refs: ['refs/heads/**'], ...policy } }),
    'package.json': '{"type":"module"}\n',
  };
  for (let i = 0; i < 40; i++) {
    const n = String(i).padStart(2, '0');
    files[`src/f${n}.mjs`] = `export const f = (x) => x + ${i};\n`;
    files[`test/t${n}.test.mjs`] = `import test from 'node:test';\nimport assert from 'node:assert';\nimport { f } from '../src/f${n}.mjs';\ntest('f${n} adds ${i}', () => assert.equal(f(1), ${i + 1}));\n`;
  }
  return files;
}

/** A bare repo with the fixture project pushed and its first sample run (the slow part), then a clone. */
function buildProject(policy: Partial<TestPolicy>, upstream: string) {
  const a = cloneAs(upstream, 'agent-1');
  commit(a, fixture(policy), 'project');
  // The policy that judges a push is the one before it: the push adding the tests runs none.
  const first = push(a);
  expect(first.exitCode, first.stderr).toBe(0);
  expect(first.stderr).not.toMatch(/Tests:/);
  commit(a, { 'README.md': 'fixture\n' });
  const second = push(a);
  expect(second.exitCode, second.stderr).toBe(0);
  expect(second.stderr).toMatch(/remote: Tests: 4\/4 passed \(0 affected, 4 sampled of 40 files, seed agent-1\)/);
  expect(second.stderr).not.toMatch(/reproduce:/);
}

// The default project is built once per file and copied for each test (a copy of a bare repo is
// a bare repo; install again points its stubs at the copy): every test still pushes to its own
// real bare repo, without paying for the fixture's first pushes each time.
let template: string | undefined;
afterAll(() => {
  if (template) rmSync(dirname(template), { recursive: true, force: true });
});

function project(policy: Partial<TestPolicy> = {}) {
  let upstream: string;
  if (Object.keys(policy).length > 0) {
    upstream = makeUpstream();
    buildProject(policy, upstream);
  } else {
    if (!template) {
      template = join(mkdtempSync(join(tmpdir(), 'agent-hooks-template-')), 'upstream.git');
      git(dirname(template), ['init', '--quiet', '--bare', '--initial-branch=main', template]);
      git(template, ['config', 'gc.auto', '0']);
      expect(cli(['install', template]).exitCode).toBe(0);
      buildProject(policy, template);
      rmSync(join(dirname(template), 'agent-1'), { recursive: true, force: true });
    }
    upstream = join(tempDir(), 'upstream.git');
    cpSync(template, upstream, { recursive: true });
    const installed = cli(['install', upstream]);
    expect(installed.exitCode, installed.stderr).toBe(0);
  }
  const a = existsSync(join(dirname(upstream), 'agent-1')) ? join(dirname(upstream), 'agent-1') : cloneAs(upstream, 'agent-1');
  const sample = selectTests(TESTS, POLICY, 'agent-1', []).files;
  return { upstream, a, sample, unsampled: TESTS.filter((t) => !sample.includes(t)) };
}
const srcOf = (testFile: string) => testFile.replace('test/t', 'src/f').replace('.test.mjs', '.mjs');

describe('pre-receive runs the sample', () => {
  it('rejects a push that breaks a sampled test, naming it; a broken module outside the sample is caught by its importing test (affected-first)', () => {
    const { upstream, a, sample, unsampled } = project();
    commit(a, { [srcOf(sample[0]!)]: 'export const f = () => -1;\n' }, 'break a sampled test');
    const broken = push(a);
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toMatch(/remote: Tests: failed with exit code 1 \(4 files\) \(1 affected, 3 sampled of 40 files, seed agent-1\)/);
    const n = sample[0]!.slice(6, 8);
    expect(broken.errors).toEqual([expect.stringMatching(new RegExp(`^ERROR: refs/heads/main: not ok 1 - f${n} adds ${Number(n)} \\(test/t${n}\\.test\\.mjs:4:1\\): -1 == ${Number(n) + 1}; fix: git fetch && git checkout [0-9a-f]{10} && agent-hooks test --fast --agent agent-1$`))]);
    expect(broken.stderr).toMatch(/remote: reproduce: git fetch && git checkout [0-9a-f]{10} && agent-hooks test --fast --agent agent-1/);
    // agent-hooks push shows the same lines, as git prints them (remote: prefix kept).
    const viaCli = cli(['push', 'origin', 'HEAD:main'], { cwd: a });
    expect(viaCli.exitCode).toBe(1);
    const serverLines = (text: string) => text.split('\n').filter((l) => /^remote: (Tests|ERROR|reproduce|log):/.test(l)).map((l) => l.trimEnd().replace(/(log: \S+\/)[^/\s]+$/, '$1<log>'));
    expect(serverLines(viaCli.stderr)).toEqual(serverLines(broken.stderr));
    expect(serverLines(viaCli.stderr).map((l) => l.split(':')[0] + ':' + l.split(':')[1])).toEqual(['remote: Tests', 'remote: ERROR', 'remote: reproduce', 'remote: log']);
    const log = /remote: log: (\S+)/.exec(broken.stderr)![1]!;
    expect(readFileSync(log, 'utf8')).toMatch(/^\$ node --test test\/t\d\d\.test\.mjs/);
    expect(log.startsWith(upstream)).toBe(true);

    // Before affected-first selection this push landed (the hash sample missed the test).
    git(a, ['reset', '--quiet', '--hard', 'HEAD~1']);
    commit(a, { [srcOf(unsampled[0]!)]: 'export const f = () => -1;\n' }, 'break an unsampled test');
    const caught = push(a);
    expect(caught.exitCode).toBe(1);
    expect(caught.stderr).toMatch(/remote: Tests: failed with exit code 1 \(4 files\) \(1 affected, 3 sampled of 40 files, seed agent-1\)/);
    expect(cli(['test', '--fast'], { cwd: a }).exitCode).toBe(1);
    const all = cli(['test', '--all'], { cwd: a });
    expect(all.exitCode).toBe(1);
    expect(all.stdout).toMatch(/^Tests: running 40 of 40 files \(all\)/);
    // check --tests selects the same way for any agent: the importing test runs for every seed.
    const checked = cli(['check', '--tests', 'HEAD~1..HEAD'], { cwd: a, env: { AGENT_ID: 'agent-77' } });
    expect(checked.exitCode, checked.stderr).toBe(1);
    expect(checked.stdout).toMatch(/Tests: failed with exit code 1 \(\d files\) \(1 affected, \d sampled of 40 files, seed agent-77\)/);
  });

  it('always runs a changed test file, and runs the same selection locally as on the server', () => {
    const { a, unsampled } = project();
    commit(a, { [unsampled[1]!]: "import test from 'node:test';\ntest('changed and broken', () => { throw new Error('boom'); });\n" });
    const r = push(a);
    expect(r.exitCode).toBe(1);
    // The changed test takes one of the ceil(0.1 x 40) = 4 places; the sample fills the rest.
    expect(r.stderr).toMatch(/Tests: failed with exit code 1 \(4 files\) \(1 changed, 0 affected, 3 sampled of 40 files, seed agent-1\)/);
    const serverFiles = readFileSync(/remote: log: (\S+)/.exec(r.stderr)![1]!, 'utf8').split('\n')[0]!.match(/test\/t\d\d\.test\.mjs/g);
    const local = cli(['test', '--fast', '--agent', 'agent-1'], { cwd: a });
    expect(local.exitCode).toBe(1);
    expect(local.stdout.split('\n')[0]!.match(/test\/t\d\d\.test\.mjs/g)).toEqual(serverFiles);
  });

  it('kills a hung test (and the children it forked) at the timeout and rejects with one clear line', () => {
    const { a } = project({ timeout: 3 });
    const marker = `agent-hooks-orphan-${process.pid}-${Date.now()}`;
    commit(a, { 'test/hang.test.mjs': `import test from 'node:test';\nimport { spawn } from 'node:child_process';\ntest('hangs', async () => { spawn('sh', ['-c', 'sleep 300 # ${marker}']); await new Promise(() => setInterval(() => {}, 1000)); });\n` });
    const r = push(a);
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^ERROR: refs\/heads\/main: tests timed out after 3 s \(test\.timeout\); fix: /);
    expect(execSync(`ps -eo args | grep -c '[${marker[0]}]${marker.slice(1)}' || true`, { encoding: 'utf8' }).trim()).toBe('0');
  });

  it('runs two pushes at once in two directories; a test that uses git works; no tests for lock files only; a passed tree is not run again', async () => {
    const { upstream, a } = project();
    // The tests write their host cwd outside their work tree: no sandbox here (test/sandbox.test.ts covers it).
    git(upstream, ['config', 'agenthooks.testSandbox', 'off']);
    const marks = tempDir('agent-hooks-cwd-');
    const slow = `import test from 'node:test';\nimport { writeFileSync } from 'node:fs';\nimport { execFileSync } from 'node:child_process';\nimport { mkdtempSync, rmSync } from 'node:fs';\ntest('uses git and records its cwd', async () => {\n  const d = mkdtempSync('git-in-a-test-');\n  execFileSync('git', ['init', '-q', d]);\n  execFileSync('git', ['-C', d, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'x']);\n  rmSync(d, { recursive: true, force: true });\n  writeFileSync('${marks}/' + Math.random(), process.cwd());\n  await new Promise((r) => setTimeout(r, 1500));\n});\n`;
    const b = cloneAs(upstream, 'agent-2');
    commit(a, { 'test/slow-a.test.mjs': slow });
    commit(b, { 'test/slow-b.test.mjs': slow });
    const [ra, rb] = await Promise.all([pushAsync(a, ['origin', 'HEAD:refs/heads/feature-a']), pushAsync(b, ['origin', 'HEAD:refs/heads/feature-b'])]);
    expect([ra.exitCode, rb.exitCode], ra.stderr + rb.stderr).toEqual([0, 0]);
    const dirs = readdirSync(marks).map((f) => readFileSync(join(marks, f), 'utf8'));
    expect(dirs).toHaveLength(2);
    expect(new Set(dirs).size).toBe(2);

    // The same tree again (another branch): already passed, not run again. Two changed tests
    // of ceil(0.1 x 42) = 5 places; the sample fills the other 3.
    const again = push(a, ['origin', 'HEAD:refs/heads/feature-c']);
    expect(again.stderr).toMatch(/remote: Tests: tree [0-9a-f]{10} already passed these 5 files \(seed agent-1\); not run again/);

    // A push that changes only lock files runs no tests, even with a command that always fails.
    sync(a);
    // (test.preexisting reject: else a command that fails on every tree fails on main before the push too, which is not blamed.)
    commit(a, { 'agent-hooks.json': JSON.stringify({ test: { ...POLICY, command: ['node', '-e', 'process.exit(1)'], preexisting: 'reject' } }) }, 'tests that always fail');
    expect(push(a).exitCode).toBe(0); // judged by the policy before it
    commit(a, { 'README.md': 'code change\n' });
    expect(push(a).exitCode).toBe(1);
    git(a, ['reset', '--quiet', '--hard', 'HEAD~1']);
    commit(a, { 'current_tasks/t.txt': `agent: agent-1\nstarted: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}\n` });
    const claimOnly = push(a);
    expect(claimOnly.exitCode, claimOnly.stderr).toBe(0);
    expect(claimOnly.stderr).not.toMatch(/Tests:/);
  });

  it('installs dependencies again only when the setup inputs change', () => {
    const { upstream, a } = project({ setup: ['node', '-e', "require('fs').appendFileSync('setup-runs', 'x')"] });
    git(upstream, ['config', 'agenthooks.testConcurrency', '1']);
    commit(a, { 'src/f00.mjs': 'export const f = (x) => x + 0;\n// same behaviour\n' });
    expect(push(a).stderr).not.toMatch(/dependencies changed/);
    commit(a, { 'package.json': '{"type":"module","name":"x"}\n' });
    const changed = push(a);
    expect(changed.exitCode, changed.stderr).toBe(0);
    expect(changed.stderr).toMatch(/remote: agent-hooks: dependencies changed; running node -e/);
    expect(readFileSync(join(upstream, 'agent-hooks', 'test', 'slot-0', 'work', 'setup-runs'), 'utf8')).toBe('xx');
  });

  it('the test process gets a clean environment, and git in its checkout does not find the bare repo', async () => {
    const { upstream, a } = project();
    const probe = `import test from 'node:test';\nimport assert from 'node:assert';\nimport { execFileSync } from 'node:child_process';\ntest('clean env', () => {\n  const leaked = Object.keys(process.env).filter((k) => /^GIT_|^AGENT_HOOKS|SLACK/.test(k) && k !== 'GIT_CEILING_DIRECTORIES');\n  assert.deepEqual(leaked, []);\n  assert.equal(process.env.CI, '1');\n  assert.throws(() => execFileSync('git', ['rev-parse', '--git-dir'], { stdio: 'pipe' }), /not a git repository/);\n});\n`;
    commit(a, { 'test/env.test.mjs': probe });
    // A webhook URL in the pusher's environment (a closed loopback port; the sender gives up at once).
    const r = push(a, ['-o', 'agent=agent-1', 'origin', 'HEAD:main'], { AGENT_HOOKS_SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/services/SECRET', AGENT_HOOKS_NOTIFY_BUDGET_MS: '1' });
    expect(r.exitCode, r.stderr).toBe(0);
    await sendersDone(upstream);
  });
});

