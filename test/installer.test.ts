// install, uninstall and doctor against real bare repos, through the built CLI.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPostReceiveStub } from '../installer/stub.js';
import { cli, cloneAs, commit, fixtureEnv, git, lockText, makeUpstream, push, tempDir, writeScript } from './helpers/git.js';

/** Every file under a dir with its mode and content, to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out[p.slice(dir.length)] = `${(s.mode & 0o777).toString(8)} ${s.mtimeMs} ${readFileSync(p, 'utf8').length}:${readFileSync(p, 'utf8')}`;
    }
  };
  walk(dir);
  return out;
}

describe('install', () => {
  it('with --create makes a missing bare repo on main, installs stubs that exec this node, and is idempotent', () => {
    const upstream = join(tempDir(), 'new', 'upstream.git');
    const first = cli(['install', '--create', upstream]);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain(`next steps:\n  each agent's clone gets the pre-commit guard: git clone ${upstream} agent-1 && agent-hooks install agent-1\n`);
    expect(first.stdout).toContain('  an agent is known by AGENT_ID, else git config agenthooks.agent, else git config user.name\n');
    expect(git(upstream, ['rev-parse', '--is-bare-repository']).stdout.trim()).toBe('true');
    expect(git(upstream, ['symbolic-ref', 'HEAD']).stdout.trim()).toBe('refs/heads/main');
    expect(git(upstream, ['config', 'receive.advertisePushOptions']).stdout.trim()).toBe('true');
    const stub = readFileSync(join(upstream, 'hooks', 'pre-receive'), 'utf8');
    expect(stub.split('\n').slice(0, 2)).toEqual(['#!/bin/sh', '# agent-hooks 0.1.0: installed by `agent-hooks install`; remove with `agent-hooks uninstall`']);
    expect(stub).toMatch(/^unset NODE_EXTRA_CA_CERTS|; unset NODE_EXTRA_CA_CERTS; fi$/m);
    expect(stub.endsWith(`\nexec '${process.execPath}' '${join(upstream, 'hooks', 'agent-hooks', '0.1.0', 'pre-receive.mjs')}' "$@"\n`)).toBe(true);
    expect(statSync(join(upstream, 'hooks', 'pre-receive')).mode & 0o111).toBe(0o111);

    const before = snapshot(join(upstream, 'hooks'));
    const config = readFileSync(join(upstream, 'config'), 'utf8');
    const second = cli(['install', upstream]);
    expect(second).toMatchObject({ exitCode: 0, stdout: `agent-hooks 0.1.0 is already installed in ${join(upstream, 'hooks')}; nothing changed\n` });
    expect(snapshot(join(upstream, 'hooks'))).toEqual(before);
    expect(readFileSync(join(upstream, 'config'), 'utf8')).toBe(config);
  });

  it('--dry-run prints the plan and changes nothing', () => {
    const upstream = makeUpstream({ install: false });
    const before = snapshot(upstream);
    const r = cli(['install', '--dry-run', upstream]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^would write pre-receive code .*\/hooks\/agent-hooks\/0\.1\.0\/pre-receive\.mjs$/m);
    expect(r.stdout).toMatch(/^would set git config receive\.advertisePushOptions true/m);
    expect(snapshot(upstream)).toEqual(before);
    const missing = join(tempDir(), 'nope.git');
    expect(cli(['install', '--dry-run', '--create', missing]).stdout).toMatch(/^would create bare repository .*nope\.git/m);
    expect(existsSync(missing)).toBe(false);
  });

  it('keeps and chains an existing hook, and uninstall restores it exactly', () => {
    const upstream = makeUpstream({ install: false });
    const hook = join(upstream, 'hooks', 'pre-receive');
    const original = '#!/bin/sh\n# the team\'s own hook\nwhile read old new ref; do echo "own hook: $ref $*"; case "$ref" in refs/heads/frozen) exit 1;; esac; done\n';
    writeScript(hook, original);
    git(upstream, ['config', 'receive.advertisePushOptions', 'false']);
    expect(cli(['install', upstream]).stdout).toMatch(/keep the existing pre-receive hook: move it to .*agent-hooks\/chained\/pre-receive/);

    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'README.md': 'x' });
    expect(push(a).stderr).toMatch(/remote: own hook: refs\/heads\/main/);
    const frozen = push(a, ['origin', 'HEAD:refs/heads/frozen']);
    expect(frozen.exitCode).toBe(1);
    expect(frozen.errors).toEqual(['ERROR: pre-receive: the chained hook (installed before agent-hooks) failed with exit code 1; fix: see its output above']);
    commit(a, { 'current_tasks/x.txt': lockText('agent-2') });
    expect(push(a).errors).toEqual([expect.stringMatching(/claim of task x names agent agent-2/)]); // our checks run after it

    const u = cli(['uninstall', upstream]);
    expect(u.exitCode).toBe(0);
    expect(u.stdout).toMatch(/restore the earlier pre-receive hook/);
    expect(readFileSync(hook, 'utf8')).toBe(original);
    expect(statSync(hook).mode & 0o777).toBe(0o755);
    expect(existsSync(join(upstream, 'hooks', 'post-receive'))).toBe(false);
    expect(existsSync(join(upstream, 'hooks', 'agent-hooks'))).toBe(false);
    expect(git(upstream, ['config', 'receive.advertisePushOptions']).stdout.trim()).toBe('false');
    // Refused pushes left the state dir (the events log): uninstall says it is not installed, and what it kept.
    expect(cli(['uninstall', upstream]).stdout).toMatch(/^agent-hooks is not installed there; nothing changed\nkept the state \S+upstream\.git\/agent-hooks /);
  });

  it('uninstall says what state it kept (never a secret), and --purge removes it', () => {
    const upstream = makeUpstream();
    git(upstream, ['config', '--add', 'agenthooks.admin', 'root']);
    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'README.md': 'x' });
    expect(push(a).exitCode).toBe(0);
    // After the push, so no Slack sender is started.
    git(upstream, ['config', 'agenthooks.slack.webhookUrl', 'https://hooks.slack.invalid/secret-token']);
    const state = join(upstream, 'agent-hooks');
    writeScript(join(state, 'spool', 'failed', 'x.reason'), 'left by an earlier sender\n');
    const u = cli(['uninstall', upstream]);
    expect(u.exitCode).toBe(0);
    expect(u.stdout).toContain(`kept the state ${state} (Slack spool, logs, test slots); agent-hooks uninstall --purge ${upstream} removes it`);
    expect(u.stdout).toContain(`kept the git config agenthooks.admin, agenthooks.slack.webhookurl; agent-hooks uninstall --purge ${upstream} removes it`);
    expect(u.stdout).not.toContain('secret-token');
    expect(existsSync(state)).toBe(true);
    const dry = cli(['uninstall', '--purge', '--dry-run', upstream]);
    expect(dry.stdout).toContain(`would remove the state ${state}`);
    expect(existsSync(state)).toBe(true);
    const purged = cli(['uninstall', '--purge', upstream]);
    expect(purged.exitCode).toBe(0);
    expect(purged.stdout).toMatch(/^unset git config agenthooks\.admin$/m);
    expect(existsSync(state)).toBe(false);
    expect(git(upstream, ['config', '--get-regexp', '^agenthooks\\.'], { allowFail: true }).stdout).toBe('');
    expect(cli(['uninstall', upstream]).stdout).toBe('agent-hooks is not installed there; nothing changed\n');
  });

  it('hands NODE_EXTRA_CA_CERTS to chained hooks but not to the hook\'s own node', () => {
    const upstream = makeUpstream({ install: false });
    const seen = join(upstream, 'seen-by-chained-hook');
    writeScript(join(upstream, 'hooks', 'pre-receive'), `#!/bin/sh\ncat >/dev/null\nprintf '%s' "$NODE_EXTRA_CA_CERTS|\${AGENT_HOOKS_NODE_EXTRA_CA_CERTS-unset}" > '${seen}'\n`);
    expect(cli(['install', upstream]).exitCode).toBe(0);
    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'README.md': 'x' });
    // A CA file that does not exist: a node that saw it would warn "Ignoring extra certs".
    const p = push(a, ['origin', 'HEAD:main'], { NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' });
    expect(p.exitCode).toBe(0);
    expect(p.stderr).not.toMatch(/extra certs/i);
    expect(readFileSync(seen, 'utf8')).toBe('/nonexistent/ca.pem|unset');
  });

  it('post-receive is sh: it spools a raw event and starts the sender only with a webhook URL, and runs a chained hook', async () => {
    const dir = tempDir();
    const marker = join(dir, 'node-started');
    const fakeNode = join(dir, 'node');
    writeScript(fakeNode, `#!/bin/sh\necho "$1 $2" >> '${marker}'\n`);
    const chained = join(dir, 'chained-post-receive');
    const stub = join(dir, 'post-receive');
    writeScript(stub, formatPostReceiveStub('0.1.0', fakeNode, join(dir, 'notify-sender.mjs'), chained));
    const repo = join(dir, 'repo.git');
    git(dir, ['init', '--quiet', '--bare', repo]);
    const input = `${'0'.repeat(40)} ${'1'.repeat(40)} refs/heads/x\n`;
    const runStub = async (env: Record<string, string> = {}) => {
      rmSync(marker, { force: true });
      rmSync(join(repo, 'agent-hooks'), { recursive: true, force: true });
      expect(spawnSync(stub, [], { cwd: repo, env: fixtureEnv({ GIT_DIR: '.', ...env }), input }).status).toBe(0);
      for (let i = 0; i < 100 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 20));
      return existsSync(marker);
    };
    expect(await runStub()).toBe(false);
    expect(existsSync(join(repo, 'agent-hooks'))).toBe(false);
    expect(await runStub({ AGENT_HOOKS_SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/hook', GL_USER: 'agent-1', GIT_PUSH_OPTION_COUNT: '1', GIT_PUSH_OPTION_0: 'agent=agent-1' })).toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe(`${join(dir, 'notify-sender.mjs')} ${repo}\n`);
    const [raw] = readdirSync(join(repo, 'agent-hooks', 'spool'));
    expect(raw).toMatch(/^\d{8}T\d{6}Z-\d*-\d+\.raw$/);
    expect(readFileSync(join(repo, 'agent-hooks', 'spool', raw!), 'utf8')).toMatch(/^agent-hooks push event 2\ntime \S+Z\nenv GL_USER=6167656e742d31\noption 6167656e743d6167656e742d31\nupdate 0{40} 1{40} refs\/heads\/x\n$/);
    git(repo, ['config', 'agenthooks.slack.webhookUrl', 'http://127.0.0.1:9/hook']);
    expect(await runStub()).toBe(true);
    git(repo, ['config', '--unset', 'agenthooks.slack.webhookUrl']);
    writeScript(chained, `#!/bin/sh\ncat > '${join(dir, 'chained-stdin')}'\n`);
    expect(await runStub()).toBe(false);
    expect(readFileSync(join(dir, 'chained-stdin'), 'utf8')).toBe(input);
  });

  it('post-receive reads its stdin without cat: many lines, backslashes, no final newline; the git dir relative, absolute or "."', () => {
    const dir = tempDir();
    const chained = join(dir, 'chained-post-receive');
    const stub = join(dir, 'post-receive');
    writeScript(stub, formatPostReceiveStub('0.1.0', join(dir, 'no-node'), join(dir, 'notify-sender.mjs'), chained));
    writeScript(chained, `#!/bin/sh\ncat > '${join(dir, 'chained-stdin')}'\n`);
    const repo = join(dir, 'repo.git');
    git(dir, ['init', '--quiet', '--bare', repo]);
    const lines = Array.from({ length: 300 }, (_, i) => `${'0'.repeat(40)} ${'1'.repeat(40)} refs/heads/a\\b-${i}  x`);
    for (const [cwd, gitDir] of [[repo, '.'], [dir, 'repo.git'], [dir, repo]] as const) {
      for (const input of [`${lines.join('\n')}\n`, lines.join('\n')]) {
        rmSync(join(repo, 'agent-hooks'), { recursive: true, force: true });
        expect(spawnSync(stub, [], { cwd, env: fixtureEnv({ GIT_DIR: gitDir, AGENT_HOOKS_SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/hook' }), input }).status).toBe(0);
        expect(readFileSync(join(dir, 'chained-stdin'), 'utf8')).toBe(`${lines.join('\n')}\n`);
        const [raw] = readdirSync(join(repo, 'agent-hooks', 'spool'));
        expect(readFileSync(join(repo, 'agent-hooks', 'spool', raw!), 'utf8').split('\n').filter((l) => l.startsWith('update '))).toEqual(lines.map((l) => `update ${l}`));
      }
    }
  });

  it('honours core.hooksPath and replaces an older version', () => {
    const upstream = makeUpstream({ install: false });
    const hooksDir = join(tempDir(), 'shared-hooks');
    git(upstream, ['config', 'core.hooksPath', hooksDir]);
    expect(cli(['install', '--force', upstream]).exitCode).toBe(0); // a dir outside the repo: --force (test/chained-hooks.test.ts)
    expect(existsSync(join(hooksDir, 'pre-receive'))).toBe(true);
    expect(existsSync(join(upstream, 'hooks', 'pre-receive'))).toBe(false);

    // Pretend an older version is installed: its stub and code are replaced, its folder removed.
    const old = join(hooksDir, 'agent-hooks', '0.0.9');
    writeScript(join(old, 'pre-receive.mjs'), '');
    writeFileSync(join(hooksDir, 'pre-receive'), readFileSync(join(hooksDir, 'pre-receive'), 'utf8').replaceAll('0.1.0', '0.0.9'));
    const r = cli(['install', '--force', upstream]);
    expect(r.stdout).toMatch(/^update pre-receive stub /m);
    expect(r.stdout).toMatch(/^remove the code of version 0\.0\.9 /m);
    expect(existsSync(old)).toBe(false);
    expect(readFileSync(join(hooksDir, 'pre-receive'), 'utf8')).toContain('# agent-hooks 0.1.0: ');
  });

  it('refuses a path that is not a repository; a typo or an empty directory becomes a repository only with --create', () => {
    const plain = tempDir();
    writeFileSync(join(plain, 'notes.txt'), 'not a repository');
    expect(cli(['install', plain])).toMatchObject({ exitCode: 2, stderr: expect.stringMatching(/^ERROR: .* is not a git repository/) });
    const typo = join(tempDir(), 'upstrem.git');
    expect(cli(['install', typo])).toEqual({ exitCode: 2, stdout: '', stderr: `ERROR: ${typo} does not exist; fix: check the path, or agent-hooks install --create ${typo} to make a new bare repository there\n` });
    expect(existsSync(typo)).toBe(false);
    expect(cli(['install', '--dry-run', typo]).exitCode).toBe(2);
    const empty = tempDir();
    expect(cli(['install', empty])).toMatchObject({ exitCode: 2, stderr: expect.stringContaining(`${empty} is an empty directory, not a git repository; fix: check the path, or agent-hooks install --create`) });
    expect(readdirSync(empty)).toEqual([]);
    expect(cli(['doctor', typo]).exitCode).toBe(2);
    expect(cli(['install', '--create', empty]).exitCode).toBe(0);
    expect(git(empty, ['rev-parse', '--is-bare-repository']).stdout.trim()).toBe('true');
  });

  it('answers usage errors with exit 2 and --help with the commands', () => {
    expect(cli(['instal', 'x'])).toMatchObject({ exitCode: 2, stderr: expect.stringMatching(/^ERROR: unknown command "instal"; did you mean install\?; fix: agent-hooks install --help\n\nusage: agent-hooks install <repo>/) });
    expect(cli(['install'])).toMatchObject({ exitCode: 2 });
    const help = cli(['--help']);
    expect(help.exitCode).toBe(0);
    for (const command of ['install <repo>', 'uninstall <repo>', 'doctor <repo>', 'demo']) expect(help.stdout).toContain(`  ${command}`);
  });
});

describe('doctor', () => {
  it('passes on a good installation, with a synthetic push that lands nothing', () => {
    const upstream = makeUpstream();
    const r = cli(['doctor', upstream]);
    expect(r.stdout).toMatch(/^ok: synthetic push: pre-receive 0\.1\.0 ran in quarantine and answered; nothing landed$/m);
    expect(r.exitCode).toBe(0);
    expect(git(upstream, ['for-each-ref']).stdout).toBe('');
  });

  it('finds each fault and exits 1', () => {
    const upstream = makeUpstream();
    const stub = join(upstream, 'hooks', 'pre-receive');
    chmodSync(stub, 0o644);
    writeFileSync(join(upstream, 'hooks', 'post-receive'), readFileSync(join(upstream, 'hooks', 'post-receive'), 'utf8').replace(process.execPath, '/nonexistent/node'));
    git(upstream, ['config', 'receive.advertisePushOptions', 'false']);
    const r = cli(['doctor', upstream]);
    expect(r.exitCode).toBe(1);
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('ERROR: '));
    expect(errors).toEqual([
      `ERROR: ${stub}: not executable; fix: chmod +x ${stub}`,
      `ERROR: ${join(upstream, 'hooks', 'post-receive')}: node /nonexistent/node does not exist or is not executable; fix: agent-hooks install ${upstream}`,
      `ERROR: receive.advertisePushOptions is not true, so -o agent=<id> is refused; fix: git -C ${upstream} config receive.advertisePushOptions true`,
    ]);
  });

  it('reports an invalid policy file and a missing installation', () => {
    const upstream = makeUpstream({ install: false });
    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'agent-hooks.json': '{"locks":{"ttl":1}}' });
    expect(push(a).exitCode).toBe(0);
    const r = cli(['doctor', upstream]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(`ERROR: ${join(upstream, 'hooks', 'pre-receive')}: missing; fix: agent-hooks install ${upstream}`);
    expect(r.stdout).toContain('ERROR: refs/heads/main: agent-hooks.json: locks.ttl: must be whole seconds from 60 to 604800; fix: push a corrected agent-hooks.json');
  });
});
