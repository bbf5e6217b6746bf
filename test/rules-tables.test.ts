// Table tests of the pure parts behind issue 13's fixes: glob lists, glob limits, broken-looking
// globs, the lock-only shortcut with the net change, trusted identity variables, policy changes.
import { describe, expect, it } from 'vitest';
import type { Claim } from '../core/claim.js';
import { compilePattern, globCost, globProblem, splitGlobList } from '../core/glob.js';
import { trustedIdentityEnv } from '../core/identity.js';
import { brokenGlobLook } from '../core/lease-rules.js';
import { defaultPolicy, type Policy } from '../core/policy.js';
import { checkPolicyChange } from '../core/policy-rules.js';
import { planTestRuns } from '../core/push-decision.js';
import { testArgv } from '../core/sampling.js';

describe('splitGlobList', () => {
  it.each([
    ['src/{parser,lexer}/**, docs/**', ['src/{parser,lexer}/**', 'docs/**']],
    ['a,b', ['a', 'b']],
    ['src/[a,b]/x, @(c,d)/y', ['src/[a,b]/x', '@(c,d)/y']],
    ['a\\,b, c', ['a\\,b', 'c']],
    [' , a ,, ', ['a']],
    ['src/{parser', ['src/{parser']],
  ])('%j', (list, globs) => expect(splitGlobList(list)).toEqual(globs));
});

describe('globProblem: balance and cost', () => {
  it.each([
    ['src/{parser', /unbalanced "\{"/],
    ['lexer}/**', /unbalanced "\}"/],
    ['src/@(a|b/**', /unbalanced "\("/],
    [`gen/**/${'*?'.repeat(10)}x`, /has 11 wildcard runs/],
    ['**/a*/**/a*/x', /has 4 wildcard runs/],
    ['+(*a)x', /nests a wildcard inside a repeated extglob/],
    [`src/${'a'.repeat(1100)}`, /the limit is 1024/],
  ])('%s', (glob, problem) => expect(globProblem(glob)).toMatch(problem));
  it.each(['src/{parser,lexer}/**', 'app/[id]/page.tsx', 'app/\\{x/**', 'src/**/*.test.*', '**/test/**/*.ts', `${'**/'.repeat(60)}x`, '{a,b}'.repeat(20), 'src/[{]x'])('accepts %s', (glob) => expect(globProblem(glob)).toBeUndefined());
  it('counts a run of ** segments once', () => expect([globCost('**/**/**/x'), globCost('**/a/**/x'), globCost('*a*b*/x')]).toEqual([1, 2, 3]));
  it('judges a costly glob by its base and a long path by the base too', () => {
    const costly = compilePattern(`gen/**/${'*?'.repeat(16)}x`);
    expect([costly('gen/a'), costly('src/a')]).toEqual([true, false]);
    expect(compilePattern(`gen/**/${'*?'.repeat(16)}x`, 'miss')('gen/a')).toBe(false);
    const plain = compilePattern('src/**/*.ts');
    expect([plain(`src/${'a/'.repeat(600)}x.js`), plain(`lib/${'a/'.repeat(600)}x.ts`)]).toEqual([true, false]);
  });
});

describe('brokenGlobLook', () => {
  it.each([
    ['"src/parser/**"', /quoted/],
    ["'src/**'", /quoted/],
    ['src/** # parser', /comment/],
    ['[src/**]', /list/],
    ['src/parser/**', undefined],
    ['src/#/x', undefined],
    ['app/[id]/page.tsx', undefined],
  ])('%s', (glob, look) => (look ? expect(brokenGlobLook(glob)).toMatch(look) : expect(brokenGlobLook(glob)).toBeUndefined()));
});

describe('planTestRuns with the net change (rule 5 (b))', () => {
  const A = '1'.repeat(40);
  const B = '2'.repeat(40);
  const tested: Policy = { ...defaultPolicy(), test: { command: ['true'], files: ['test/**'], sample: 0.1, always: [], timeout: 300 } };
  const update = { oldOid: A, newOid: B, refName: 'refs/heads/main' };
  it.each([
    [['current_tasks/x.txt'], [], 0],
    [['current_tasks/x.txt'], ['current_tasks/x.txt'], 0],
    [['current_tasks/x.txt'], ['current_tasks/x.txt', 'src/reverted.ts'], 1],
  ])('commits change %j, the tree diff %j: %i runs', (changed, net, runs) => {
    const plan = planTestRuns([update], tested, 'refs/heads/main', () => changed, () => net);
    expect(plan).toHaveLength(runs);
    if (runs) expect(plan[0]!.changed).toEqual([...new Set([...changed, ...net])]);
  });
  it('passes a file named like an option as ./<path>', () => expect(testArgv(['node', '--test'], ['-x.test.mjs', 'a.test.mjs'])).toEqual(['node', '--test', './-x.test.mjs', 'a.test.mjs']));
});

