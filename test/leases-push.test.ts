// Leases through real pushes: rule 5 on every branch, rule 4 on the claims ref.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cloneAs, commit, git, lockText, push, sharedRepo, sync } from './helpers/git.js';

/** agent-1 holds task parser with a lease on src/parser/**; agent-2 has a clone in sync. */
function leased(files = ['src/parser/**'], started = Date.now(), ttl?: number) {
  const repo = sharedRepo(['agent-1', 'agent-2']);
  const a = repo.clones['agent-1']!;
  commit(a, { 'src/parser/a.ts': 'a\n', 'src/parser/.env': 'secret\n', 'src/lexer/l.ts': 'l\n', 'src/parser/gen/g.ts': 'g\n' }, 'code');
  commit(a, { 'current_tasks/parser.txt': lockText('agent-1', { files, started, ttl }) }, 'claim parser');
  const r = push(a);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  sync(repo.clones['agent-2']!);
  return { ...repo, a, b: repo.clones['agent-2']! };
}

const blocked = (path: string, ref = 'refs/heads/main') =>
  new RegExp(`^ERROR: ${ref}: ${path.replace(/[.*/]/g, '\\$&')} \\(changed in [0-9a-f]{10}\\) is leased by agent-1 \\(task parser, glob src/parser/\\*\\*\\) until \\S+; fix: wait for the claim to expire or ask agent-1; agent-hooks status parser$`);

