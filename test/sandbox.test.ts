// The test sandbox (issue 13 items 6, 7, 10): pushed tests attack the server with real git, real
// pushes and real bwrap. Each attack also runs once with `agenthooks.testSandbox off`, to show
// it works there, so the sandboxed run that stops it can fail.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bwrapArgv, decideSandbox, parseSandboxMode, probeSandbox, type HostPath } from '../server/sandbox.js';
import { cli, cloneAs, commit, git, makeUpstream, push, pushAsync, sendersDone, waitFor } from './helpers/git.js';
import { FakeSlack } from './helpers/slack.js';

const probe = probeSandbox();
const noBwrap = probe.ok ? '' : `bwrap cannot run here (${probe.reason}); apt-get install bubblewrap`;
if (noBwrap) console.warn(`test/sandbox.test.ts: skipping the attacks on the sandbox: ${noBwrap}`);

describe('the sandbox, pure parts', () => {
  it.each([
    [undefined, { mode: 'auto' }],
    ['required', { mode: 'required' }],
    [' OFF ', { mode: 'off' }],
    ['yes', { problem: 'agenthooks.testSandbox is "yes"; it must be one of required, auto, off' }],
  ])('parseSandboxMode(%j)', (value, expected) => expect(parseSandboxMode(value)).toEqual(expected));

  const missing = () => ({ ok: false as const, reason: 'bwrap is not installed' });
  const present = () => ({ ok: true as const, bwrap: '/usr/bin/bwrap' });
  it.each([
    ['off', missing, { sandbox: false }],
    ['auto', present, { sandbox: true, bwrap: '/usr/bin/bwrap' }],
    ['auto', missing, { sandbox: false, warning: expect.stringMatching(/^tests ran without a sandbox \(bwrap is not installed\).*; fix: apt-get install bubblewrap/) }],
    ['required', missing, { sandbox: false, refused: expect.stringMatching(/^tests must run in a sandbox .* but bwrap is not installed; fix: apt-get install bubblewrap/) }],
  ] as const)('decideSandbox(%s)', (mode, p, expected) => expect(decideSandbox(mode, p)).toEqual(expected));

  // A host with merged /usr, node under /opt, a bare repo under /usr/local, and an /etc/gitconfig.
  const host = (path: string): HostPath => {
    const links: Record<string, string> = { '/bin': 'usr/bin', '/lib': 'usr/lib', '/lib64': 'usr/lib64', '/sbin': 'usr/sbin', '/etc/resolv.conf': '../run/resolv.conf' };
    if (links[path]) return { kind: 'symlink', target: links[path]! };
    if (['/usr', '/opt/node', '/opt/node/bin', '/opt/node/lib/node_modules', '/etc/ssl', '/srv/slot/work'].includes(path)) return { kind: 'dir' };
    if (['/etc/passwd', '/etc/gitconfig', '/etc/shadow', '/run/resolv.conf', '/usr/local/etc/gitconfig'].includes(path)) return { kind: 'file' };
    return { kind: 'missing' };
  };
  const argv = (network: boolean, hide: string[]) => bwrapArgv({ workDir: '/srv/slot/work', network, hide, execPath: '/opt/node/bin/node', host });
  const binds = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [`${args[i + 1]} -> ${args[i + 2]}`] : []));

  it('bwrapArgv: everything read-only but the work dir at /work; no secrets from /etc; the bare repo masked where a bound dir holds it', () => {
    const args = argv(false, ['/usr/local/git/upstream.git']);
    expect(args.slice(0, 5)).toEqual(['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL']);
    expect(binds(args, '--bind')).toEqual(['/srv/slot/work -> /work']);
    expect(binds(args, '--ro-bind').filter((b) => !b.startsWith('/dev/null'))).toEqual(['/usr -> /usr', '/opt/node/bin -> /opt/node/bin', '/opt/node/lib/node_modules -> /opt/node/lib/node_modules', '/etc/passwd -> /etc/passwd', '/run/resolv.conf -> /run/resolv.conf', '/etc/ssl -> /etc/ssl']);
    expect(args.join(' ')).not.toMatch(/ \/etc\/gitconfig|shadow/);
    expect(binds(args, '--ro-bind')).toContain('/dev/null -> /usr/local/etc/gitconfig'); // a /usr/local git's system config reads empty
    expect(binds(args, '--symlink')).toContain('usr/bin -> /bin');
    expect(args.slice(-2)).toEqual(['--tmpfs', '/usr/local/git/upstream.git']);
    expect(args).not.toContain('--share-net');
  });

  it('bwrapArgv: network only when asked; a repo outside every bound dir needs no mask', () => {
    const args = argv(true, ['/srv/git/upstream.git']);
    expect(args).toContain('--share-net');
    expect(args.filter((a) => a.includes('upstream.git'))).toEqual([]);
  });
});

