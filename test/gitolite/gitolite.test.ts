// gitolite over SSH, for real, on 127.0.0.1 (issue 8): an unprivileged git user runs sshd on a
// loopback port and gitolite; three agents push over ssh:// with their own keys. agent-hooks is
// installed with --layout gitolite and run by gitolite's repo-specific hooks, beside gitolite's
// own update hook. Needs root (useradd), Debian's gitolite3 and openssh-server: `npm run
// test:gitolite` (run by .ci/run when the packages can be installed). docs/gitolite.md has the
// same steps for a real server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, fixtureEnv, lockText, sendersDone } from '../helpers/git.js';
import { FakeSlack } from '../helpers/slack.js';

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-gitolite-'));
const user = `ahgit${process.pid % 100000}`;
const home = join(root, 'home');
const keys = join(root, 'keys');
let port = 0;
let sshd: ChildProcess | undefined;
let slack: FakeSlack;
const repo = join(home, 'repositories', 'upstream.git');

/** Runs a command, throwing with its output unless it exits 0. */
function sh(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; allowFail?: boolean } = {}) {
  const r = spawnSync(cmd, args, { cwd: options.cwd ?? root, env: options.env ?? fixtureEnv(), input: options.input, encoding: 'utf8' });
  if (r.status !== 0 && !options.allowFail) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return { exitCode: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
/** As the git user, with its home. */
const asGit = (args: string[], options: { cwd?: string } = {}) =>
  sh('runuser', ['-u', user, '--', 'env', `HOME=${home}`, `PATH=${process.env.PATH}`, ...args], { cwd: options.cwd ?? home, env: { PATH: process.env.PATH } });

/** The environment of an agent pushing over ssh with its own key. */
const agentEnv = (agent: string): Record<string, string> => ({
  GIT_SSH_COMMAND: `ssh -i ${join(keys, agent)} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p ${port}`,
});
const git = (cwd: string, agent: string, args: string[], allowFail = false) => sh('git', args, { cwd, env: fixtureEnv(agentEnv(agent)), allowFail });
const remote = () => `ssh://${user}@127.0.0.1:${port}/upstream`;

function cloneAgent(agent: string): string {
  const dir = join(root, agent);
  git(root, agent, ['clone', '--quiet', remote(), dir]);
  for (const [k, v] of [['user.name', agent], ['user.email', `${agent}@example.com`], ['commit.gpgSign', 'false']] as const) git(dir, agent, ['config', k, v]);
  return dir;
}
function commitFiles(dir: string, agent: string, files: Record<string, string>, message: string) {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  git(dir, agent, ['add', '-A']);
  git(dir, agent, ['commit', '--quiet', '-m', message]);
}
const errorsOf = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('remote: ERROR: ')).map((l) => l.slice(8).trimEnd());

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });

