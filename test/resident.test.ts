// The resident checker (issue 18, `install --resident`): pushes judged by one long-running process
// per repository, with the verdicts the bundle gives, and the bundle whenever the checker is not
// there, declines, hangs or breaks. To see who judged a push, the installed pre-receive bundle is
// swapped for one that refuses everything: a push it refuses was not judged by the checker.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { formatCheckResponse, parseCheckRequest } from '../server/checker.js';
import { lockHolder } from '../server/pid-lock.js';
import { VERSION } from '../core/version.js';
import { cli, commit, git, lockText, push, pushAsync, sharedRepo, sync, tempDir } from './helpers/git.js';

const started: string[] = [];
afterEach(() => {
  // No checker outlives its test.
  for (const upstream of started.splice(0)) {
    const pid = holder(upstream);
    if (pid) process.kill(pid, 'SIGKILL');
  }
});

/** The live checker's pid (a zombie counts as gone), or undefined. */
const holder = (upstream: string): number | undefined => lockHolder(join(upstream, 'agent-hooks', 'workers', 'checker.lock'));
const socketOf = (upstream: string) => join(upstream, 'agent-hooks', 'workers', `checker-${VERSION}.sock`);
const bundleOf = (upstream: string) => join(upstream, 'hooks', 'agent-hooks', VERSION, 'pre-receive.mjs');

/** A checker holds the lock and has logged that it listens (its socket accepts connections). */
const listening = (upstream: string): boolean => {
  const pid = holder(upstream);
  if (pid === undefined) return false;
  try {
    return readFileSync(join(upstream, 'agent-hooks', 'workers', 'checker.log'), 'utf8').includes(`pid ${pid})`);
  } catch {
    return false;
  }
};

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A shared repo installed with --resident, its checker started by a first push and listening. */
async function residentRepo(agents = ['agent-1', 'agent-2'], env: Record<string, string> = {}) {
  const repo = sharedRepo(agents);
  expect(cli(['install', '--resident', repo.upstream]).exitCode).toBe(0);
  started.push(repo.upstream);
  const a = repo.clones[agents[0]!]!;
  commit(a, { 'src/parser/a.ts': 'a\n', 'src/lexer/l.ts': 'l\n' }, 'code');
  expect(push(a, ['origin', 'HEAD:main'], env)).toMatchObject({ exitCode: 0, errors: [] });
  await until('the checker to listen', () => listening(repo.upstream));
  for (const agent of agents.slice(1)) sync(repo.clones[agent]!);
  const real = readFileSync(bundleOf(repo.upstream));
  return {
    ...repo,
    /** Swaps in a bundle that refuses every push, so only the checker can accept one. */
    bundleRefuses: () => writeFileSync(bundleOf(repo.upstream), "process.stderr.write('ERROR: the bundle ran\\n'); process.exit(1);\n"),
    bundleBack: () => writeFileSync(bundleOf(repo.upstream), real),
  };
}

describe('install --resident', () => {
  it('writes the client into pre-receive only for a bare repo, and turns it off when installed again without', () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    expect(cli(['install', '--resident', upstream]).exitCode).toBe(0);
    expect(readFileSync(join(upstream, 'hooks', 'pre-receive'), 'utf8')).toContain(`agent-hooks/workers/checker-${VERSION}.sock`);
    expect(readFileSync(join(upstream, 'hooks', 'post-receive'), 'utf8')).not.toContain('checker');
    expect(cli(['install', '--resident', upstream]).stdout).toMatch(/already installed/);
    expect(cli(['install', upstream]).exitCode).toBe(0);
    expect(readFileSync(join(upstream, 'hooks', 'pre-receive'), 'utf8')).not.toContain('checker');
    const clone = cli(['install', '--resident', clones['agent-1']!]);
    expect(clone.exitCode).toBe(2);
    expect(clone.stderr).toMatch(/--resident is for the bare repository .* install without --resident/);
  });
});

