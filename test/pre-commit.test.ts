// pre-commit in clones and linked worktrees: real commits, real GIT_INDEX_FILE, real pushes.
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, commit, git, lockText, push, sharedRepo, sync, tempDir, type Run } from './helpers/git.js';

const errorsOf = (run: Run) => run.stderr.split('\n').filter((l) => l.startsWith('ERROR: '));
const warningsOf = (run: Run) => run.stderr.split('\n').filter((l) => l.startsWith('WARNING: '));

/** agent-1 holds src/parser/** on main; agent-2's clone has fetched it and has the guard installed. */
function guarded() {
  const repo = sharedRepo(['agent-1', 'agent-2']);
  const a = repo.clones['agent-1']!;
  commit(a, { 'src/parser/a.ts': 'a\n', 'src/lexer/l.ts': 'l\n' }, 'code');
  commit(a, { 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/parser/**'] }) }, 'claim parser');
  expect(push(a).exitCode).toBe(0);
  const b = repo.clones['agent-2']!;
  sync(b);
  const installed = cli(['install', b]);
  expect(installed.exitCode, installed.stderr).toBe(0);
  return { ...repo, a, b };
}

const write = (dir: string, path: string, text: string) => writeFileSync(join(dir, path), text);
const gitCommit = (dir: string, args: string[], env: Record<string, string> = {}) => git(dir, ['commit', '--quiet', '-m', 'change', ...args], { allowFail: true, env });

describe('pre-commit', () => {
  it('refuses a commit that breaks agent-hooks.json with exactly the lines the server gives for its push', () => {
    const { b } = guarded();
    write(b, 'agent-hooks.json', '{"locks":{"ttl":30},"test":{"command":["true"],"files":["t/**"],"sampel":0.5}}\n');
    git(b, ['add', '-A']);
    const r = gitCommit(b, []);
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([
      expect.stringMatching(/^ERROR: refs\/heads\/main: agent-hooks\.json: locks\.ttl: .*; fix: fix agent-hooks\.json and push again$/),
      expect.stringMatching(/^ERROR: refs\/heads\/main: agent-hooks\.json: "test\.sampel": unknown key \(did you mean "test\.sample"\?\); .*; fix: fix agent-hooks\.json and push again$/),
    ]);
    expect(gitCommit(b, ['--no-verify']).exitCode).toBe(0);
    expect(push(b).errors).toEqual(errorsOf(r));
  });

  it('refuses staged changes to a path leased by another agent, with the server\'s line', () => {
    const { b } = guarded();
    write(b, 'src/parser/a.ts', 'agent-2 was here\n');
    git(b, ['add', '-A']);
    const r = gitCommit(b, []);
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([
      expect.stringMatching(/^ERROR: refs\/heads\/main: src\/parser\/a\.ts \(staged\) is leased by agent-1 \(task parser, glob src\/parser\/\*\*\) until \S+; fix: wait for the claim to expire or ask agent-1; agent-hooks status parser$/),
    ]);
    expect(r.stderr).toMatch(/agent-hooks: commit refused with 1 error; the server would reject the push too/);
    expect(git(b, ['rev-list', '--count', 'HEAD']).stdout.trim()).toBe(git(b, ['rev-list', '--count', 'origin/main']).stdout.trim());
  });

  it('judges exactly what is committed: commit -a, commit <paths>, and a partial commit', () => {
    const { b } = guarded();
    write(b, 'src/parser/a.ts', 'leased change\n');
    write(b, 'src/lexer/l.ts', 'free change\n');
    // Nothing staged yet: `commit -a` stages both, through a temporary GIT_INDEX_FILE.
    expect(errorsOf(gitCommit(b, ['-a']))).toEqual([expect.stringContaining('src/parser/a.ts (staged) is leased by agent-1')]);
    // `commit <path>` commits only that path, whatever else is staged.
    git(b, ['add', 'src/parser/a.ts']);
    expect(gitCommit(b, ['src/lexer/l.ts']).exitCode).toBe(0);
    expect(git(b, ['show', '--name-only', '--format=', 'HEAD']).stdout.trim()).toBe('src/lexer/l.ts');
    // The leased change is still staged, and refused on its own.
    expect(gitCommit(b, []).exitCode).toBe(1);
  });

  it('--no-verify skips the guard, and the server still rejects the push', () => {
    const { b } = guarded();
    write(b, 'src/parser/a.ts', 'sneaky\n');
    expect(gitCommit(b, ['-a', '--no-verify']).exitCode).toBe(0);
    const r = push(b);
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([expect.stringMatching(/^ERROR: refs\/heads\/main: src\/parser\/a\.ts \(changed in [0-9a-f]{10}\) is leased by agent-1/)]);
  });

  it('warns instead with agenthooks.guard warn, and lets the holder commit', () => {
    const { a, b } = guarded();
    git(b, ['config', 'agenthooks.guard', 'warn']);
    write(b, 'src/parser/a.ts', 'warned\n');
    const warned = gitCommit(b, ['-a']);
    expect(warned.exitCode).toBe(0);
    expect(warningsOf(warned)).toEqual([expect.stringMatching(/^WARNING: refs\/heads\/main: src\/parser\/a\.ts \(staged\) is leased by agent-1 .* \(agenthooks\.guard is warn\)$/)]);

    expect(cli(['install', a]).exitCode).toBe(0);
    git(a, ['fetch', '--quiet']);
    write(a, 'src/parser/a.ts', 'the holder\n');
    expect(gitCommit(a, ['-a'])).toMatchObject({ exitCode: 0, stderr: '' });
    // AGENT_ID wins over user.name: the holder's clone committing as someone else is refused.
    write(a, 'src/parser/a.ts', 'as agent-9\n');
    expect(gitCommit(a, ['-a'], { AGENT_ID: 'agent-9' }).exitCode).toBe(1);
  });

  it('checks staged lock files on the claims branch', () => {
    const { b } = guarded();
    write(b, 'current_tasks/lexer.txt', 'agent: agent-2\nstarted: soon\n');
    git(b, ['add', '-A']);
    const r = gitCommit(b, []);
    expect(errorsOf(r)).toEqual(['ERROR: current_tasks/lexer.txt:2: "started" must be an RFC 3339 timestamp with a zone, got "soon"; fix: write it like started: 2026-11-21T16:04:05Z']);
    git(b, ['rm', '-q', '--cached', 'current_tasks/lexer.txt']);
    symlinkSync('../README.md', join(b, 'current_tasks', 'link.txt'));
    git(b, ['add', 'current_tasks/link.txt']);
    expect(errorsOf(gitCommit(b, []))).toEqual(['ERROR: current_tasks/link.txt: is a symlink; a lock file must be a regular file; fix: git rm --cached current_tasks/link.txt and add a regular file']);
    git(b, ['add', 'current_tasks/lexer.txt']);
    git(b, ['checkout', '--quiet', '-b', 'feature']);
    expect(gitCommit(b, []).exitCode).toBe(0); // not the claims branch: the server does not judge it either
  });

  it('runs in every linked worktree of the clone, with a per-worktree agent id', () => {
    const { b } = guarded();
    const wt1 = join(tempDir(), 'wt-agent-1');
    const wt3 = join(tempDir(), 'wt-agent-3');
    git(b, ['config', 'extensions.worktreeConfig', 'true']);
    git(b, ['worktree', 'add', '--quiet', '-b', 'agent/agent-1', wt1, 'origin/main']);
    git(b, ['worktree', 'add', '--quiet', '-b', 'agent/agent-3', wt3, 'origin/main']);
    git(wt1, ['config', '--worktree', 'agenthooks.agent', 'agent-1']);
    git(wt3, ['config', '--worktree', 'agenthooks.agent', 'agent-3']);
    for (const wt of [wt1, wt3]) write(wt, 'src/parser/a.ts', `${wt}\n`);
    expect(gitCommit(wt1, ['-a'])).toMatchObject({ exitCode: 0, stderr: '' });
    const r = gitCommit(wt3, ['-a']);
    expect(errorsOf(r)).toEqual([expect.stringMatching(/^ERROR: refs\/heads\/agent\/agent-3: src\/parser\/a\.ts \(staged\) is leased by agent-1/)]);
  });
});

describe('installing pre-commit', () => {
  it('installs into the common hooks dir, chains an existing hook, is idempotent, and uninstalls', () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    const hook = join(a, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, '#!/bin/sh\necho "project pre-commit ran" >&2\n', { mode: 0o755 });
    const first = cli(['install', a]);
    expect(first.stdout).toMatch(/keep the existing pre-commit hook/);
    expect(readFileSync(hook, 'utf8')).toContain('/agent-hooks/0.1.0/pre-commit.mjs');
    expect(existsSync(join(a, '.git', 'hooks', 'pre-receive'))).toBe(false);
    expect(cli(['install', a]).stdout).toMatch(/already installed .*; nothing changed/);
    write(a, 'x.txt', 'x\n');
    git(a, ['add', 'x.txt']);
    expect(gitCommit(a, []).stderr).toBe('project pre-commit ran\n');
    expect(cli(['doctor', a])).toMatchObject({ exitCode: 0 });

    expect(cli(['uninstall', a]).exitCode).toBe(0);
    expect(readFileSync(hook, 'utf8')).toBe('#!/bin/sh\necho "project pre-commit ran" >&2\n');
  });

  it('refuses a core.hooksPath outside the git dir unless --force, and says how to call the guard', () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    git(a, ['config', 'core.hooksPath', '.husky/_']);
    const refused = cli(['install', a]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^ERROR: core\.hooksPath of .* points to .*\.husky\/_, outside its git dir: .* add the line "npx agent-hooks pre-commit" to \.husky\/pre-commit\), or run install with --force/);
    expect(existsSync(join(a, '.husky'))).toBe(false);
    expect(cli(['install', '--force', a]).exitCode).toBe(0);
    expect(existsSync(join(a, '.husky', '_', 'pre-commit'))).toBe(true);
  });

  it('agent-hooks pre-commit runs the same check from a hook manager', () => {
    const { b } = guarded();
    write(b, 'src/parser/a.ts', 'via husky\n');
    git(b, ['add', '-A']);
    const r = cli(['pre-commit'], { cwd: b });
    expect(r.exitCode).toBe(1);
    expect(errorsOf(r)).toEqual([expect.stringContaining('src/parser/a.ts (staged) is leased by agent-1')]);
  });
});
