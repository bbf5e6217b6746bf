// The agent commands through the built CLI, against real bare repos and clones.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliAsync, cloneAs, commit, git, lockText, push, sharedRepo, sync, tempDir } from './helpers/git.js';

// The races run 10 claimers and 6 pushers under npm run test:slow (AGENT_HOOKS_SLOW=1, run by
// .ci/run), 4 and 3 in the default suite: the same real pushes and retries, fewer processes.
const SLOW = process.env.AGENT_HOOKS_SLOW === '1';
const AGENTS = Array.from({ length: SLOW ? 10 : 4 }, (_, i) => `agent-${i + 1}`);
const locksOn = (upstream: string) => git(upstream, ['ls-tree', '--name-only', 'main', 'current_tasks/']).stdout.split('\n').filter(Boolean).sort();

describe('claim races', () => {
  it(`${AGENTS.length} agents claiming one task at once: one exits 0, the others exit 3; ${AGENTS.length} different tasks: all exit 0`, { timeout: 240_000 }, async () => {
    const { upstream, clones } = sharedRepo([AGENTS[0]!]);
    for (const agent of AGENTS.slice(1)) clones[agent] = cloneAs(upstream, agent);

    const same = await Promise.all(AGENTS.map((agent) => cliAsync(['claim', 'parser', '--files', 'src/parser/**'], { cwd: clones[agent]! })));
    const codes = same.map((r) => r.exitCode).sort();
    expect(codes, same.map((r) => r.stderr).join('\n')).toEqual([0, ...AGENTS.slice(1).map(() => 3)]);
    const winner = AGENTS[same.findIndex((r) => r.exitCode === 0)]!;
    for (const r of same.filter((x) => x.exitCode === 3)) expect(r.stderr).toMatch(new RegExp(`^ERROR: parser: held by ${winner} until \\S+ \\(files src/parser/\\*\\*\\); fix: `));
    expect(locksOn(upstream)).toEqual(['current_tasks/.gitkeep', 'current_tasks/parser.txt']);

    const different = await Promise.all(AGENTS.map((agent, i) => cliAsync(['claim', `task-${i}`, '--files', `src/mod${i}/**`], { cwd: clones[agent]! })));
    expect(different.map((r) => r.exitCode), different.map((r) => r.stderr).join('\n')).toEqual(AGENTS.map(() => 0));
    expect(locksOn(upstream)).toEqual(['current_tasks/.gitkeep', 'current_tasks/parser.txt', ...AGENTS.map((_, i) => `current_tasks/task-${i}.txt`)].sort());
    for (const [i, agent] of AGENTS.entries()) expect(git(upstream, ['show', `main:current_tasks/task-${i}.txt`]).stdout).toMatch(new RegExp(`^agent: ${agent}\\n`));
  });
});

describe('push races', () => {
  it('agents pushing main at once all land: a race lost after the hooks accepted is retried, not reported as a refusal', { timeout: 240_000 }, async () => {
    const agents = AGENTS.slice(0, SLOW ? 6 : 3);
    const { upstream, clones } = sharedRepo([agents[0]!]);
    for (const agent of agents.slice(1)) clones[agent] = cloneAs(upstream, agent);
    for (const agent of agents) commit(clones[agent]!, { [`notes/${agent}.txt`]: `${agent}\n` }, `notes of ${agent}`);
    const runs = await Promise.all(agents.map((agent) => cliAsync(['push', 'origin', 'HEAD:main'], { cwd: clones[agent]! })));
    expect(runs.map((r) => r.exitCode), runs.map((r) => r.stdout + r.stderr).join('\n')).toEqual(agents.map(() => 0));
    const landed = git(upstream, ['ls-tree', '--name-only', 'main', 'notes/']).stdout.split('\n').filter(Boolean).sort();
    expect(landed).toEqual(agents.map((a) => `notes/${a}.txt`).sort());
  });
});

