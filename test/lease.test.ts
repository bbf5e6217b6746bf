// Glob semantics of leases and the pure rules 4 and 5, as tables.
import { describe, expect, it } from 'vitest';
import type { Claim } from '../core/claim.js';
import { globProblem, isGlobPattern, isUnderAny } from '../core/glob.js';
import { LeaseTable, leasesOf, type Lease } from '../core/lease.js';
import { checkLeasedChanges, checkLeaseOverlaps, treePathsOf, type TreePaths } from '../core/lease-rules.js';
import { formatVerdict } from '../core/verdict.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const EXEMPT = ['current_tasks/**', 'agent-hooks.json'];
const claim = (agent: string, taskId: string, files: string[], expiresAt = NOW + 3600_000): Claim => ({
  taskId,
  path: `current_tasks/${taskId}.txt`,
  lock: { agent, started: NOW - 60_000, files },
  expiresAt,
});
const covers = (files: string[], path: string) => new LeaseTable(leasesOf([claim('a', 't', files)], NOW), EXEMPT).match(path).length > 0;

describe('lease glob semantics', () => {
  it.each([
    [['src/**'], 'src/parser/a.ts', true],
    [['src/**'], 'src/.env', true], // dot files match
    [['src/**'], 'src', true],
    [['src/**'], 'srcx/a', false],
    [['src/**'], 'Src/a', false], // case-sensitive
    [['src/*.ts'], 'src/a.ts', true],
    [['src/*.ts'], 'src/sub/a.ts', false],
    [['**/*.md'], 'docs/deep/x.md', true],
    [['src/**', '!src/gen/**'], 'src/gen/x.ts', false], // ! excludes inside one claim
    [['src/**', '!src/gen/**'], 'src/main.ts', true],
    [['src/parser'], 'src/parser', true], // a literal path is the path ...
    [['src/parser'], 'src/parser/x.ts', true], // ... and, as a directory, everything under it
    [['src/parser'], 'src/parser2/x.ts', false],
    [['app/[id]/page.tsx'], 'app/[id]/page.tsx', true], // brackets in a literal are themselves
    [['app/[id]/page.tsx'], 'app/i/page.tsx', false],
    [['app/[id]/**'], 'app/i/x', true], // in a glob they are a class ...
    [['app/\\[id\\]/**'], 'app/[id]/x', true], // ... escaped, brackets
    [['app/\\[id\\]/**'], 'app/i/x', false],
    [['{a,b}/**'], 'b/x', true],
    [['**'], 'current_tasks/x.txt', false], // exempt paths are never leased
    [['**'], 'agent-hooks.json', false],
    [['**'], 'README.md', true],
  ])('%j covers %s: %s', (files, path, expected) => expect(covers(files, path)).toBe(expected));

  it.each([
    ['src/**', true],
    ['src/a?.ts', true],
    ['{a,b}', true],
    ['src/@(a|b)', true],
    ['app/[id]/page.tsx', false],
    ['src/parser', false],
    ['src/\\*literal', false],
  ])('isGlobPattern(%s) = %s', (pattern, expected) => expect(isGlobPattern(pattern)).toBe(expected));

  it.each([
    ['src/**', undefined],
    ['!src/gen/**', undefined],
    ['app/\\[id\\]', undefined],
    ['/etc', 'must be relative (no leading "/")'],
    ['src\\parser', 'must use "/" as separator ("\\" only escapes a glob character)'],
    ['a/../b', 'must not contain ".."'],
    ['./a', 'must not contain "." or empty segments (no leading "./", no "//")'],
  ])('globProblem(%s)', (glob, expected) => expect(globProblem(glob)).toBe(expected));

  it('returns one hit per lease, and skips expired claims and claims without files', () => {
    const table = new LeaseTable(leasesOf([claim('a', 'x', ['src/**', 'src/a/**']), claim('b', 'y', ['src/a/b.ts']), claim('c', 'z', ['src/**'], NOW - 1), claim('d', 'w', [])], NOW), EXEMPT);
    expect(table.match('src/a/b.ts').map((h) => [h.lease.claim.lock.agent, h.glob])).toEqual([['a', 'src/**'], ['b', 'src/a/b.ts']]);
  });
});

