// Faults (issue 7): a hook killed with SIGKILL mid-work, a test command that crashes or floods its
// output, a Slack sender killed mid-delivery, and a spool that cannot be written (not a
// directory; a full disk). Real pushes, real processes, a real HTTP server for Slack.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, cliAsync, cloneAs, commit, git, makeUpstream, push, pushAsync, sendersDone, tempDir, waitFor } from './helpers/git.js';
import { FakeSlack } from './helpers/slack.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** The pid of the process whose command line contains `needle` (the hook's node, the sender). */
const pidOf = (needle: string) => {
  const line = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout.split('\n').find((l) => l.includes(needle) && !l.includes('ps -eo'));
  return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
};

/** A repo whose tested pushes run `node test/run.mjs`, which does what `mode.txt` in the pushed tree says. */
function testedRepo(timeout = 60, sandbox = 'auto') {
  const upstream = makeUpstream();
  git(upstream, ['config', 'agenthooks.testConcurrency', '1']);
  git(upstream, ['config', 'agenthooks.testSandbox', sandbox]);
  const a = cloneAs(upstream, 'agent-1');
  const dir = tempDir();
  const run = `import { appendFileSync, existsSync, readFileSync } from 'node:fs';
try { appendFileSync(${JSON.stringify(join(dir, 'pids'))}, process.pid + '\\n'); } catch {} // not from inside the sandbox
const mode = readFileSync('mode.txt', 'utf8').trim();
if (mode === 'hang') setInterval(() => {}, 1000);
if (mode === 'crash') process.kill(process.pid, 'SIGSEGV');
if (mode === 'flood') { const mb = Buffer.alloc(1 << 20, 120); for (let i = 0; i < 100; i++) process.stdout.write(mb); process.exitCode = 1; }
`;
  commit(a, { 'agent-hooks.json': JSON.stringify({ test: { command: ['node', 'test/run.mjs'], files: ['test/**'], timeout } }), 'test/run.mjs': run, 'test/$(touch pwned);`touch pwned2`.mjs': '', 'mode.txt': 'ok\n' }, 'tested project');
  expect(push(a).exitCode).toBe(0); // judged by the policy before it: no tests yet
  const pids = () => (existsSync(join(dir, 'pids')) ? readFileSync(join(dir, 'pids'), 'utf8').split('\n').filter(Boolean).map(Number) : []);
  return { upstream, a, pids };
}

describe('a hook killed mid-work', () => {
  // Without the sandbox (test/sandbox.test.ts kills a sandboxed one: nothing outlives the hook there).
  it('SIGKILL of pre-receive while its test runs: the push fails, and the next push takes the slot, kills the orphaned test and lands', async () => {
    const { upstream, a, pids } = testedRepo(60, 'off');
    commit(a, { 'mode.txt': 'hang\n' });
    const killed = pushAsync(a);
    await waitFor(() => pids().length === 1);
    const hook = pidOf(join(upstream, 'hooks', 'agent-hooks'));
    expect(hook).toBeDefined();
    process.kill(hook!, 'SIGKILL');
    const r = await killed;
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/pre-receive hook declined/);
    const orphan = pids()[0]!;
    expect(alive(orphan)).toBe(true); // SIGKILL runs no handler: the test group outlives the hook

    commit(a, { 'mode.txt': 'ok\n' });
    const next = push(a);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/remote: Tests: \d+\/\d+ passed/);
    await waitFor(() => !alive(orphan), 5000);
    expect(existsSync(join(upstream, 'agent-hooks', 'test', 'slot-0', 'lock'))).toBe(false);
    expect(readdirSync(join(upstream, 'objects')).filter((n) => n.startsWith('tmp_objdir'))).toEqual([]);
    expect(git(upstream, ['fsck', '--no-progress']).exitCode).toBe(0);
  });
});