describe('claim, release, renew, gc, status', () => {
  it('claim leaves the working tree and the index untouched, byte for byte', () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    writeFileSync(join(a, 'README.md'), 'unstaged change\n');
    writeFileSync(join(a, 'new.txt'), 'staged\n');
    git(a, ['add', 'new.txt']);
    const index = readFileSync(join(a, '.git', 'index'));
    const head = git(a, ['rev-parse', 'HEAD']).stdout;
    expect(cli(['claim', 'docs', '-m', 'write docs'], { cwd: a })).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^claimed docs until \S+\n$/) });
    expect(readFileSync(join(a, '.git', 'index')).equals(index)).toBe(true);
    expect(readFileSync(join(a, 'README.md'), 'utf8')).toBe('unstaged change\n');
    expect(git(a, ['rev-parse', 'HEAD']).stdout).toBe(head);
    expect(git(a, ['show', 'origin/main:current_tasks/docs.txt']).stdout).toMatch(/^agent: agent-1\nstarted: \S+\ndescription: write docs\n$/);
  });

  it('only the holder may release or renew; gc removes only expired claims', () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    expect(cli(['claim', 'parser'], { cwd: a }).exitCode).toBe(0);
    expect(cli(['release', 'parser'], { cwd: b })).toMatchObject({ exitCode: 3, stderr: expect.stringMatching(/^ERROR: parser: held by agent-1 until /) });
    expect(cli(['renew', 'parser'], { cwd: b }).exitCode).toBe(3);
    expect(cli(['release', 'nothing'], { cwd: b })).toMatchObject({ exitCode: 1, stderr: 'ERROR: nothing: no claim of this task on refs/heads/main; fix: agent-hooks status\n' });
    expect(cli(['renew', 'parser', '--ttl', '600'], { cwd: a })).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^renewed parser until /) });
    expect(git(upstream, ['show', 'main:current_tasks/parser.txt']).stdout).toMatch(/\nttl: 600\nrenewed: \S+\n$/);

    // An expired claim of agent-1's, pushed by hand; gc (by anyone) removes it and nothing else.
    sync(a);
    commit(a, { 'current_tasks/old.txt': lockText('agent-1', { started: Date.now() - 7200_000, ttl: 60 }) });
    expect(push(a).exitCode).toBe(0);
    expect(cli(['release', 'old'], { cwd: b })).toMatchObject({ exitCode: 3, stderr: expect.stringMatching(/the expired claim belongs to agent-1, not agent-2; fix: agent-hooks gc/) });
    expect(cli(['gc', '--dry-run'], { cwd: b }).stdout).toMatch(/^would remove expired claim old of agent-1 \(expired \S+\)\nwould delete current_tasks\/old\.txt\n$/);
    expect(cli(['gc'], { cwd: b })).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^removed expired claim old of agent-1 \(expired \S+\)\n$/) });
    expect(locksOn(upstream)).toEqual(['current_tasks/.gitkeep', 'current_tasks/parser.txt']);
    expect(cli(['gc'], { cwd: b }).stdout).toBe('no expired claims\n');
    expect(cli(['release', 'parser'], { cwd: a })).toMatchObject({ exitCode: 0, stdout: 'released parser\n' });
    expect(locksOn(upstream)).toEqual(['current_tasks/.gitkeep']);
  });

  it('status shows claims, time left and recent pushes; --json is stable', () => {
    const { clones } = sharedRepo(['agent-1', 'agent-2']);
    expect(cli(['claim', 'parser', '--files', 'src/parser/**', '-m', 'nested calls'], { cwd: clones['agent-1']! }).exitCode).toBe(0);
    const text = cli(['status'], { cwd: clones['agent-2']! });
    expect(text.stdout).toMatch(/^claims on refs\/remotes\/origin\/main \([0-9a-f]{10}\) at \S+:\n  parser  agent-1  until \S+ \(1h59m left\)  lease: src\/parser\/\*\*  - nested calls\nrecent pushes:\n  [0-9a-f]{10} \S+ agent-1: claim parser\n/);
    const json = JSON.parse(cli(['status', '--json'], { cwd: clones['agent-2']! }).stdout);
    expect(json).toMatchObject({ ref: 'refs/remotes/origin/main', claims: [{ task: 'parser', agent: 'agent-1', path: 'current_tasks/parser.txt', active: true, files: ['src/parser/**'], description: 'nested calls' }] });
    expect(Object.keys(json)).toEqual(['ref', 'oid', 'now', 'me', 'claims', 'invalid', 'recent', 'lost']);
    expect(json).toMatchObject({ me: 'agent-2', claims: [{ mine: false }], invalid: [] });
    expect(JSON.parse(cli(['status', '--json'], { cwd: clones['agent-1']! }).stdout)).toMatchObject({ me: 'agent-1', claims: [{ task: 'parser', mine: true }] });
    expect(cli(['status', 'nope'], { cwd: clones['agent-2']! }).exitCode).toBe(1);
  });

  it('works without a remote: agents in linked worktrees of one clone share the local branch', () => {
    const dir = tempDir();
    const repo = join(dir, 'repo');
    git(dir, ['init', '--quiet', '--initial-branch=main', repo]);
    git(repo, ['config', 'user.name', 'lead']);
    git(repo, ['config', 'user.email', 'lead@example.com']);
    commit(repo, { 'README.md': 'x\n' });
    const one = cli(['worktree', 'add', 'agent-1'], { cwd: repo });
    expect(one).toMatchObject({ exitCode: 0, stdout: `${join(repo, '.worktrees', 'agent-1')}\n` });
    expect(cli(['worktree', 'add', 'agent-2'], { cwd: repo }).exitCode).toBe(0);
    const [w1, w2] = [join(repo, '.worktrees', 'agent-1'), join(repo, '.worktrees', 'agent-2')];
    expect(git(w1, ['config', 'agenthooks.agent']).stdout.trim()).toBe('agent-1');
    expect(git(repo, ['config', 'agenthooks.agent'], { allowFail: true }).exitCode).toBe(1);
    expect(git(w1, ['branch', '--show-current']).stdout.trim()).toBe('agent/agent-1');
    expect(git(repo, ['status', '--porcelain']).stdout).toBe('');

    expect(cli(['claim', 'readme', '--files', 'README.md'], { cwd: w1 }).exitCode).toBe(0);
    expect(git(repo, ['show', 'main:current_tasks/readme.txt']).stdout).toMatch(/^agent: agent-1\n/);
    expect(cli(['claim', 'readme'], { cwd: w2 }).exitCode).toBe(3);
    // The guard in agent-2's worktree refuses the leased file.
    writeFileSync(join(w2, 'README.md'), 'agent-2\n');
    const refused = git(w2, ['commit', '--quiet', '-am', 'edit'], { allowFail: true });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^ERROR: refs\/heads\/agent\/agent-2: README\.md \(staged\) is leased by agent-1 \(task readme, glob README\.md\)/m);
  });
});