describe('rule 5: changes to leased paths', () => {
  const claims = [claim('agent-2', 'parser', ['src/parser/**'])];
  const changes = (paths: string[]) => [{ refName: 'refs/heads/f', paths: new Map(paths.map((p) => [p, 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00'])) }];
  it('names the path, commit, holder, task, glob, expiry and fix', () => {
    expect(checkLeasedChanges(changes(['src/parser/a.ts', 'README.md']), claims, EXEMPT, 'agent-1', NOW).map(formatVerdict)).toEqual([
      'ERROR: refs/heads/f: src/parser/a.ts (changed in c0ffee00c0) is leased by agent-2 (task parser, glob src/parser/**) until 2026-11-21T13:00:00Z; fix: wait for the claim to expire or ask agent-2; agent-hooks status parser',
    ]);
  });
  it('lets the holder through, and nobody is blocked by an expired lease', () => {
    expect(checkLeasedChanges(changes(['src/parser/a.ts']), claims, EXEMPT, 'agent-2', NOW)).toEqual([]);
    expect(checkLeasedChanges(changes(['src/parser/a.ts']), claims, EXEMPT, 'agent-1', NOW + 3600_000)).toEqual([]);
  });
  it('an unknown pusher is blocked by every lease', () => {
    expect(checkLeasedChanges(changes(['src/parser/a.ts']), claims, EXEMPT, undefined, NOW)).toHaveLength(1);
  });
  it('caps the lines per ref and counts the rest', () => {
    const paths = Array.from({ length: 25 }, (_, i) => `src/parser/f${i}.ts`);
    const lines = checkLeasedChanges(changes(paths), claims, EXEMPT, 'agent-1', NOW).map(formatVerdict);
    expect(lines).toHaveLength(21);
    expect(lines[20]).toBe('ERROR: refs/heads/f: and 5 more changed paths leased by other agents; fix: agent-hooks status');
  });
});

describe('rule 4: overlapping leases', () => {
  const paths = ['src/parser/a.ts', 'src/parser/b.ts', 'src/lexer/a.ts', 'docs/x.md', 'current_tasks/parser.txt', ...Array.from({ length: 10 }, (_, i) => `lib/f${i}.js`)];
  const others = [claim('agent-2', 'parser', ['src/parser/**'])];
  // Every question the rule asks of the tree: undefined for all of it, or the bases it lists.
  let asked: (readonly string[] | undefined)[] = [];
  const recorded: TreePaths = (under) => {
    asked.push(under);
    return treePathsOf(paths)(under);
  };
  const check = (files: string[], claims = others) => {
    asked = [];
    return checkLeaseOverlaps({ refName: 'refs/heads/main', leases: leasesOf([claim('agent-1', 'mine', files)], NOW), claims, paths: recorded, exempt: EXEMPT, now: NOW }).map(formatVerdict);
  };

  it.each([
    [['src/lexer/**'], []],
    [['src/**', '!src/parser/**'], []],
    [['docs/**', 'src/lexer/**'], []],
  ])('accepts %j', (files, expected) => expect(check(files)).toEqual(expected));

  it('rejects overlap on real paths and says which', () => {
    expect(check(['src/**'])).toEqual([
      'ERROR: refs/heads/main: current_tasks/mine.txt: lease src/** overlaps the lease of agent-2 (task parser, src/parser/**) until 2026-11-21T13:00:00Z: src/parser/a.ts, src/parser/b.ts; fix: narrow "files" (for example with !src/parser/**), or wait for the claim to expire or ask agent-2; agent-hooks status parser',
    ]);
  });

  it('rejects overlap by literal containment when no file exists yet', () => {
    expect(check(['src/parser/new/**'])).toEqual([expect.stringMatching(/lease src\/parser\/new\/\*\* overlaps the lease of agent-2 .*: the patterns src\/parser\/new\/\*\* and src\/parser\/\*\* overlap;/)]);
    expect(check(['src/parser'])).toHaveLength(1);
  });

  it('warns about a lease that covers almost everything, and rejects exempt paths', () => {
    expect(check(['**'], [])).toEqual(['WARNING: refs/heads/main: current_tasks/mine.txt: lease ** is very broad: it covers 14 of the 14 leasable files; fix: lease only the paths the task needs']);
    expect(check(['lib/**', 'src/**', 'docs/**'], [])).toEqual([expect.stringMatching(/^WARNING: .* is very broad: it covers 14 of the 14 leasable files/)]);
    expect(check(['current_tasks/**'], [])).toEqual([expect.stringMatching(/^ERROR: refs\/heads\/main: current_tasks\/mine\.txt: current_tasks\/\*\* is exempt from leases .* and can never be leased/)]);
  });

  // Issue 18: a claim push lists only the subtrees its new lease can match, not the whole tree.
  it('lists only the bases of a narrow lease, and the whole tree only to count a wide one', () => {
    expect(check(['src/lexer/**', 'docs/x.md'])).toEqual([]);
    expect(asked).toEqual([['src/lexer', 'docs/x.md']]);
    expect(check(['src/parser/a.ts'])).toHaveLength(1);
    expect(asked).toEqual([['src/parser/a.ts']]);
    // 10 covered files might be 90% of the tree: the leasable files are counted (all 14).
    expect(check(['lib/**'], [])).toEqual([]);
    expect(asked).toEqual([['lib'], undefined]);
    expect(check(['**/*.js'], [])).toEqual([]);
    expect(asked).toEqual([[''], undefined]);
  });

  it('warns about a directory lease holding 90% of the leasable files, counted over the whole tree', () => {
    const tree = [...Array.from({ length: 18 }, (_, i) => `src/f${i}.ts`), 'README.md', 'current_tasks/a.txt', 'current_tasks/b.txt', 'current_tasks/c.txt'];
    const run = (files: string[]) => checkLeaseOverlaps({ refName: 'refs/heads/main', leases: leasesOf([claim('agent-1', 'mine', files)], NOW), claims: [], paths: treePathsOf(tree), exempt: EXEMPT, now: NOW }).map(formatVerdict);
    // 18 of 19 leasable files (the lock files are exempt): warned.
    expect(run(['src/**'])).toEqual([expect.stringMatching(/lease src\/\*\* is very broad: it covers 18 of the 19 leasable files/)]);
    // 10 of 19: counted, not warned.
    expect(run(['src/f1*.ts', 'src/f2.ts'])).toEqual([]);
  });
});

// Issue 18: literal containment used to build one LeaseTable per other lease; it now asks the table
// of all others once per pattern. The old way, kept here as the reference, must agree on every
// pair of random leases (patterns, exclusions, literal files, exempt paths).
describe('rule 4 literal containment: one table of all others agrees with one table per lease', () => {
  const vocabulary = ['src/**', 'src/parser/**', 'src/parser', 'src/parser/a.ts', 'src/*/a.ts', 'docs/**', '**/*.md', 'lib/f1.js', '!src/parser/**', '!docs/x.md', 'current_tasks/**', 'src/lexer/**', 'Src/Parser/**'];
  const reference = (mine: Lease, others: readonly Lease[]) => others
    .map((other) => {
      const theirs = new LeaseTable([other], EXEMPT);
      const table = new LeaseTable([mine], EXEMPT);
      return mine.include.flatMap((g) => other.include.filter((h) => theirs.match(g).length > 0 || table.match(h).length > 0).map((h) => `${g} and ${h}`))[0];
    })
    .filter((x): x is string => x !== undefined);
  it('on 400 random draws', () => {
    let seed = 7;
    const pick = () => vocabulary[(seed = (seed * 1103515245 + 12345) % 2147483648) % vocabulary.length]!;
    for (let round = 0; round < 400; round++) {
      const draw = () => [pick(), pick(), pick()].filter((g, i, all) => all.indexOf(g) === i && !(i === 0 && g.startsWith('!')));
      const others = [claim('agent-2', 'a', draw()), claim('agent-3', 'b', draw())];
      const mine = leasesOf([claim('agent-1', 'mine', draw())], NOW)[0];
      if (!mine) continue;
      const got = checkLeaseOverlaps({ refName: 'refs/heads/main', leases: [mine], claims: others, paths: treePathsOf([]), exempt: EXEMPT, now: NOW })
        .filter((v) => v.what.includes('overlap'))
        .map((v) => /the patterns (.*) overlap$/.exec(v.what)?.[1]?.replace(/`/g, ''));
      const want = reference(mine, leasesOf(others, NOW));
      expect(got, JSON.stringify({ mine: mine.claim.lock.files, others: others.map((o) => o.lock.files) })).toEqual(want);
    }
  });
});

describe('isUnderAny: literal pathspec matching, component by component', () => {
  it.each([
    ['src/parser/a.ts', ['src/parser'], true],
    ['src/parser', ['src/parser'], true],
    ['src/parser-x/a.ts', ['src/parser'], false],
    ['src/parser.ts', ['src/parser'], false],
    ['anything/at/all', [''], true],
    ['src/a.ts', [], false],
    ['docs/x.md', ['src', 'docs/x.md'], true],
  ] as const)('%s under %j: %s', (path, bases, expected) => expect(isUnderAny(path, bases)).toBe(expected));
});