describe('rule 5: a lease blocks the other agents on every branch', () => {
  it('blocks pushes to main and to a feature branch; the holder passes; after release the other passes', () => {
    const { a, b } = leased();
    commit(b, { 'src/parser/a.ts': 'changed by agent-2\n' });
    const toMain = push(b);
    expect(toMain.exitCode).toBe(1);
    expect(toMain.errors).toEqual([expect.stringMatching(blocked('src/parser/a.ts'))]);
    const toFeature = push(b, ['origin', 'HEAD:refs/heads/agent-2/work']);
    expect(toFeature.errors).toEqual([expect.stringMatching(blocked('src/parser/a.ts', 'refs/heads/agent-2/work'))]);
    // Paths outside the lease are free.
    git(b, ['reset', '--quiet', '--hard', 'origin/main']);
    commit(b, { 'src/lexer/l.ts': 'free\n' });
    expect(push(b).exitCode).toBe(0);

    sync(a);
    commit(a, { 'src/parser/a.ts': 'the holder\n' });
    expect(push(a)).toMatchObject({ exitCode: 0, errors: [] });
    commit(a, { 'current_tasks/parser.txt': null }, 'release parser');
    expect(push(a).exitCode).toBe(0);

    sync(b);
    commit(b, { 'src/parser/a.ts': 'agent-2 after release\n' });
    expect(push(b)).toMatchObject({ exitCode: 0, errors: [] });
  });

  it('stops blocking when the claim expires', async () => {
    // The shortest ttl is 60 s: a claim started 45 s ago leaves 15 s for the setup and the first
    // push (under load the setup alone has taken over 3 s), then the test waits out the rest.
    const started = Date.now() - 45_000;
    const { b } = leased(['src/parser/**'], started, 60);
    commit(b, { 'src/parser/a.ts': 'x\n' });
    expect(push(b).exitCode).toBe(1);
    await new Promise((r) => setTimeout(r, Math.max(0, started + 61_000 - Date.now())));
    expect(push(b)).toMatchObject({ exitCode: 0, errors: [] });
  });

  it('counts renames both ways, deletions, dot files, mode changes, symlinks and submodule entries', () => {
    const { b } = leased();
    const cases: [string, () => void, string][] = [
      ['rename out of the lease', () => git(b, ['mv', 'src/parser/a.ts', 'src/a.ts']), 'src/parser/a.ts'],
      ['rename into the lease', () => git(b, ['mv', 'src/lexer/l.ts', 'src/parser/l.ts']), 'src/parser/l.ts'],
      ['deletion', () => git(b, ['rm', '-q', 'src/parser/a.ts']), 'src/parser/a.ts'],
      ['dot file', () => git(b, ['update-index', '--add', '--cacheinfo', `100644,${git(b, ['hash-object', '-w', '--stdin'], { input: 'new\n' }).stdout.trim()},src/parser/.env`]), 'src/parser/.env'],
      ['mode change', () => git(b, ['update-index', '--chmod=+x', 'src/parser/a.ts']), 'src/parser/a.ts'],
      ['symlink', () => git(b, ['update-index', '--add', '--cacheinfo', `120000,${git(b, ['hash-object', '-w', '--stdin'], { input: '../lexer/l.ts' }).stdout.trim()},src/parser/link`]), 'src/parser/link'],
      ['submodule entry', () => git(b, ['update-index', '--add', '--cacheinfo', `160000,${git(b, ['rev-parse', 'HEAD']).stdout.trim()},src/parser/vendored`]), 'src/parser/vendored'],
    ];
    for (const [name, change, path] of cases) {
      change();
      git(b, ['commit', '--quiet', '-m', name]);
      const r = push(b);
      expect(r.exitCode, name).toBe(1);
      expect(r.errors, name).toContainEqual(expect.stringMatching(blocked(path)));
      sync(b);
    }
  });

  it('counts a path changed in the middle of the push and restored at the tip', () => {
    const { b } = leased();
    commit(b, { 'src/parser/a.ts': 'temporary\n' }, 'touch');
    const touched = git(b, ['rev-parse', 'HEAD']).stdout.trim();
    commit(b, { 'src/parser/a.ts': 'a\n' }, 'restore');
    expect(git(b, ['diff', '--quiet', 'origin/main', 'HEAD', '--', 'src/parser']).exitCode).toBe(0);
    const r = push(b);
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([expect.stringContaining(`src/parser/a.ts (changed in ${touched.slice(0, 10)})`)]);
  });

  it('does not count the claims ref merged into a feature branch, but does count a conflict resolution', () => {
    const { a, b, upstream } = leased();
    commit(b, { 'src/lexer/l.ts': 'feature work\n' });
    expect(push(b, ['origin', 'HEAD:refs/heads/feature']).exitCode).toBe(0);
    // agent-1 changes its leased file on main; agent-2 merges main into its feature branch.
    sync(a);
    commit(a, { 'src/parser/a.ts': 'agent-1 on main\n' });
    expect(push(a).exitCode).toBe(0);
    git(b, ['fetch', '--quiet', 'origin']);
    git(b, ['merge', '--quiet', '--no-edit', 'origin/main']);
    expect(git(b, ['rev-list', '--count', '--merges', 'HEAD~1..HEAD']).stdout.trim()).toBe('1');
    expect(push(b, ['origin', 'HEAD:refs/heads/feature'])).toMatchObject({ exitCode: 0, errors: [] });

    // An evil merge: the merge commit itself changes a leased path beyond both parents.
    commit(a, { 'src/parser/a.ts': 'agent-1 again\n' });
    expect(push(a).exitCode).toBe(0);
    git(b, ['fetch', '--quiet', 'origin']);
    git(b, ['merge', '--quiet', '--no-commit', 'origin/main']);
    commit(b, { 'src/parser/a.ts': 'agent-2 sneaks in\n' }, 'merge main');
    const r = push(b, ['origin', 'HEAD:refs/heads/feature']);
    expect(r.errors).toEqual([expect.stringMatching(blocked('src/parser/a.ts', 'refs/heads/feature'))]);
    expect(git(upstream, ['rev-parse', 'feature']).stdout).not.toBe(git(b, ['rev-parse', 'HEAD']).stdout);
  });

  it('honours ! exclusions and exempt paths', () => {
    const { b } = leased(['src/parser/**', '!src/parser/gen/**']);
    commit(b, { 'src/parser/gen/g.ts': 'generated\n', 'current_tasks/other.txt': lockText('agent-2'), 'agent-hooks.json': '{}' });
    expect(push(b)).toMatchObject({ exitCode: 0, errors: [] });
  });
});