describe('push and check', () => {
  it('push adds -o agent=, rebases on a non-fast-forward, prints the server\'s lines on a refusal, never forces', () => {
    const { clones } = sharedRepo(['agent-1', 'agent-2']);
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    commit(a, { 'a.txt': 'a\n' });
    expect(push(a).exitCode).toBe(0);
    commit(b, { 'b.txt': 'b\n' });
    const r = cli(['push', 'origin', 'HEAD:main'], { cwd: b });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^non-fast-forward: git pull --rebase --quiet origin main, then push again \(attempt 2\)$/m);
    expect(git(b, ['log', '--format=%s', '-2']).stdout).toBe('change\nchange\n');

    expect(cli(['claim', 'parser', '--files', 'b.txt'], { cwd: b }).exitCode).toBe(0);
    sync(a);
    commit(a, { 'b.txt': 'agent-1 edits a leased file\n' });
    const refused = cli(['push', 'origin', 'HEAD:main'], { cwd: a });
    // A push refused for another agent's lease exits 3, and shows the server's lines as git does.
    expect(refused).toMatchObject({ exitCode: 3, stderr: expect.stringMatching(/^remote: ERROR: refs\/heads\/main: b\.txt \(changed in [0-9a-f]{10}\) is leased by agent-2/m) });
    expect(refused.stderr.split('\n').filter((l) => l.startsWith('remote: ERROR:'))).toEqual(push(a).errors.map((e) => `remote: ${e}`));
    expect(cli(['push', '--force', 'origin', 'HEAD:main'], { cwd: a }).exitCode).toBe(2);
    expect(cli(['push', 'origin', '+HEAD:main'], { cwd: a }).exitCode).toBe(2);
  });

  it('check judges a range like pre-receive would', () => {
    const { clones } = sharedRepo(['agent-1', 'agent-2']);
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    expect(cli(['claim', 'parser', '--files', 'src/parser/**'], { cwd: a }).exitCode).toBe(0);
    sync(b);
    const base = git(b, ['rev-parse', 'HEAD']).stdout.trim();
    commit(b, { 'src/lexer.ts': 'ok\n' });
    expect(cli(['check', `${base}..HEAD`], { cwd: b })).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/^ok: \S+ passes the claims and lease rules for refs\/heads\/main\n$/) });
    commit(b, { 'src/parser/x.ts': 'not mine\n' });
    const bad = cli(['check', `${base}..HEAD`, '--ref', 'feature'], { cwd: b });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/^ERROR: refs\/heads\/feature: src\/parser\/x\.ts \(changed in [0-9a-f]{10}\) is leased by agent-1/);
    expect(cli(['check', 'nonsense'], { cwd: b }).exitCode).toBe(2);
  });
});