describe('trustedIdentityEnv', () => {
  it.each([
    [{ GL_USER: 'a' }, [], undefined, 'warning'],
    [{ GL_USER: 'a', GL_REPO: 'r', GL_TID: '1' }, [], 'a', undefined],
    [{ GL_USER: 'a', GL_REPO: 'r', GL_TID: '1', GL_BYPASS_ACCESS_CHECKS: '1' }, [], undefined, 'warning'],
    [{ GL_USER: 'a' }, ['agent=b'], undefined, 'error'],
    [{ GL_USER: 'a' }, ['agent=a'], undefined, 'warning'],
    [{ GL_USERNAME: 'a', GL_PROTOCOL: 'ssh', GL_REPOSITORY: 'project-1' }, [], 'a', undefined],
    [{ GITEA_PUSHER_NAME: 'a', GITEA_PUSHER_ID: '1', GITEA_REPO_NAME: 'r' }, [], 'a', undefined],
    [{ GITHUB_USER_LOGIN: 'a', GITHUB_REPO_NAME: 'o/r' }, [], undefined, 'warning'],
    [{ REMOTE_USER: 'a', REQUEST_METHOD: 'POST', PATH_INFO: '/r.git/git-receive-pack' }, [], 'a', undefined],
  ])('%j %j', (env, options, kept, severity) => {
    const r = trustedIdentityEnv(env, options);
    const name = Object.keys(env)[0]!;
    expect(r.env[name]).toBe(kept);
    expect(r.verdicts.map((v) => v.severity)).toEqual(severity ? [severity] : []);
  });
});

describe('checkPolicyChange', () => {
  const NOW = Date.parse('2026-11-21T12:00:00Z');
  const claim = (agent: string, files: string[], ttl?: number): Claim => ({ taskId: `t-${agent}`, path: `current_tasks/t-${agent}.txt`, lock: { agent, started: NOW - 60_000, files, ...(ttl ? { ttl } : {}) }, expiresAt: NOW - 60_000 + (ttl ?? 7200) * 1000 });
  const policy = (text: object) => ({ ...defaultPolicy(), ...text }) as Policy;
  const check = (newPolicy: Policy, claims: Claim[], paths: string[] = []) =>
    checkPolicyChange({ refName: 'refs/heads/main', oldPolicy: defaultPolicy(), newPolicy, claims, paths: () => paths, pusher: 'me', now: NOW }).map((v) => v.what);
  const exempt = (globs: string[]) => policy({ leases: { exempt: ['current_tasks/**', 'agent-hooks.json', ...globs] } });
  it.each([
    ['exempting a leased path', exempt(['src/**']), [claim('a', ['src/p/**'])], ['src/p/x.ts'], /leases\.exempt src\/\*\* takes src\/p\/x\.ts out of its lease/],
    ['exempting by literal containment, no file yet', exempt(['src/**']), [claim('a', ['src/p/**'])], [], /leases\.exempt src\/\*\* takes paths out/],
    ['exempting elsewhere', exempt(['docs/**']), [claim('a', ['src/p/**'])], ['src/p/x.ts', 'docs/a.md'], undefined],
    ['a lower ttl', policy({ locks: { dir: 'current_tasks', ttl: 600, skew: 300 } }), [claim('a', ['src/**'])], [], /locks\.ttl 600 ends it at 2026-11-21T12:09:00Z/],
    ['a lower ttl, the claim has its own', policy({ locks: { dir: 'current_tasks', ttl: 600, skew: 300 } }), [claim('a', ['src/**'], 7200)], [], undefined],
    ['a higher ttl', policy({ locks: { dir: 'current_tasks', ttl: 9000, skew: 300 } }), [claim('a', ['src/**'])], [], undefined],
    ['moving the locks dir', policy({ locks: { dir: 'tasks', ttl: 7200, skew: 300 } }), [claim('a', [])], [], /locks\.dir moves to tasks without its lock file/],
    ['the pusher\'s own claim', exempt(['src/**']), [claim('me', ['src/p/**'])], ['src/p/x.ts'], undefined],
    ['an expired claim', policy({ locks: { dir: 'current_tasks', ttl: 60, skew: 300 } }), [claim('a', ['src/**'], 60)], [], undefined],
  ])('%s', (_name, newPolicy, claims, paths, what) => {
    const found = check(newPolicy, claims, paths);
    if (what) expect(found).toEqual([expect.stringMatching(what)]);
    else expect(found).toEqual([]);
  });
});
