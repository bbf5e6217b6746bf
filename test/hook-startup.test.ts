// The shortcuts pre-receive takes to start fewer git processes (issue 18), each tried against a
// push that must still be judged the way the long way judges it.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cloneAs, commit, git, lockText, push, sharedRepo, sync } from './helpers/git.js';
import { readObjectsAndInfo } from '../git/git.js';

/** agent-1 holds task parser with a lease on src/parser/**; agent-2 has a clone in sync. */
function leased() {
  const repo = sharedRepo(['agent-1', 'agent-2']);
  const a = repo.clones['agent-1']!;
  commit(a, { 'src/parser/a.ts': 'a\n', 'src/lexer/l.ts': 'l\n' }, 'code');
  commit(a, { 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/parser/**'] }) }, 'claim parser');
  const r = push(a);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  sync(repo.clones['agent-2']!);
  return { ...repo, a, b: repo.clones['agent-2']! };
}

const cacheKeyOf = (upstream: string, file: string) => (JSON.parse(readFileSync(join(upstream, 'agent-hooks', file), 'utf8')) as { key: string }).key;

describe('the claims ref from the HEAD file', () => {
  it('follows HEAD to another branch, and a detached HEAD falls back to git (and to refs/heads/main)', () => {
    const { upstream, a, b } = leased();
    // HEAD -> refs/heads/trunk: trunk is the claims ref, so main is just a branch (rule 6 does not hold there).
    git(upstream, ['branch', 'trunk', 'main']);
    git(upstream, ['symbolic-ref', 'HEAD', 'refs/heads/trunk']);
    commit(b, { 'src/lexer/l.ts': 'elsewhere\n' }, 'side');
    git(b, ['reset', '--quiet', '--hard', 'HEAD~2']);
    commit(b, { 'src/lexer/l.ts': 'rewrite\n' }, 'rewrite');
    expect(push(b, ['--force', 'origin', 'HEAD:refs/heads/main']).exitCode).toBe(0);
    expect(push(b, ['--force', 'origin', 'HEAD:refs/heads/trunk']).errors[0]).toMatch(/^ERROR: refs\/heads\/trunk: non-fast-forward push to the claims ref/);

    // A detached HEAD (an oid in the file): git says there is no symbolic ref; main is the claims ref again.
    git(upstream, ['update-ref', '--no-deref', 'HEAD', git(upstream, ['rev-parse', 'trunk']).stdout.trim()]);
    expect(readFileSync(join(upstream, 'HEAD'), 'utf8')).toMatch(/^[0-9a-f]{40}\n$/);
    sync(a);
    git(a, ['reset', '--quiet', '--hard', 'HEAD~1']);
    commit(a, { 'src/lexer/l.ts': 'rewrite by agent-1\n' }, 'rewrite');
    expect(push(a, ['--force', 'origin', 'HEAD:refs/heads/main']).errors[0]).toMatch(/^ERROR: refs\/heads\/main: non-fast-forward push to the claims ref/);
  });
});

describe('fast-forward told from the walked commits', () => {
  it('accepts a merge with the old tip as its second parent, rejects a sibling of the old tip and a rewind', () => {
    const { upstream, a } = leased();
    const oldTip = git(upstream, ['rev-parse', 'main']).stdout.trim();
    // A merge whose first parent is a side line and whose second parent is the old tip.
    git(a, ['checkout', '--quiet', '-b', 'side', 'HEAD~1']);
    commit(a, { 'current_tasks/lexer.txt': lockText('agent-1', { files: ['src/lexer/**'] }) }, 'claim lexer on a side line');
    git(a, ['merge', '--quiet', '--no-edit', '--no-ff', 'main']);
    expect(git(a, ['rev-parse', 'HEAD^2']).stdout.trim()).toBe(oldTip);
    expect(push(a, ['origin', 'HEAD:refs/heads/main'])).toMatchObject({ exitCode: 0, errors: [] });

    // A sibling of the new tip that changes a claim: its parent is reachable, the tip is not.
    const tip = git(upstream, ['rev-parse', 'main']).stdout.trim();
    git(a, ['checkout', '--quiet', '-B', 'sibling', `${tip}^1`]);
    commit(a, { 'current_tasks/other.txt': lockText('agent-1', { files: ['docs/**'] }) }, 'claim other');
    expect(push(a, ['--force', 'origin', 'HEAD:refs/heads/main']).errors[0]).toMatch(/^ERROR: refs\/heads\/main: non-fast-forward push to the claims ref/);

    // A rewind to an ancestor that still changes the locks dir (no commit to walk).
    expect(push(a, ['--force', 'origin', `${oldTip}:refs/heads/main`]).errors[0]).toMatch(/^ERROR: refs\/heads\/main: non-fast-forward push to the claims ref/);
    expect(git(upstream, ['rev-parse', 'main']).stdout.trim()).toBe(tip);
  });
});

describe('the claims cache across claim pushes', () => {
  it('holds the new tip once a claim push is accepted, never a rejected one; the cached claims judge the next pushes', () => {
    const { upstream, a, b } = leased();
    // agent-2 claims lexer: accepted, so the cache now holds the claims at the new tip.
    commit(b, { 'current_tasks/lexer.txt': lockText('agent-2', { files: ['src/lexer/**'] }) }, 'claim lexer');
    expect(push(b).exitCode).toBe(0);
    const tip = git(upstream, ['rev-parse', 'main']).stdout.trim();
    expect(cacheKeyOf(upstream, 'claims-cache.json')).toContain(tip);
    expect(cacheKeyOf(upstream, 'lock-entries-cache.json')).toContain(tip);
    const claims = JSON.parse(readFileSync(join(upstream, 'agent-hooks', 'claims-cache.json'), 'utf8')) as { value: { taskId: string; lock: { agent: string } }[] };
    expect(claims.value.map((c) => [c.taskId, c.lock.agent])).toEqual([['lexer', 'agent-2'], ['parser', 'agent-1']]);

    // From that cache: agent-1 cannot touch the new lease, nor widen its own lease onto it.
    sync(a);
    commit(a, { 'src/lexer/l.ts': 'agent-1 was here\n' });
    expect(push(a, ['origin', 'HEAD:refs/heads/agent-1/work']).errors[0]).toMatch(/src\/lexer\/l\.ts .*is leased by agent-2/);
    git(a, ['reset', '--quiet', '--hard', 'origin/main']);
    commit(a, { 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/parser/**', 'src/lexer/**'] }) }, 'widen');
    expect(push(a).errors[0]).toMatch(/current_tasks\/parser\.txt: lease .* overlaps the lease of agent-2/);
    // The rejected claim push left the cache at the tip that is still main's.
    expect(cacheKeyOf(upstream, 'claims-cache.json')).toContain(tip);

    // A broken entries cache is read from git again: the same overlap is still found.
    writeFileSync(join(upstream, 'agent-hooks', 'lock-entries-cache.json'), '{"key": "x", "value": [');
    expect(push(a).errors[0]).toMatch(/current_tasks\/parser\.txt: lease .* overlaps the lease of agent-2/);

    // agent-2 takes over nothing it does not hold: changing agent-1's claim is refused from the cache too.
    sync(b);
    commit(b, { 'current_tasks/parser.txt': lockText('agent-2', { files: ['src/parser/**'] }) }, 'take parser');
    expect(push(b).errors[0]).toMatch(/changes the active claim of task parser held by agent-1/);

    // A release: the cache follows, and the lease is gone for the next push.
    const c = cloneAs(upstream, 'agent-2c');
    git(c, ['config', 'user.name', 'agent-2']);
    commit(c, { 'current_tasks/lexer.txt': null }, 'release lexer');
    expect(push(c).exitCode).toBe(0);
    expect((JSON.parse(readFileSync(join(upstream, 'agent-hooks', 'claims-cache.json'), 'utf8')) as { value: { taskId: string }[] }).value.map((x) => x.taskId)).toEqual(['parser']);
    sync(a);
    commit(a, { 'src/lexer/l.ts': 'agent-1 after release\n' });
    expect(push(a, ['origin', 'HEAD:refs/heads/agent-1/work'])).toMatchObject({ exitCode: 0, errors: [] });
  });
});

describe('rule 4 lists only the subtrees a new lease can match', () => {
  /** The `git ls-tree` calls pre-receive made for one push (GIT_TRACE through receive-pack to the hook's git). */
  function lsTreeCalls(clone: string, trace: string): { push: ReturnType<typeof push>; calls: string[] } {
    writeFileSync(trace, '');
    const result = push(clone, ['origin', 'HEAD:main'], { GIT_TRACE: trace });
    const calls = readFileSync(trace, 'utf8').split('\n').filter((l) => /trace: built-in: git .*ls-tree -r --name-only/.test(l)).map((l) => l.replace(/^.*trace: built-in: git /, ''));
    return { push: result, calls };
  }

  it('finds overlaps and misses prefixes the way git matches literal pathspecs, without listing the whole tree', () => {
    const { upstream, b } = leased();
    const trace = join(upstream, '..', 'trace.txt');
    commit(b, { 'src/parser-x/q.ts': 'q\n', 'src/parser.ts': 'p\n' }, 'neighbours of src/parser');
    expect(push(b).exitCode).toBe(0);

    // src/parser-x and src/parser.ts share a prefix with agent-1's src/parser/**, not a directory.
    commit(b, { 'current_tasks/neighbours.txt': lockText('agent-2', { files: ['src/parser-x/**', 'src/parser.ts'] }) }, 'claim neighbours');
    const accepted = lsTreeCalls(b, trace);
    expect(accepted.push).toMatchObject({ exitCode: 0, errors: [] });
    expect(accepted.calls).toEqual([expect.stringMatching(/^ls-tree -r --name-only -z --full-tree [0-9a-f]{40} -- src\/parser-x src\/parser\.ts$/)]);

    // A literal directory lease on agent-1's directory overlaps on its real file.
    commit(b, { 'current_tasks/dir.txt': lockText('agent-2', { files: ['src/parser'] }) }, 'claim src/parser');
    const rejected = lsTreeCalls(b, trace);
    expect(rejected.push.errors).toEqual([expect.stringMatching(/current_tasks\/dir\.txt: lease src\/parser overlaps the lease of agent-1 .*: src\/parser\/a\.ts;/)]);
    expect(rejected.calls).toHaveLength(1);
    expect(rejected.calls[0]).toMatch(/ -- src\/parser$/);
  });
});

describe('the net change of one commit on the claims ref is its own walk', () => {
  it('runs no diff-tree for one commit on the old tip, and one for two commits, judging both alike', () => {
    const { upstream, b } = leased();
    const trace = join(upstream, '..', 'trace-net.txt');
    const pushTraced = () => {
      writeFileSync(trace, '');
      const result = push(b, ['origin', 'HEAD:main'], { GIT_TRACE: trace });
      return { result, diffTrees: readFileSync(trace, 'utf8').split('\n').filter((l) => /trace: built-in: git diff-tree/.test(l)).length };
    };
    commit(b, { 'current_tasks/lexer.txt': lockText('agent-2', { files: ['src/lexer/**'] }) }, 'claim lexer');
    expect(pushTraced()).toMatchObject({ result: { exitCode: 0, errors: [] }, diffTrees: 0 });

    // One commit touching agent-1's lease: refused on the walk alone.
    commit(b, { 'src/parser/a.ts': 'taken\n' }, 'touch the lease');
    const one = pushTraced();
    expect(one.result.errors[0]).toMatch(/src\/parser\/a\.ts .*is leased by agent-1/);
    expect(one.diffTrees).toBe(0);

    // Two commits: the net change is read as well, and the same path is refused.
    commit(b, { 'src/lexer/l.ts': 'mine\n' }, 'and mine');
    const two = pushTraced();
    expect(two.result.errors[0]).toMatch(/src\/parser\/a\.ts .*is leased by agent-1/);
    expect(two.diffTrees).toBe(1);
  });
});

describe('one cat-file --batch-command for contents and headers', () => {
  it('reads contents in order, headers without contents, and says which are missing', () => {
    const { a } = leased();
    commit(a, { 'dir with space/big.bin': Buffer.alloc(300_000, 7) }, 'a big blob');
    git(a, ['tag', '-a', '-m', 'tag of a blob', 'blob-tag', 'HEAD:dir with space/big.bin']);
    const head = git(a, ['rev-parse', 'HEAD']).stdout.trim();
    const { objects, info } = readObjectsAndInfo(['HEAD:src/parser/a.ts', 'HEAD:no/such/file', 'HEAD:dir with space/big.bin'], ['blob-tag^{}', 'HEAD^{}', 'nonesuch^{}'], { cwd: a });
    expect(objects.get('HEAD:src/parser/a.ts')).toMatchObject({ type: 'blob' });
    expect(Buffer.from(objects.get('HEAD:src/parser/a.ts')!.content).toString()).toBe('a\n');
    expect(objects.get('HEAD:no/such/file')).toBeUndefined();
    expect(objects.get('HEAD:dir with space/big.bin')?.content.length).toBe(300_000);
    expect(info.get('blob-tag^{}')).toEqual({ oid: expect.stringMatching(/^[0-9a-f]{40}$/), type: 'blob', size: 300_000 });
    expect(info.get('HEAD^{}')).toMatchObject({ oid: head, type: 'commit' });
    expect(info.get('nonesuch^{}')).toBeUndefined();
  });
});
