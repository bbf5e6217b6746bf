// A foreign hook that is a relative symlink (issue 13 item 8): install keeps it working, a chained
// hook that cannot run refuses pushes (fail closed) and shows in doctor, and uninstall puts the
// link back instead of deleting it. Real bare repo, real symlinks, real pushes.
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cloneAs, commit, git, makeUpstream, push, writeScript } from './helpers/git.js';

/** A bare repo whose pre-receive is `../team-hooks/guard` (relative), a guard that refuses refs/heads/frozen. */
function guardedRepo() {
  const upstream = makeUpstream({ install: false });
  const guard = join(upstream, 'team-hooks', 'guard');
  writeScript(guard, '#!/bin/sh\nwhile read old new ref; do echo "team guard: $ref"; [ "$ref" = refs/heads/frozen ] && exit 1; done\nexit 0\n');
  const hook = join(upstream, 'hooks', 'pre-receive');
  symlinkSync('../team-hooks/guard', hook);
  return { upstream, guard, hook };
}

describe('install into a core.hooksPath that other repositories share', () => {
  it('a bare repo: refused without --force, naming the risk; nothing written; --force installs', () => {
    const upstream = makeUpstream({ install: false });
    const shared = join(dirname(upstream), 'shared-hooks');
    mkdirSync(shared);
    git(upstream, ['config', 'core.hooksPath', shared]);
    const r = cli(['install', upstream]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: core\.hooksPath of \S+ points to \S+shared-hooks, outside its git dir: other repositories that share that directory would start running agent-hooks' pre-receive/);
    expect(readdirSync(shared)).toEqual([]);
    expect(cli(['install', '--force', upstream]).exitCode).toBe(0);
    expect(existsSync(join(shared, 'pre-receive'))).toBe(true);
  });
});

describe('a foreign hook that is a relative symlink', () => {
  it('install links it from chained/ so it still guards its branch; doctor says so; uninstall restores the relative link exactly', () => {
    const { upstream, guard, hook } = guardedRepo();
    const installed = cli(['install', upstream]);
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stdout).toMatch(/keep the existing pre-receive hook \(a symlink to \.\.\/team-hooks\/guard\): link \S+chained\/pre-receive to \S+team-hooks\/guard/);
    const chained = join(upstream, 'hooks', 'agent-hooks', 'chained', 'pre-receive');
    expect(readlinkSync(chained)).toBe(guard);

    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'README.md': 'x' });
    const frozen = push(a, ['origin', 'HEAD:refs/heads/frozen']);
    expect(frozen.exitCode).toBe(1); // the branch it protected stays protected
    expect(frozen.stderr).toMatch(/remote: team guard: refs\/heads\/frozen/);
    expect(push(a).exitCode).toBe(0);
    expect(cli(['doctor', upstream]).stdout).toMatch(/^ok: pre-receive: runs the earlier hook \S+chained\/pre-receive first$/m);

    const u = cli(['uninstall', upstream]);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(lstatSync(hook).isSymbolicLink()).toBe(true);
    expect(readlinkSync(hook)).toBe('../team-hooks/guard');
    expect(existsSync(join(upstream, 'hooks', 'agent-hooks'))).toBe(false);
  });

  it('a chained hook that stops resolving: every push is refused (fail closed), doctor reports it, uninstall still puts the link back', () => {
    const { upstream, guard, hook } = guardedRepo();
    expect(cli(['install', upstream]).exitCode).toBe(0);
    renameSync(guard, `${guard}.moved`); // the team moved its script: the link dangles
    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'README.md': 'x' });
    const r = push(a);
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([expect.stringMatching(/^ERROR: internal: the chained hook \S+chained\/pre-receive \(installed before agent-hooks\) cannot run: .*; fix: ls -l \S+: make it executable \(chmod \+x\) or fix its link, or remove it$/)]);
    const doctor = cli(['doctor', upstream]);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/^ERROR: \S+chained\/pre-receive: the pre-receive hook from before agent-hooks cannot run/m);

    const u = cli(['uninstall', upstream]);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(readlinkSync(hook)).toBe('../team-hooks/guard'); // restored, dangling as the team left it, never deleted
  });

  it('install refuses a foreign hook that git skips today (a dangling link), instead of chaining it', () => {
    const { upstream, guard } = guardedRepo();
    renameSync(guard, `${guard}.moved`);
    const r = cli(['install', upstream]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: \S+\/pre-receive is a symlink to \.\.\/team-hooks\/guard, which does not exist, so git skips it today and chained it would refuse every push; fix: chmod \+x /);
    expect(existsSync(join(upstream, 'hooks', 'agent-hooks'))).toBe(false);
  });

  it('uninstall keeps the agent-hooks dir when chained/ holds something it cannot put back', () => {
    const { upstream } = guardedRepo();
    expect(cli(['install', upstream]).exitCode).toBe(0);
    const stray = join(upstream, 'hooks', 'agent-hooks', 'chained', 'update');
    mkdirSync(dirname(stray), { recursive: true });
    writeScript(stray, '#!/bin/sh\nexit 0\n');
    const u = cli(['uninstall', upstream]);
    expect(u.exitCode, u.stderr).toBe(0);
    expect(u.stdout + u.stderr).toMatch(/chained holds update, which uninstall cannot put back; kept \S+agent-hooks/);
    expect(existsSync(stray)).toBe(true);
  });
});
