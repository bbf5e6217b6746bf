// pre-receive through real pushes: claims, identity, the claims ref, overrides, refs of all kinds.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commit, git, lockText, push, refsOf, sharedRepo, sync } from './helpers/git.js';

const HOUR = 3600_000;

describe('claims on the claims ref', () => {
  it('accepts a claim by its own agent and protects it from the others', () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    commit(clones['agent-1']!, { 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/parser/**'] }) }, 'claim parser');
    const claimed = push(clones['agent-1']!);
    expect([claimed.exitCode, claimed.errors]).toEqual([0, []]);

    const b = clones['agent-2']!;
    sync(b);
    const before = refsOf(upstream);
    commit(b, { 'current_tasks/parser.txt': lockText('agent-2') }, 'steal parser');
    const changed = push(b);
    expect(changed.exitCode).toBe(1);
    expect(changed.errors).toEqual([
      expect.stringMatching(/^ERROR: refs\/heads\/main: current_tasks\/parser\.txt: changes the active claim of task parser held by agent-1 until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; fix: wait for the claim to expire or ask agent-1; agent-hooks status parser$/),
    ]);
    expect(changed.stderr).toMatch(/remote: agent-hooks: push rejected with 1 error; none of its 1 ref update was applied/);

    sync(b);
    commit(b, { 'current_tasks/parser.txt': null }, 'release parser');
    expect(push(b).errors).toEqual([expect.stringMatching(/current_tasks\/parser\.txt: removes the active claim of task parser held by agent-1 until /)]);

    sync(b);
    commit(b, { 'current_tasks/parser.json': JSON.stringify({ agent: 'agent-2', started: new Date().toISOString() }) }, 'second claim');
    expect(push(b).errors).toEqual([expect.stringMatching(/current_tasks\/parser\.json: claims task parser, already claimed by agent-1 until .* in current_tasks\/parser\.txt;/)]);
    expect(refsOf(upstream)).toBe(before);

    // The holder releases its own claim; then agent-2 may claim it.
    const a = clones['agent-1']!;
    commit(a, { 'current_tasks/parser.txt': null }, 'release parser');
    expect(push(a).exitCode).toBe(0);
    sync(b);
    commit(b, { 'current_tasks/parser.json': JSON.stringify({ agent: 'agent-2', started: new Date().toISOString() }) }, 'claim parser');
    expect(push(b).exitCode).toBe(0);
  });

  it('rejects a claim made in another agent\'s name (rule 2), judged by -o agent= or the committer', () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    commit(a, { 'current_tasks/lexer.txt': lockText('agent-2') }, 'claim lexer for agent-2');
    expect(push(a).errors).toEqual([
      'ERROR: refs/heads/main: current_tasks/lexer.txt: claim of task lexer names agent agent-2, but the pusher is agent-1; fix: set agent to agent-1, or let agent-2 push its own claim',
    ]);
    expect(push(a, ['-o', 'agent=agent-2', 'origin', 'HEAD:main']).exitCode).toBe(0);
  });

  it('lets anyone remove or take over an expired claim, and warns about a claim that is expired on arrival', () => {
    const { clones } = sharedRepo(['agent-1', 'agent-2']);
    commit(clones['agent-1']!, { 'current_tasks/docs.txt': lockText('agent-1', { started: Date.now() - 3 * HOUR, ttl: 3600 }) });
    const stale = push(clones['agent-1']!);
    expect(stale.exitCode).toBe(0);
    expect(stale.warnings).toEqual([expect.stringMatching(/current_tasks\/docs\.txt: claim of task docs expired at .* already; it protects nothing$/)]);

    const b = clones['agent-2']!;
    sync(b);
    commit(b, { 'current_tasks/docs.txt': lockText('agent-2') }, 'take over docs');
    expect(push(b)).toMatchObject({ exitCode: 0, errors: [], warnings: [] });
    // An expired claim of someone else may be removed; it may not be made for someone else.
    const a = clones['agent-1']!;
    sync(a);
    commit(a, { 'current_tasks/old.txt': lockText('agent-1', { started: Date.now() - 3 * HOUR, ttl: 60 }) });
    expect(push(a).exitCode).toBe(0);
    sync(b);
    commit(b, { 'current_tasks/old.txt': null, 'current_tasks/gone.txt': lockText('agent-1', { started: Date.now() - 3 * HOUR, ttl: 60 }) });
    expect(push(b).errors).toEqual([expect.stringMatching(/current_tasks\/gone\.txt: claim of task gone names agent agent-1, but the pusher is agent-2/)]);
    git(b, ['reset', '--quiet', '--hard', 'HEAD~1']);
    commit(b, { 'current_tasks/old.txt': null });
    expect(push(b).exitCode).toBe(0);
  });

  it('uses the policy of the old tip, and rejects a push that makes the policy invalid', () => {
    const { clones } = sharedRepo(['agent-1', 'agent-2']);
    const a = clones['agent-1']!;
    commit(a, { 'agent-hooks.json': '{"locks":{"dir":"tasks","ttl":60}}' }, 'policy');
    expect(push(a).exitCode).toBe(0);
    // The new locks dir applies; the old one is no longer special.
    commit(a, { 'current_tasks/notes.md': 'free text now', 'tasks/x.txt': lockText('agent-1', { started: Date.now() - 120_000 }) });
    expect(push(a).warnings).toEqual([expect.stringMatching(/tasks\/x\.txt: claim of task x expired at .* already/)]);

    commit(a, { 'agent-hooks.json': '{"locks":{"ttl":"long"}}' }, 'break policy');
    expect(push(a).errors).toEqual([
      'ERROR: refs/heads/main: agent-hooks.json: locks.ttl: must be whole seconds from 60 to 604800; fix: fix agent-hooks.json and push again',
    ]);
  });

  it('reports an invalid policy that was there before install, and applies the defaults', () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    const bad = commit(a, { 'agent-hooks.json': '{"lokcs":{}}' }, 'bad policy, pushed around the hook');
    expect(push(a, ['origin', 'HEAD:refs/heads/side']).exitCode).toBe(0);
    git(upstream, ['update-ref', 'refs/heads/main', bad]);
    commit(a, { 'current_tasks/t.txt': 'agent: agent-1\nstarted: yesterday\n' });
    const r = push(a);
    expect(r.warnings).toEqual([expect.stringMatching(/^WARNING: refs\/heads\/main: agent-hooks\.json: "lokcs": unknown key \(did you mean "locks"\?\).*\(the defaults apply until a push fixes it\)/)]);
    expect(r.errors).toEqual([expect.stringMatching(/current_tasks\/t\.txt:2: "started" must be an RFC 3339/)]);
  });

  it('rejects stray files in the locks dir, two lock files for one task, and claims by an unknown pusher', () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    commit(a, { 'current_tasks/parser.jsn': '{}', 'current_tasks/README.md': 'ok', 'current_tasks/a.txt': lockText('agent-1'), 'current_tasks/a.json': JSON.stringify({ agent: 'agent-1', started: new Date().toISOString() }) });
    expect(push(a).errors).toEqual([
      'ERROR: refs/heads/main: current_tasks/parser.jsn: not a lock file: name it <task-id>.json or <task-id>.txt; fix: git rm current_tasks/parser.jsn, or rename it',
      'ERROR: refs/heads/main: current_tasks/a: task a has 2 lock files (current_tasks/a.json, current_tasks/a.txt); fix: keep one lock file per task',
    ]);
    sync(a);
    git(a, ['config', 'user.name', 'Jane Doe']);
    commit(a, { 'current_tasks/b.txt': lockText('agent-1') });
    expect(push(a).errors).toEqual([expect.stringMatching(/^ERROR: refs\/heads\/main: this push changes claims but its pusher is unknown .*; fix: git push -o agent=<your-agent-id>$/)]);
  });
});

describe('the claims ref itself (rule 6) and the admin override', () => {
  it('rejects deleting the claims ref and force-pushing it, unless an admin overrides', () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'root']);
    const a = clones['agent-1']!;
    commit(a, { 'src/a.txt': 'a' });
    expect(push(a).exitCode).toBe(0);
    expect(push(a, ['origin', ':main']).errors).toEqual([
      'ERROR: refs/heads/main: the claims ref cannot be deleted: it holds every claim; fix: push to another branch, or ask an admin to change agenthooks.claimsRef',
    ]);
    git(a, ['reset', '--quiet', '--hard', 'HEAD~1']);
    commit(a, { 'src/b.txt': 'b' });
    expect(push(a, ['--force', 'origin', 'HEAD:main']).errors).toEqual([
      'ERROR: refs/heads/main: non-fast-forward push to the claims ref would discard claims; fix: git pull --rebase origin main, then push again (never force)',
    ]);

    const notAdmin = push(a, ['--force', '-o', 'override=cleanup', 'origin', 'HEAD:main']);
    expect(notAdmin.errors).toContain('ERROR: push: -o override is only for admins; agent-1 is not one (git config agenthooks.admin); fix: push without -o override, or ask an admin');

    git(upstream, ['config', '--add', 'agenthooks.admin', 'root']);
    const overridden = push(a, ['--force', '-o', 'agent=root', '-o', 'override=rewrite after leak', 'origin', 'HEAD:main']);
    expect(overridden.exitCode).toBe(0);
    expect(overridden.warnings).toEqual([
      'WARNING: refs/heads/main: non-fast-forward push to the claims ref would discard claims (overridden by admin root: "rewrite after leak")',
      'WARNING: push: override by admin root accepted and logged: "rewrite after leak"',
    ]);
    const log = readFileSync(join(upstream, 'agent-hooks', 'overrides.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log).toEqual([{
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      admin: 'root',
      reason: 'rewrite after leak',
      refs: ['refs/heads/main'],
      overridden: ['WARNING: refs/heads/main: non-fast-forward push to the claims ref would discard claims (overridden by admin root: "rewrite after leak")'],
    }]);
  });

  it('honours agenthooks.claimsRef', () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    git(upstream, ['config', 'agenthooks.claimsRef', 'claims']);
    const a = clones['agent-1']!;
    commit(a, { 'current_tasks/x.txt': lockText('agent-2') });
    expect(push(a).exitCode).toBe(0); // main is an ordinary branch now
    expect(push(a, ['origin', 'HEAD:claims']).errors).toEqual([expect.stringMatching(/^ERROR: refs\/heads\/claims: current_tasks\/x\.txt: claim of task x names agent agent-2/)]);
  });
});

describe('identity', () => {
  it('takes the authenticated user over -o agent= and rejects a spoof', () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    commit(a, { 'current_tasks/x.txt': lockText('agent-1') });
    // gitolite sets GL_USER with GL_REPO and GL_TID (without them GL_USER is the client's own: issue 13).
    const gitolite = { GL_REPO: 'upstream', GL_TID: '4242' };
    const spoof = push(a, ['-o', 'agent=agent-1', 'origin', 'HEAD:main'], { GL_USER: 'agent-7', ...gitolite });
    expect(spoof.errors).toEqual([
      'ERROR: push: push option agent=agent-1 does not match the authenticated user agent-7 (GL_USER): spoofed identity; fix: push without -o agent= or with -o agent=agent-7',
      expect.stringMatching(/claim of task x names agent agent-1, but the pusher is agent-7/),
    ]);
    expect(push(a, ['origin', 'HEAD:main'], { GL_USER: 'agent-1', ...gitolite }).exitCode).toBe(0);
  });

  it('requires an authenticated pusher when agenthooks.requireAuthenticated is set', () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    git(upstream, ['config', 'agenthooks.requireAuthenticated', 'true']);
    const a = clones['agent-1']!;
    commit(a, { 'src/x': 'x' });
    expect(push(a).errors).toEqual([expect.stringMatching(/requires an authenticated pusher \(agenthooks\.requireAuthenticated\)/)]);
    expect(push(a, ['origin', 'HEAD:main'], { GITHUB_USER_LOGIN: 'agent-1', GITHUB_REPO_NAME: 'team/upstream', GITHUB_VIA: 'ssh' }).exitCode).toBe(0);
  });
});

describe('all kinds of pushes', () => {
  it('handles tags, many refs at once, branch deletions and --atomic', () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    git(a, ['tag', '-a', '-m', 'release', 'v1']);
    git(a, ['tag', 'light']);
    for (const b of ['f1', 'f2', 'f3']) git(a, ['branch', b]);
    expect(push(a, ['origin', 'v1', 'light', 'f1', 'f2', 'f3']).exitCode).toBe(0);
    expect(push(a, ['origin', ':f1', ':refs/tags/light']).exitCode).toBe(0); // delete-only: no quarantine

    commit(a, { 'current_tasks/x.txt': lockText('agent-2') });
    git(a, ['branch', '-f', 'f2']);
    const before = refsOf(upstream);
    const atomic = push(a, ['--atomic', 'origin', 'HEAD:main', 'f2']);
    expect(atomic.exitCode).toBe(1);
    expect(atomic.errors).toHaveLength(1);
    expect(atomic.stderr).toMatch(/none of its 2 ref updates was applied/);
    expect(refsOf(upstream)).toBe(before);
  });

  it('works in a SHA-256 repository', () => {
    const { clones } = sharedRepo(['agent-1', 'agent-2'], { objectFormat: 'sha256' });
    commit(clones['agent-1']!, { 'current_tasks/x.txt': lockText('agent-1') });
    expect(push(clones['agent-1']!).exitCode).toBe(0);
    const b = clones['agent-2']!;
    sync(b);
    commit(b, { 'current_tasks/x.txt': null });
    expect(push(b).errors).toEqual([expect.stringMatching(/removes the active claim of task x held by agent-1/)]);
  });

  it('fails closed with one internal line and no stack trace', () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    git(upstream, ['config', 'agenthooks.claimsRef', 'refs/heads/bad..name']);
    commit(clones['agent-1']!, { 'src/x': 'x' });
    const r = push(clones['agent-1']!);
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      'ERROR: internal: git config agenthooks.claimsRef "refs/heads/bad..name": refs/heads/bad..name is not a valid ref name (contains "..", "@{" or "//"); fix: git config agenthooks.claimsRef refs/heads/main',
    ]);

    // A corrupt repository (the claims ref's tree is gone) is an internal error too.
    git(upstream, ['config', '--unset', 'agenthooks.claimsRef']);
    const tree = git(upstream, ['rev-parse', 'main^{tree}']).stdout.trim();
    rmSync(join(upstream, 'objects', tree.slice(0, 2), tree.slice(2)));
    commit(clones['agent-1']!, { 'current_tasks/t.txt': lockText('agent-1') });
    const corrupt = push(clones['agent-1']!);
    expect(corrupt.exitCode).toBe(1);
    expect(corrupt.errors).toEqual([expect.stringMatching(/^ERROR: internal: git .* failed with exit code 128: .*; fix: run agent-hooks doctor on this repository, or report the problem$/)]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs a hook from before install first and rejects when it fails', () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    const chained = join(upstream, 'hooks', 'agent-hooks', 'chained', 'pre-receive');
    mkdirSync(dirname(chained), { recursive: true });
    writeFileSync(chained, '#!/bin/sh\nwhile read old new ref; do echo "legacy hook saw $ref"; [ "$ref" = refs/heads/frozen ] && exit 3; done\nexit 0\n', { mode: 0o755 });
    const a = clones['agent-1']!;
    expect(push(a, ['origin', 'HEAD:refs/heads/ok']).stderr).toMatch(/remote: legacy hook saw refs\/heads\/ok/);
    const r = push(a, ['origin', 'HEAD:refs/heads/frozen']);
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual(['ERROR: pre-receive: the chained hook (installed before agent-hooks) failed with exit code 3; fix: see its output above']);
  });
});