describe('the resident checker', () => {
  it('judges pushes as the bundle does, each with its own pusher and push options', async () => {
    const { upstream, clones, bundleRefuses, bundleBack } = await residentRepo();
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    expect(statSync(socketOf(upstream)).mode & 0o077).toBe(0); // the repository's owner only
    bundleRefuses();
    commit(a, { 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/parser/**'] }) }, 'claim parser');
    expect(push(a)).toMatchObject({ exitCode: 0, errors: [] });
    // agent-2 touches agent-1's lease: refused by the checker with the bundle's line.
    commit(b, { 'src/parser/a.ts': 'mine\n' }, 'take it');
    const refused = push(b, ['origin', 'HEAD:refs/heads/agent-2/work']);
    expect(refused.errors).toEqual([expect.stringMatching(/^ERROR: refs\/heads\/agent-2\/work: src\/parser\/a\.ts \(changed in [0-9a-f]+\) is leased by agent-1 \(task parser/)]);
    // The same change named as agent-1 by a push option is agent-1's own lease.
    expect(push(b, ['-o', 'agent=agent-1', 'origin', 'HEAD:refs/heads/agent-1/work'])).toMatchObject({ exitCode: 0, errors: [] });
    // And agent-2 again, after agent-1's push: nothing of agent-1's identity stayed behind.
    expect(push(b, ['origin', 'HEAD:refs/heads/agent-2/again']).errors[0]).toMatch(/is leased by agent-1/);
    // Rule 4 on the claims ref.
    sync(b);
    commit(b, { 'current_tasks/big.txt': lockText('agent-2', { files: ['src/**'] }) }, 'claim src');
    expect(push(b).errors[0]).toMatch(/current_tasks\/big\.txt: lease src\/\*\* overlaps the lease of agent-1/);
    // The files the checker wrote keep the usual modes (its socket's umask is not theirs).
    expect(statSync(join(upstream, 'agent-hooks', 'claims-cache.json')).mode & 0o044).toBe(0o044);
    bundleBack();
    // The bundle gives the same lines for the same pushes.
    expect(push(b).errors[0]).toMatch(/current_tasks\/big\.txt: lease src\/\*\* overlaps the lease of agent-1/);
  });

  it('declines a push that runs tests, and one to a repository with a chained pre-receive: the bundle judges those', async () => {
    const { upstream, clones, bundleRefuses, bundleBack } = await residentRepo(['agent-1']);
    const a = clones['agent-1']!;
    commit(a, { 'agent-hooks.json': JSON.stringify({ test: { command: ['sh', '-c', 'for f in "$@"; do sh "$f" || exit 1; done', 'tests'], files: ['test/*.sh'], sample: 1 } }), 'test/ok.sh': 'echo tests ran\n' }, 'tested');
    // The policy counts from the push after the one that brings it (it is read at the old tip).
    expect(push(a)).toMatchObject({ exitCode: 0, errors: [] });
    commit(a, { 'src/lexer/l.ts': 'tested change\n' }, 'a change the tests judge');
    bundleRefuses();
    expect(push(a).errors).toEqual(['ERROR: the bundle ran']);
    bundleBack();
    const tested = push(a);
    expect(tested).toMatchObject({ exitCode: 0, errors: [] });

    // A chained pre-receive: the checker leaves it to the bundle, which runs it first.
    const chained = join(upstream, 'hooks', 'agent-hooks', 'chained', 'pre-receive');
    mkdirSync(join(upstream, 'hooks', 'agent-hooks', 'chained'), { recursive: true });
    writeFileSync(chained, '#!/bin/sh\necho "chained hook says no" >&2\nexit 3\n');
    chmodSync(chained, 0o755);
    commit(a, { 'docs/x.md': 'x\n' }, 'docs');
    const r = push(a, ['origin', 'HEAD:refs/heads/docs']);
    expect(r.stderr).toMatch(/chained hook says no/);
    expect(r.errors).toEqual([expect.stringMatching(/^ERROR: pre-receive: the chained hook .* failed with exit code 3/)]);
  });

  it('is replaced by the bundle when it is killed, hangs or answers garbage, and the next push starts it again', async () => {
    const { upstream, clones } = await residentRepo(['agent-1', 'agent-2']);
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    commit(a, { 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/parser/**'] }) }, 'claim parser');
    expect(push(a).exitCode).toBe(0);
    sync(b);
    commit(b, { 'src/parser/a.ts': 'mine\n' }, 'take it');
    const leased = /is leased by agent-1/;

    // Killed: its socket is left behind; the connection is refused, the bundle judges.
    const first = holder(upstream)!;
    process.kill(first, 'SIGKILL');
    await until('the checker to die', () => holder(upstream) === undefined);
    expect(existsSync(socketOf(upstream))).toBe(true);
    expect(push(b, ['origin', 'HEAD:refs/heads/agent-2/w1']).errors[0]).toMatch(leased);
    await until('a new checker', () => listening(upstream) && holder(upstream) !== first);

    // Hung: the client gives up after AGENT_HOOKS_RESIDENT_TIMEOUT seconds and the bundle judges.
    const second = holder(upstream)!;
    process.kill(second, 'SIGSTOP');
    try {
      expect(push(b, ['origin', 'HEAD:refs/heads/agent-2/w2'], { AGENT_HOOKS_RESIDENT_TIMEOUT: '1' }).errors[0]).toMatch(leased);
      // The stuck checker's socket is gone: the next push goes straight to the bundle.
      expect(existsSync(socketOf(upstream))).toBe(false);
      expect(push(b, ['origin', 'HEAD:refs/heads/agent-2/w2b']).errors[0]).toMatch(leased);
    } finally {
      process.kill(second, 'SIGCONT');
    }

    // Something else listening on the socket that answers garbage: the bundle judges.
    process.kill(second, 'SIGKILL');
    await until('the checker to die', () => holder(upstream) === undefined);
    rmSync(socketOf(upstream), { force: true });
    const impostor = createServer({ allowHalfOpen: true }, (c) => c.resume().on('end', () => c.end('0 999999\nshort')));
    await new Promise<void>((r) => impostor.listen(socketOf(upstream), r));
    try {
      // pushAsync: the impostor answers from this process, whose event loop a sync push would block.
      expect((await pushAsync(b, ['origin', 'HEAD:refs/heads/agent-2/w3'])).errors[0]).toMatch(leased);
    } finally {
      impostor.close();
    }
  });

  it('declines a request from another directory and a malformed one, and exits when idle', async () => {
    const { upstream } = await residentRepo(['agent-1'], { AGENT_HOOKS_CHECKER_IDLE_MS: '1500' });
    const ask = (data: Buffer) =>
      new Promise<string>((resolve, reject) => {
        const c = connect(socketOf(upstream), () => c.end(data));
        let out = '';
        c.on('data', (d) => (out += d));
        c.on('end', () => resolve(out));
        c.on('error', reject);
      });
    const request = (cwd: string) => {
      const env = `GIT_DIR=.\0PATH=${process.env.PATH}\0`;
      const stdin = `${'0'.repeat(40)} ${git(upstream, ['rev-parse', 'main']).stdout.trim()} refs/heads/x\n`;
      return Buffer.from(`agent-hooks-check 1 ${Buffer.byteLength(env)} ${Buffer.byteLength(cwd)} ${Buffer.byteLength(stdin)}\n${env}${cwd}${stdin}`);
    };
    expect(await ask(request(upstream))).toBe('0 0\n');
    expect(await ask(request(tempDir()))).toBe('declined\n');
    expect(await ask(Buffer.from('agent-hooks-check 1 5 5 5\nshort'))).toBe('declined\n');
    await until('the idle checker to exit', () => holder(upstream) === undefined && !existsSync(socketOf(upstream)), 10_000);
    expect(readFileSync(join(upstream, 'agent-hooks', 'workers', 'checker.log'), 'utf8')).toMatch(/stopped: idle/);
  });

  it('makes way when its socket is removed, and when install writes new code', async () => {
    const { upstream, clones } = await residentRepo(['agent-1']);
    rmSync(socketOf(upstream));
    await until('the checker to stop', () => holder(upstream) === undefined);
    expect(readFileSync(join(upstream, 'agent-hooks', 'workers', 'checker.log'), 'utf8')).toMatch(/stopped: its socket was removed/);
    commit(clones['agent-1']!, { 'x.txt': 'x\n' });
    expect(push(clones['agent-1']!).exitCode).toBe(0);
    await until('a new checker', () => listening(upstream));
    // Nothing to change: install leaves it running. Changed code: install stops it.
    expect(cli(['install', '--resident', upstream]).stdout).toMatch(/already installed/);
    expect(holder(upstream)).toBeDefined();
    writeFileSync(bundleOf(upstream), `${readFileSync(bundleOf(upstream), 'utf8')}// edited\n`);
    expect(cli(['install', '--resident', upstream]).stdout).toContain('stop the resident checker (the next push starts it with this code)');
    await until('the checker to stop', () => holder(upstream) === undefined);
  });

  it('uninstall leaves alone a process that only reuses a dead checker\'s pid', async () => {
    const { upstream } = await residentRepo(['agent-1']);
    process.kill(holder(upstream)!, 'SIGKILL');
    await until('the checker to die', () => holder(upstream) === undefined);
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(join(upstream, 'agent-hooks', 'workers', 'checker.lock', 'pid'), String(sleeper.pid));
      const r = cli(['uninstall', upstream]);
      expect(r.exitCode).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/is not a checker of this repository; left it alone/);
      expect(sleeper.exitCode).toBeNull();
      expect(() => process.kill(sleeper.pid!, 0)).not.toThrow();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('is reported by doctor, and stops when agent-hooks is uninstalled', async () => {
    const { upstream } = await residentRepo(['agent-1']);
    const pid = holder(upstream)!;
    const doctor = cli(['doctor', upstream]);
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).toContain(`pre-receive: resident checker running (pid ${pid})`);
    const r = cli(['uninstall', upstream]);
    expect(r).toMatchObject({ exitCode: 0 });
    expect(r.stdout).toContain('stop the resident checker');
    await until('the checker to stop', () => holder(upstream) === undefined);
  });
});

describe('the checker protocol', () => {
  it('parses a whole request and refuses a cut or padded one', () => {
    const env = 'A=1\0B=x=y\0';
    const ok = Buffer.from(`agent-hooks-check 1 ${env.length} 4 3\n${env}/srvabc`);
    expect(parseCheckRequest(ok)).toEqual({ env: { A: '1', B: 'x=y' }, cwd: '/srv', stdin: Buffer.from('abc') });
    expect(parseCheckRequest(ok.subarray(0, ok.length - 1))).toBeUndefined();
    expect(parseCheckRequest(Buffer.concat([ok, Buffer.from('!')]))).toBeUndefined();
    expect(parseCheckRequest(Buffer.from('agent-hooks-check 2 0 0 0\n'))).toBeUndefined();
    expect(formatCheckResponse({ lines: ['ERROR: x', 'two'], exitCode: 1 }).toString()).toBe('1 13\nERROR: x\ntwo\n');
    expect(formatCheckResponse('declined').toString()).toBe('declined\n');
  });
});