const slacks: FakeSlack[] = [];
const servers: Server[] = [];
const repos: string[] = [];
const strays: string[] = [];
afterEach(async () => {
  for (const needle of strays.splice(0)) for (const pid of pidsOf(needle)) process.kill(pid, 'SIGKILL');
  for (const upstream of repos.splice(0)) await sendersDone(upstream);
  for (const s of slacks.splice(0)) await s.stop();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** Pids of processes whose command line contains `needle`. */
const pidsOf = (needle: string) =>
  spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo')).map((l) => Number(l.trim().split(/\s+/)[0]));

/**
 * The attacker's test runner, pushed as `test/attack.mjs`: does what `attack.json` in the pushed
 * tree says. Everything it finds it prints (a real attacker would send it out), then it fails,
 * so the output reaches the push's lines and the log.
 */
const ATTACK = String.raw`import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
const a = JSON.parse(readFileSync('attack.json', 'utf8'));
const read = (p) => { try { return readFileSync(p, 'utf8'); } catch { return ''; } };
if (a.mode === 'secrets') {
  let up = '';
  // Lines naming the test file reach the push's ERROR lines (from the output's last 200 lines):
  // where an attacker puts its loot, last.
  const loot = [];
  for (let i = 0; i < 10; i++) { up += '../'; const text = read(up + 'config'); for (const l of text.split('\n').filter((l) => /url|token/i.test(l))) loot.push('test/attack.mjs: FOUND in ' + up + 'config: ' + l.trim()); }
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    console.log('PROC ' + pid + ': ' + read('/proc/' + pid + '/cmdline').replace(/\0/g, ' '));
    const env = read('/proc/' + pid + '/environ');
    if (env) console.log('ENVIRON ' + pid + ': ' + env.replace(/\0/g, ' '));
    const secret = /[^\0\s]*SECRET-TOKEN[^\0\s]*/.exec(env);
    if (secret) loot.push('test/attack.mjs: FOUND in /proc/' + pid + '/environ: ' + secret[0]);
  }
  for (const l of loot) console.log(l);
  process.exit(1);
}
if (a.mode === 'update-ref') {
  const r = spawnSync('git', ['update-ref', 'refs/heads/main', a.oid], { env: { ...process.env, GIT_DIR: a.bare }, encoding: 'utf8' });
  console.log('update-ref exit ' + r.status + ' ' + (r.stderr || '').trim());
  process.exit(1);
}
if (a.mode === 'escape') {
  // A grandchild in its own session (setsid, double fork) holding stdout, then hang.
  spawnSync('sh', ['-c', 'setsid sleep ' + a.sleep + ' &']);
  setInterval(() => {}, 1000);
}
if (a.mode === 'hang') { spawnSync('sleep', [a.sleep]); }
if (a.mode === 'network') {
  const s = connect(a.port, '127.0.0.1');
  s.on('connect', () => { console.log('connected to 127.0.0.1:' + a.port); process.exit(1); });
  s.on('error', (e) => { console.log('no network: ' + e.code); process.exit(0); });
}
`;

/** A bare repo whose tested pushes run the attack; `mode` is agenthooks.testSandbox. */
function attackedRepo(mode: 'auto' | 'off' | 'required', test: Record<string, unknown> = {}) {
  const upstream = makeUpstream();
  repos.push(upstream);
  git(upstream, ['config', 'agenthooks.testConcurrency', '1']);
  git(upstream, ['config', 'agenthooks.testSandbox', mode]);
  const a = cloneAs(upstream, 'agent-1');
  const first = commit(a, { 'agent-hooks.json': JSON.stringify({ test: { command: ['node', 'test/attack.mjs'], files: ['test/**'], timeout: 60, ...test } }), 'test/attack.mjs': ATTACK, 'attack.json': '{"mode":"none"}' }, 'tested project');
  expect(push(a).exitCode).toBe(0); // judged by the policy before it: no tests yet
  return { upstream, a, first };
}

const logOf = (stderr: string) => readFileSync(/remote: log: (\S+)/.exec(stderr)![1]!, 'utf8');

describe.skipIf(!!noBwrap)(`pushed tests attack the server${noBwrap ? ` (skipped: ${noBwrap})` : ''}`, () => {
  it('reading ../../../../../config and /proc/*/environ for the Slack webhook: nothing found, no hook process seen, nothing in remote: lines or the log', async () => {
    for (const mode of ['auto', 'off'] as const) {
      const slack = await new FakeSlack().start();
      slacks.push(slack);
      const { upstream, a } = attackedRepo(mode);
      git(upstream, ['config', 'agenthooks.slack.webhookUrl', slack.url]);
      git(upstream, ['config', 'agenthooks.serve.token', 'SERVE-TOKEN-0123456789']);
      commit(a, { 'attack.json': '{"mode":"secrets"}' });
      const r = push(a, ['origin', 'HEAD:main'], { AGENT_HOOKS_SLACK_WEBHOOK_URL: `${slack.url}-FROM-ENV` });
      expect(r.exitCode).toBe(1);
      const log = logOf(r.stderr);
      expect(r.stderr).not.toContain('SECRET-TOKEN'); // never in remote: lines, even unsandboxed (redacted)
      if (mode === 'off') {
        // Without the sandbox the attack works (the control): it finds the URL, which only the
        // redaction keeps out of the ERROR lines and the log.
        expect(log).toMatch(/FOUND in (\.\.\/)+config: webhookUrl = <webhook>/);
        // The dashboard's token too (review): read, then redacted from the lines and the log.
        expect(log).toMatch(/FOUND in (\.\.\/)+config: token = <redacted>/);
        expect(`${r.stderr}${log}`).not.toContain('SERVE-TOKEN');
        expect(r.errors.join('\n')).toMatch(/FOUND in \/proc\/\d+\/environ: AGENT_HOOKS_SLACK_WEBHOOK_URL=<webhook>-FROM-ENV/);
        expect(log).not.toContain('SECRET-TOKEN');
        expect(log).toMatch(/PROC \d+: \S*node \S*pre-receive/);
        continue;
      }
      expect(r.stderr).not.toContain('SECRET-TOKEN');
      expect(log).not.toContain('SECRET-TOKEN');
      expect(log).not.toMatch(/FOUND/);
      expect(log).not.toContain(upstream);
      // Only the sandbox's own processes: bwrap's init (its options read from a pipe) and the test.
      const procs = log.split('\n').filter((l) => l.startsWith('PROC '));
      expect(procs.length).toBeLessThanOrEqual(3);
      expect(procs.join('\n')).not.toMatch(/pre-receive|receive-pack/);
    }
  });

  it('GIT_DIR=<bare> git update-ref refs/heads/main <old oid>: main does not move', () => {
    for (const mode of ['auto', 'off'] as const) {
      const { upstream, a, first } = attackedRepo(mode);
      commit(a, { 'x.txt': 'x' }, 'second');
      expect(push(a).exitCode).toBe(0);
      const main = git(upstream, ['rev-parse', 'main']).stdout.trim();
      commit(a, { 'attack.json': JSON.stringify({ mode: 'update-ref', bare: upstream, oid: first }) });
      const r = push(a);
      expect(r.exitCode).toBe(1);
      const after = git(upstream, ['rev-parse', 'main']).stdout.trim();
      if (mode === 'off') expect(after).toBe(first); // the control: without the sandbox the test rewrites main
      else {
        expect(after).toBe(main);
        expect(logOf(r.stderr)).toMatch(/update-ref exit (?!0)\d+/);
      }
    }
  });

  it('a test child that escapes the process group (setsid) and holds stdout: the push is answered after the timeout, the slot is freed, and in the sandbox the child is gone', async () => {
    for (const mode of ['auto', 'off'] as const) {
      const sleep = String(900_000 + Math.floor(Math.random() * 99_999));
      strays.push(`sleep ${sleep}`);
      const { upstream, a } = attackedRepo(mode, { timeout: 2 });
      commit(a, { 'attack.json': JSON.stringify({ mode: 'escape', sleep }) });
      const r = push(a);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/remote: ERROR: refs\/heads\/main: .*timed out after 2 s/);
      expect(spawnSync('test', ['-e', join(upstream, 'agent-hooks', 'test', 'slot-0', 'lock')]).status).toBe(1);
      // The push was answered while the escaped child still holds the pipe (unsandboxed: it lives on).
      if (mode === 'off') expect(pidsOf(`sleep ${sleep}`).length).toBe(1);
      else await waitFor(() => pidsOf(`sleep ${sleep}`).length === 0, 5000);
    }
  });

  it('SIGKILL of pre-receive while a sandboxed test runs: everything the test started dies with it', async () => {
    const { upstream, a } = attackedRepo('auto');
    const sleep = String(800_000 + Math.floor(Math.random() * 99_999));
    strays.push(`sleep ${sleep}`);
    commit(a, { 'attack.json': JSON.stringify({ mode: 'hang', sleep }) });
    const killed = pushAsync(a);
    await waitFor(() => pidsOf(`sleep ${sleep}`).length >= 1);
    const hook = pidsOf(join(upstream, 'hooks', 'agent-hooks'))[0];
    expect(hook).toBeDefined();
    process.kill(hook!, 'SIGKILL');
    expect((await killed).exitCode).not.toBe(0);
    await waitFor(() => pidsOf(`sleep ${sleep}`).length === 0, 5000);
  });

  it('no network for tests: a 127.0.0.1 server of the host is out of reach, unless test.network is true', async () => {
    const server = createServer((s) => s.end('hello\n'));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    for (const network of [false, true]) {
      const { a } = attackedRepo('auto', { network });
      commit(a, { 'attack.json': JSON.stringify({ mode: 'network', port }) });
      const r = push(a);
      if (network) {
        expect(r.exitCode).toBe(1); // the control: with the network the test connects (and fails)
        expect(logOf(r.stderr)).toContain(`connected to 127.0.0.1:${port}`);
      } else expect(r.exitCode, r.stderr).toBe(0);
    }
  });
});

describe('agent-hooks test --fast in a clone', () => {
  /** A clone whose one test prints where it runs and whether it reaches a 127.0.0.1 server. */
  async function clone() {
    const server = createServer((sock) => sock.end());
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const { a } = attackedRepo('auto', { command: ['node', 'test/where.mjs'] });
    commit(a, { 'test/where.mjs': `import { connect } from 'node:net';\nconsole.log('cwd ' + process.cwd());\nconst s = connect(${port}, '127.0.0.1');\ns.on('connect', () => { console.log('network yes'); process.exit(0); });\ns.on('error', () => { console.log('network no'); process.exit(0); });\n` });
    return a;
  }

  it('is not sandboxed by default: the agent runs code it already has', async () => {
    const a = await clone();
    const r = cli(['test', '--fast', '--agent', 'agent-1'], { cwd: a });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`cwd ${a}`);
    expect(r.stdout).toContain('network yes');
  });

  it.skipIf(!!noBwrap)('agenthooks.testSandbox auto in the clone: the same sandbox as pre-receive (at /work, no network)', async () => {
    const a = await clone();
    git(a, ['config', 'agenthooks.testSandbox', 'auto']);
    const r = cli(['test', '--fast', '--agent', 'agent-1'], { cwd: a });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('cwd /work');
    expect(r.stdout).toContain('network no');
    expect(r.stdout).toMatch(/files passed \(sandboxed\)/);
  });

  it('agenthooks.testSandbox required where bwrap cannot run: refused with the fix', async () => {
    const a = await clone();
    git(a, ['config', 'agenthooks.testSandbox', 'required']);
    const r = cli(['test', '--fast', '--agent', 'agent-1'], { cwd: a, env: { AGENT_HOOKS_BWRAP: '/nonexistent/bwrap' } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: test --fast: tests must run in a sandbox .* fix: apt-get install bubblewrap/m);
    expect(r.stdout).not.toContain('cwd ');
  });
});

describe('where bwrap cannot run', () => {
  it('auto: the tests run with a WARNING on the push and in doctor; required: the push is refused with a fix', () => {
    const missing = { AGENT_HOOKS_BWRAP: '/nonexistent/bwrap' };
    const auto = attackedRepo('auto');
    commit(auto.a, { 'attack.json': '{"mode":"none"}', 'x.txt': 'x' });
    const r = push(auto.a, ['origin', 'HEAD:main'], missing);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.warnings).toEqual([expect.stringMatching(/^WARNING: refs\/heads\/main: tests ran without a sandbox \(\/nonexistent\/bwrap is not installed\): .*; fix: apt-get install bubblewrap/)]);
    const doctor = cli(['doctor', auto.upstream], { env: missing });
    expect(doctor.exitCode, doctor.stdout).toBe(0);
    expect(doctor.stdout).toMatch(/^WARNING: test sandbox: agenthooks.testSandbox auto, but tests run without a sandbox/m);

    const required = attackedRepo('required');
    commit(required.a, { 'x.txt': 'x' });
    const refused = push(required.a, ['origin', 'HEAD:main'], missing);
    expect(refused.exitCode).toBe(1);
    expect(refused.errors).toEqual([expect.stringMatching(/^ERROR: refs\/heads\/main: tests must run in a sandbox \(agenthooks.testSandbox is required\), but \/nonexistent\/bwrap is not installed; fix: apt-get install bubblewrap/)]);
    const doctorRequired = cli(['doctor', required.upstream], { env: missing });
    expect(doctorRequired.exitCode).toBe(1);
    expect(doctorRequired.stdout).toMatch(/^ERROR: test sandbox: every tested push is refused/m);
  });

  it.skipIf(!!noBwrap)('doctor says the sandbox runs', () => {
    const { upstream } = attackedRepo('auto');
    expect(cli(['doctor', upstream]).stdout).toMatch(/^ok: test sandbox: bwrap runs here \(agenthooks.testSandbox auto\)/m);
  });
});