describe('a test command that misbehaves', () => {
  it('crashes with a signal, or prints 100 MB: the push is rejected with one clear line and the log stays under 9 MB', () => {
    const { upstream, a } = testedRepo();
    commit(a, { 'mode.txt': 'crash\n' });
    const crash = push(a);
    expect(crash.exitCode).toBe(1);
    expect(crash.errors[0]).toMatch(/^ERROR: refs\/heads\/main: /);
    expect(crash.errors).toEqual(['ERROR: refs/heads/main: the test command was killed by signal SIGSEGV; fix: run it locally (see reproduce)']);
    expect(crash.stderr).toMatch(/remote: Tests: failed \(killed by signal SIGSEGV\) \(1 files\)/);

    git(a, ['reset', '--quiet', '--hard', 'origin/main']);
    commit(a, { 'mode.txt': 'flood\n' });
    const flood = push(a);
    expect(flood.exitCode).toBe(1);
    expect(flood.errors.length).toBeGreaterThanOrEqual(1);
    expect(flood.stderr.length).toBeLessThan(20_000); // ~25 lines, never the flood itself
    const log = /remote: log: (\S+)/.exec(flood.stderr)?.[1] ?? '';
    const logFile = log.startsWith('/') ? log : join(upstream, log);
    expect(statSync(logFile).size).toBeLessThan(9 * 1024 * 1024);
    expect(readFileSync(logFile, 'utf8')).toMatch(/\[agent-hooks: log cut at \d+ bytes\]/);
    // The selected file named like shell code reached the command as one argument, never a shell.
    expect(readFileSync(logFile, 'utf8')).toContain('test/$(touch pwned);`touch pwned2`.mjs');
    const work = join(upstream, 'agent-hooks', 'test', 'slot-0', 'work');
    for (const name of ['pwned', 'pwned2']) expect(existsSync(join(work, name)) || existsSync(join(upstream, name))).toBe(false);
  });
});

const slacks: FakeSlack[] = [];
const repos: string[] = [];
afterEach(async () => {
  for (const upstream of repos.splice(0)) await sendersDone(upstream);
  for (const s of slacks.splice(0)) await s.stop();
});
const FAST = { AGENT_HOOKS_NOTIFY_INTERVAL_MS: '20', AGENT_HOOKS_NOTIFY_TIMEOUT_MS: '20000', AGENT_HOOKS_NOTIFY_BACKOFF_MS: '100' };

async function repoWithSlack() {
  const slack = await new FakeSlack().start();
  slacks.push(slack);
  const upstream = makeUpstream();
  repos.push(upstream);
  git(upstream, ['config', 'agenthooks.slack.webhookUrl', slack.url]);
  return { slack, upstream, a: cloneAs(upstream, 'agent-1') };
}