beforeAll(async () => {
  chmodSync(root, 0o755);
  sh('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/sh', user]);
  mkdirSync(keys);
  for (const k of ['admin', 'agent-1', 'agent-2', 'agent-3']) sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', join(keys, k)]);

  // gitolite, as the git user: setup with the admin key, then the agents' keys and the repo.
  copyFileSync(join(keys, 'admin.pub'), join(home, 'admin.pub'));
  sh('chown', [`${user}:`, join(home, 'admin.pub')]);
  asGit(['gitolite', 'setup', '-pk', join(home, 'admin.pub')]);
  const rc = join(home, '.gitolite.rc');
  writeFileSync(rc, readFileSync(rc, 'utf8').replace(/# *(LOCAL_CODE\s*=>\s*"\$rc\{GL_ADMIN_BASE\}\/local",)/, '$1').replace(/# *('repo-specific-hooks',)/, '$1'));
  for (const k of ['agent-1', 'agent-2', 'agent-3']) copyFileSync(join(keys, `${k}.pub`), join(home, '.gitolite', 'keydir', `${k}.pub`));
  mkdirSync(join(home, '.gitolite', 'local', 'hooks', 'repo-specific'), { recursive: true });
  writeFileSync(join(home, '.gitolite', 'conf', 'gitolite.conf'), [
    'repo gitolite-admin',
    '    RW+ = admin',
    'repo upstream',
    '    -   refs/heads/frozen = @all',
    '    RW+ = agent-1 agent-2 agent-3',
    '    option hook.pre-receive = agent-hooks',
    '    option hook.post-receive = agent-hooks',
    '',
  ].join('\n'));
  sh('chown', ['-R', `${user}:`, home]);
  asGit(['gitolite', 'setup']); // creates upstream.git (the hook is not there yet: a warning)

  // agent-hooks into the repo, then the repo-specific hook into LOCAL_CODE, then gitolite again.
  // As the git user, who owns the repository (root would trip git's safe.directory check).
  const install = asGit([process.execPath, CLI, 'install', '--layout', 'gitolite', repo]);
  expect(install.stdout).toMatch(/next, as the gitolite admin/);
  copyFileSync(join(repo, 'hooks', 'agent-hooks', 'gitolite-hook'), join(home, '.gitolite', 'local', 'hooks', 'repo-specific', 'agent-hooks'));
  chmodSync(join(home, '.gitolite', 'local', 'hooks', 'repo-specific', 'agent-hooks'), 0o755);
  slack = await new FakeSlack().start();
  asGit(['git', 'config', 'agenthooks.slack.webhookUrl', slack.url], { cwd: repo });
  // gitolite creates repositories with HEAD on master; the claims ref is HEAD's branch.
  asGit(['git', 'symbolic-ref', 'HEAD', 'refs/heads/main'], { cwd: repo });
  sh('chown', ['-R', `${user}:`, home]);
  asGit(['gitolite', 'setup']);

  // sshd as the git user on a loopback port, with its own host key.
  port = await freePort();
  const sshdDir = join(root, 'sshd');
  mkdirSync(sshdDir);
  mkdirSync('/run/sshd', { recursive: true });
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshdDir, 'host_key')]);
  writeFileSync(join(sshdDir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(sshdDir, 'host_key')}`, `PidFile ${join(sshdDir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(home, '.ssh', 'authorized_keys')}`, 'StrictModes no', 'UsePAM no', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'PubkeyAuthentication yes', `AllowUsers ${user}`, 'LogLevel ERROR', '',
  ].join('\n'));
  sh('chown', ['-R', `${user}:`, sshdDir]);
  sshd = spawn('runuser', ['-u', user, '--', '/usr/sbin/sshd', '-D', '-e', '-f', join(sshdDir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  sshd.stderr!.on('data', (d) => {
    try {
      appendFileSync(join(root, 'sshd.log'), d);
    } catch {
      // removed at the end
    }
  });
  for (let i = 0; i < 100; i++) {
    if (sh('ssh', [...agentEnv('agent-1').GIT_SSH_COMMAND!.split(' ').slice(1), `${user}@127.0.0.1`, 'info'], { allowFail: true }).exitCode === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 180_000);

afterAll(async () => {
  sshd?.kill();
  await sendersDone(repo).catch(() => {});
  await slack?.stop();
  sh('pkill', ['-u', user], { allowFail: true });
  sh('userdel', ['-r', '-f', user], { allowFail: true });
  rmSync(root, { recursive: true, force: true });
});

describe('gitolite over ssh', () => {
  it('runs agent-hooks through gitolite\'s repo-specific hooks with GL_USER as the pusher, beside gitolite\'s update hook', async () => {
    const a = cloneAgent('agent-1');
    commitFiles(a, 'agent-1', { 'README.md': '# p\n', 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/parser/**'] }) }, 'claim parser');
    const first = git(a, 'agent-1', ['push', 'origin', 'HEAD:main'], true);
    expect(first.exitCode, first.stderr).toBe(0);

    // Over ssh the pusher is GL_USER: a claim for someone else is refused, its lines intact.
    const b = cloneAgent('agent-2');
    commitFiles(b, 'agent-2', { 'current_tasks/parser.txt': lockText('agent-2') }, 'steal parser');
    const steal = git(b, 'agent-2', ['push', 'origin', 'HEAD:main'], true);
    expect(steal.exitCode).toBe(1);
    expect(errorsOf(steal.stderr)[0], steal.stderr).toMatch(/^ERROR: refs\/heads\/main: current_tasks\/parser\.txt: .*agent-1/);

    git(b, 'agent-2', ['reset', '--quiet', '--hard', 'origin/main']);
    commitFiles(b, 'agent-2', { 'current_tasks/lexer.txt': lockText('agent-1') }, 'claim as agent-1');
    const spoof = git(b, 'agent-2', ['push', '-o', 'agent=agent-1', 'origin', 'HEAD:main'], true);
    expect(errorsOf(spoof.stderr)[0]).toBe('ERROR: push: push option agent=agent-1 does not match the authenticated user agent-2 (GL_USER): spoofed identity; fix: push without -o agent= or with -o agent=agent-2');

    // Leases hold on every branch.
    git(b, 'agent-2', ['reset', '--quiet', '--hard', 'origin/main']);
    commitFiles(b, 'agent-2', { 'src/parser/x.ts': 'x' }, 'touch the lease');
    const leased = git(b, 'agent-2', ['push', 'origin', 'HEAD:refs/heads/agent-2/work'], true);
    expect(errorsOf(leased.stderr)[0]).toMatch(/^ERROR: refs\/heads\/agent-2\/work: src\/parser\/x\.ts .*is leased by agent-1/);

    // gitolite's own update hook still decides access, after ours accepted.
    const c = cloneAgent('agent-3');
    commitFiles(c, 'agent-3', { 'notes.txt': 'n' }, 'notes');
    const frozen = git(c, 'agent-3', ['push', 'origin', 'HEAD:refs/heads/frozen'], true);
    expect(frozen.exitCode).not.toBe(0);
    expect(frozen.stderr).toMatch(/DENIED/);
    const ok = git(c, 'agent-3', ['push', 'origin', 'HEAD:refs/heads/agent-3/notes'], true);
    expect(ok.exitCode, ok.stderr).toBe(0);

    // Sampled tests run for pushes to main, as the git user, over ssh as anywhere.
    git(c, 'agent-3', ['fetch', '--quiet', 'origin']);
    git(c, 'agent-3', ['checkout', '--quiet', '-B', 'main', 'origin/main']);
    commitFiles(c, 'agent-3', {
      'agent-hooks.json': JSON.stringify({ test: { command: ['node', '--test', '{files}'], files: ['test/*.test.mjs'], sample: 1, timeout: 60 } }),
      'test/a.test.mjs': "import test from 'node:test';\nimport { readFileSync } from 'node:fs';\ntest('ok', () => { if (readFileSync('ok.txt', 'utf8') !== 'yes') throw new Error('not ok'); });\n",
      'ok.txt': 'yes',
    }, 'tests');
    expect(git(c, 'agent-3', ['push', 'origin', 'HEAD:main'], true).exitCode).toBe(0);
    commitFiles(c, 'agent-3', { 'ok.txt': 'no' }, 'break it');
    const broken = git(c, 'agent-3', ['push', 'origin', 'HEAD:main'], true);
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toMatch(/remote: Tests: failed with exit code 1 \(1 files\)/);
    git(c, 'agent-3', ['reset', '--quiet', '--hard', 'HEAD~1']);
    commitFiles(c, 'agent-3', { 'notes2.txt': 'n' }, 'fine');
    const passing = git(c, 'agent-3', ['push', 'origin', 'HEAD:main'], true);
    expect(passing.exitCode, passing.stderr).toBe(0);
    expect(passing.stderr).toMatch(/remote: Tests: 1\/1 passed/);

    // Notifications: every landed push announced, as on a local bare repo.
    for (let i = 0; i < 200 && slack.received.filter((r) => r.status === 200).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const texts = slack.received.filter((r) => r.status === 200).map((r) => JSON.parse(r.text).text as string);
    expect(texts.some((t) => t.startsWith('agent-1 pushed to upstream.git'))).toBe(true);
    expect(texts.some((t) => t.startsWith('agent-3 pushed to upstream.git')), JSON.stringify(texts)).toBe(true);

    // The landing queue over ssh: land pushes HEAD to refs/land/agent-2/<topic> (GL_USER is the
    // pusher), the lander that gitolite's post-receive starts as the git user merges, tests and
    // lands it, and land reads the verdict (a git note) over ssh.
    commitFiles(c, 'agent-3', { 'agent-hooks.json': JSON.stringify({ queue: { enabled: true }, test: { command: ['node', '--test', '{files}'], files: ['test/*.test.mjs'], sample: 1, timeout: 60 } }) }, 'queue on');
    expect(git(c, 'agent-3', ['push', 'origin', 'HEAD:main'], true).exitCode).toBe(0);
    git(b, 'agent-2', ['fetch', '--quiet', 'origin']);
    git(b, 'agent-2', ['checkout', '--quiet', '-B', 'fix-docs', 'origin/main']);
    commitFiles(b, 'agent-2', { 'docs.txt': 'd' }, 'docs through the queue');
    const landed = sh(process.execPath, [CLI, 'land', '--timeout', '120'], { cwd: b, env: fixtureEnv(agentEnv('agent-2')), allowFail: true });
    expect(landed.exitCode, landed.stdout + landed.stderr).toBe(0);
    expect(landed.stdout).toMatch(/^queued [0-9a-f]{10} as refs\/land\/agent-2\/fix-docs$/m);
    expect(landed.stdout).toMatch(/^landed as [0-9a-f]{10} on main/m);
    expect(git(b, 'agent-2', ['log', '--format=%s', 'origin/main']).stdout).toContain('docs through the queue');
    // Another agent's namespace is refused over ssh too.
    const foreign = git(b, 'agent-2', ['push', 'origin', 'HEAD:refs/land/agent-1/x'], true);
    expect(errorsOf(foreign.stderr)[0]).toMatch(/^ERROR: refs\/land\/agent-1\/x: only agent-1 may push under refs\/land\/agent-1\//);

    const doctor = sh('runuser', ['-u', user, '--', 'env', `HOME=${home}`, process.execPath, CLI, 'doctor', repo], { allowFail: true });
    expect(doctor.stdout).toMatch(/^ok: gitolite runs agent-hooks for pre-receive$/m);
    expect(doctor.stdout).toMatch(/^ok: layout gitolite/m);

    // Uninstalled while gitolite still links the hook: pushes land, with a warning, not refused.
    const un = sh('runuser', ['-u', user, '--', 'env', `HOME=${home}`, process.execPath, CLI, 'uninstall', repo]);
    expect(un.stdout).toMatch(/WARNING: gitolite still runs agent-hooks' repo-specific hook/);
    commitFiles(c, 'agent-3', { 'more.txt': 'm' }, 'more');
    const after = git(c, 'agent-3', ['push', 'origin', 'HEAD:refs/heads/agent-3/more'], true);
    expect(after.exitCode, after.stderr).toBe(0);
    expect(after.stderr).toMatch(/remote: WARNING: agent-hooks is not installed in this repository/);
  });
});