describe('the claims cache of pre-receive', () => {
  it('reads the claims of an unchanged claims ref from the cache, ignores a broken cache, and follows a claims change', () => {
    const { upstream, b } = leased();
    const cache = join(upstream, 'agent-hooks', 'claims-cache.json');
    commit(b, { 'src/lexer/l.ts': 'l2\n' }, 'lexer');
    expect(push(b, ['origin', 'HEAD:refs/heads/lexer']).exitCode).toBe(0);
    const tip = git(upstream, ['rev-parse', 'main']).stdout.trim();
    const entry = JSON.parse(readFileSync(cache, 'utf8')) as { key: string; value: { taskId: string }[] };
    expect(entry.key).toContain(tip);
    expect(entry.value.map((c) => c.taskId)).toEqual(['parser']);

    // From the cache, the lease still holds; a broken cache is read from git again.
    commit(b, { 'src/parser/a.ts': 'b\n' }, 'parser');
    expect(push(b, ['origin', 'HEAD:refs/heads/parser']).errors[0]).toMatch(/src\/parser\/a\.ts .*is leased by agent-1/);
    writeFileSync(cache, '{"key": "x", "value": [');
    expect(push(b, ['origin', 'HEAD:refs/heads/parser']).errors[0]).toMatch(/is leased by agent-1/);

    // A release moves the claims ref: the next push reads the claims at the new tip.
    const a = cloneAs(upstream, 'agent-1b');
    git(a, ['config', 'user.name', 'agent-1']);
    commit(a, { 'current_tasks/parser.txt': null }, 'release parser');
    expect(push(a).exitCode).toBe(0);
    expect(push(b, ['origin', 'HEAD:refs/heads/parser']).exitCode).toBe(0);
    expect((JSON.parse(readFileSync(cache, 'utf8')) as { value: unknown[] }).value).toEqual([]);
  });
});

describe('rule 4: overlapping leases on the claims ref', () => {
  it('rejects an overlapping or nested lease and accepts a disjoint one', () => {
    const { b } = leased();
    commit(b, { 'current_tasks/big.txt': lockText('agent-2', { files: ['src/**'] }) });
    const overlap = push(b);
    expect(overlap.errors).toEqual([
      expect.stringMatching(/^ERROR: refs\/heads\/main: current_tasks\/big\.txt: lease src\/\*\* overlaps the lease of agent-1 \(task parser, src\/parser\/\*\*\) until \S+: src\/parser\/\.env, src\/parser\/a\.ts, src\/parser\/gen\/g\.ts; fix: narrow "files" \(for example with !src\/parser\/\*\*\), or wait for the claim to expire or ask agent-1; agent-hooks status parser$/),
    ]);
    sync(b);
    commit(b, { 'current_tasks/nested.txt': lockText('agent-2', { files: ['src/parser/deep/**'] }) });
    expect(push(b).errors).toEqual([expect.stringMatching(/current_tasks\/nested\.txt: lease src\/parser\/deep\/\*\* overlaps .*: the patterns src\/parser\/deep\/\*\* and src\/parser\/\*\* overlap;/)]);
    sync(b);
    commit(b, { 'current_tasks/lexer.txt': lockText('agent-2', { files: ['src/lexer/**'] }) });
    expect(push(b)).toMatchObject({ exitCode: 0, errors: [] });
    commit(b, { 'current_tasks/lexer.txt': lockText('agent-2', { files: ['src/lexer/**', 'src/parser/a.ts'] }) }, 'widen');
    expect(push(b).errors).toEqual([expect.stringMatching(/current_tasks\/lexer\.txt: lease src\/lexer\/\*\*, src\/parser\/a\.ts overlaps the lease of agent-1/)]);
  });

  it('warns about a lease of everything', () => {
    const { clones } = sharedRepo(['agent-1']);
    commit(clones['agent-1']!, { 'current_tasks/all.txt': lockText('agent-1', { files: ['**'] }) });
    const r = push(clones['agent-1']!);
    expect(r.exitCode).toBe(0);
    expect(r.warnings).toEqual([expect.stringMatching(/current_tasks\/all\.txt: lease \*\* is very broad: it covers 1 of the 1 leasable files/)]);
  });
});