describe('the Slack sender and its spool', () => {
  it('a sender killed mid-delivery: the next push\'s sender takes over the spool and delivers both messages', async () => {
    const { slack, upstream, a } = await repoWithSlack();
    slack.answer('hold');
    commit(a, { 'one.txt': '1' }, 'first');
    expect(push(a, ['origin', 'HEAD:main'], FAST).exitCode).toBe(0);
    await waitFor(() => slack.received.length === 1);
    const sender = pidOf(`notify-sender.mjs ${upstream}`);
    expect(sender).toBeDefined();
    process.kill(sender!, 'SIGKILL');
    commit(a, { 'two.txt': '2' }, 'second');
    expect(push(a, ['origin', 'HEAD:main'], FAST).exitCode).toBe(0);
    await waitFor(() => slack.received.filter((r) => r.status === 200).length === 2);
    await sendersDone(upstream);
    const sent = slack.received.filter((r) => r.status === 200).map((r) => JSON.parse(r.text).text as string);
    expect(sent.some((t) => t.includes('main created') || t.includes('created at'))).toBe(true);
    expect(sent.some((t) => /main [0-9a-f]{10}\.\.[0-9a-f]{10}/.test(t))).toBe(true);
    expect(readdirSync(join(upstream, 'agent-hooks', 'spool')).filter((n) => /\.(json|raw)$/.test(n))).toEqual([]);
  });

  it('a spool that cannot be written: the push lands with a WARNING, the event is kept, doctor reports it, notify --flush delivers it', async () => {
    const { slack, upstream, a } = await repoWithSlack();
    mkdirSync(join(upstream, 'agent-hooks'), { recursive: true });
    writeFileSync(join(upstream, 'agent-hooks', 'spool'), 'not a directory');
    commit(a, { 'x.txt': 'x' });
    const r = push(a, ['origin', 'HEAD:main'], FAST);
    expect(r.exitCode).toBe(0);
    expect(r.warnings).toEqual([expect.stringMatching(/^WARNING: post-receive: the push landed, but its notification could not be spooled in \S+\/agent-hooks\/spool; it is kept in \S+\/agent-hooks\/unspooled; fix: /)]);
    expect(r.stderr).not.toContain(slack.url);
    const doctor = cli(['doctor', upstream]);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout + doctor.stderr).toMatch(/spool .* cannot be written/);
    expect(doctor.stdout + doctor.stderr).toMatch(/1 notifications could not be spooled when their push landed; fix: once the spool can be written, agent-hooks notify --flush/);

    rmSync(join(upstream, 'agent-hooks', 'spool'));
    const flush = await cliAsync(['notify', '--flush', upstream], { cwd: upstream, env: FAST });
    expect(flush.exitCode, flush.stdout + flush.stderr).toBe(0);
    expect(flush.stdout).toMatch(/1 notifications that could not be spooled when their push landed are spooled now/);
    expect(slack.received.filter((x) => x.status === 200)).toHaveLength(1);
    expect(readdirSync(join(upstream, 'agent-hooks', 'unspooled'))).toEqual([]);
    expect(cli(['doctor', upstream]).stdout).not.toMatch(/could not be spooled/);
  });

  const canMount = (() => {
    if (process.getuid?.() !== 0) return false;
    const probe = mkdtempSync(join(tmpdir(), 'agent-hooks-mount-'));
    const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
    if (ok) spawnSync('umount', [probe]);
    rmSync(probe, { recursive: true, force: true });
    return ok;
  })();

  it.skipIf(!canMount)('a full disk under the spool (a 64 kB tmpfs, filled): the push lands, the event is kept beside it and sent once there is space', async () => {
    const { slack, upstream, a } = await repoWithSlack();
    const spool = join(upstream, 'agent-hooks', 'spool');
    mkdirSync(spool, { recursive: true });
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', spool]).status).toBe(0);
    try {
      spawnSync('dd', ['if=/dev/zero', `of=${join(spool, 'filler')}`, 'bs=4k', 'count=64']);
      commit(a, { 'y.txt': 'y' });
      const r = push(a, ['origin', 'HEAD:main'], FAST);
      expect(r.exitCode).toBe(0);
      expect(r.warnings[0]).toMatch(/could not be spooled in \S+; it is kept in \S+\/agent-hooks\/unspooled/);
      expect(readdirSync(join(upstream, 'agent-hooks', 'unspooled')).filter((n) => n.endsWith('.raw'))).toHaveLength(1);
      const doctor = cli(['doctor', upstream]);
      expect(doctor.stdout + doctor.stderr).toMatch(/cannot be written \(ENOSPC/);
      // Space again: notify --flush moves the kept event across filesystems and sends it.
      rmSync(join(spool, 'filler'));
      const flush = await cliAsync(['notify', '--flush', upstream], { cwd: upstream, env: FAST });
      expect(flush.exitCode, flush.stdout + flush.stderr).toBe(0);
      expect(slack.received.filter((x) => x.status === 200)).toHaveLength(1);
    } finally {
      spawnSync('umount', [spool]);
    }
  });
});
