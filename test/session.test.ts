// The pure parts of agent sessions as tables: backoff, when the heartbeat renews, which claims an
// agent lost, the renewal plan (never another agent's claim, never an expired one), the patch
// paths of Codex's apply_patch, and the typed outcomes rendered to the CLI's lines.
import { describe, expect, it } from 'vitest';
import type { Claim } from '../core/claim.js';
import { planRenewAll, type ClaimsState } from '../core/plans.js';
import { policyFromText } from '../core/policy.js';
import { exitCodeOfOutcome, formatOutcome, renderStatus } from '../core/render.js';
import { statusJson } from '../core/status.js';
import type { ClaimsOutcome } from '../core/result.js';
import { findLostClaims, formatLostClaim, formatRunSummary, isRenewalDue, nextRunDelay } from '../core/session.js';
import { parsePatchPaths } from '../front/claude.js';

const T = Date.parse('2026-11-30T12:00:00Z');
const claim = (taskId: string, agent: string, o: { started?: number; renewed?: number; ttl?: number } = {}): Claim => {
  const started = o.started ?? T - 10_000;
  const ttl = o.ttl ?? 600;
  return { taskId, path: `current_tasks/${taskId}.txt`, lock: { agent, started, files: [], ttl, ...(o.renewed ? { renewed: o.renewed } : {}) }, expiresAt: Math.max(started, o.renewed ?? 0) + ttl * 1000 };
};
const state = (claims: Claim[]): ClaimsState => ({ refName: 'refs/heads/main', policy: policyFromText(undefined).policy, entries: [], claims, paths: [] });

describe('run loop backoff', () => {
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [9, 256_000],
    [10, 300_000],
    [60, 300_000],
  ])('after %i failing runs in a row: wait %i ms', (failures, ms) => expect(nextRunDelay(failures, 50)).toBe(ms));
  it('after a success: at once, unless the run took under a second (no spinning)', () => {
    expect(nextRunDelay(0, 5000)).toBe(0);
    expect(nextRunDelay(0, 10)).toBe(1000);
  });
  it('summary line', () => {
    expect(formatRunSummary({ run: 3, exitCode: 1, signal: null, durationMs: 20, log: '/r/.git/agent-hooks/logs/a/x.log', nextInMs: 4000 })).toBe('agent-hooks run: run 3 exited 1 after 0.0 s; log /r/.git/agent-hooks/logs/a/x.log; next run in 4.0 s');
    expect(formatRunSummary({ run: 1, exitCode: null, signal: 'SIGKILL', durationMs: 65_000, log: 'l' })).toBe('agent-hooks run: run 1 was killed by SIGKILL after 65 s; log l; stopping');
  });
});

describe('heartbeat', () => {
  it.each([
    ['just renewed', [claim('a', 'me', { started: T - 1000 })], undefined, false],
    ['a third of the ttl passed', [claim('a', 'me', { started: T - 200_000 })], undefined, true],
    ['renewed recently, long after start', [claim('a', 'me', { started: T - 3_000_000, renewed: T - 5000 })], undefined, false],
    ['the shortest ttl decides', [claim('a', 'me', { started: T - 30_000, ttl: 7200 }), claim('b', 'me', { started: T - 30_000, ttl: 60 })], undefined, true],
    ['--every overrides ttl/3', [claim('a', 'me', { started: T - 2000 })], 1000, true],
  ] as const)('%s: due=%s', (_, mine, every, due) => expect(isRenewalDue(mine, T, every)).toBe(due));

  it('renews every active claim of the agent in one change, and nothing else', () => {
    const plan = planRenewAll(state([claim('a', 'me', { started: T - 300_000 }), claim('b', 'me', { ttl: 7200 }), claim('c', 'other', { started: T - 300_000 }), claim('old', 'me', { started: T - 700_000 })]), 'me', T);
    expect(plan.kind).toBe('change');
    if (plan.kind !== 'change') return;
    expect([...plan.writes.keys()]).toEqual(['current_tasks/a.txt', 'current_tasks/b.txt']);
    for (const text of plan.writes.values()) expect(text).toMatch(/^agent: me\n.*renewed: 2026-11-30T12:00:00Z\n/s);
    expect(plan.message).toBe('heartbeat: renew a, b');
    expect(formatOutcome(plan.outcome)).toEqual(['renewed a until 2026-11-30T12:10:00Z', 'renewed b until 2026-11-30T14:00:00Z']);
  });

  it('never takes back a claim another agent holds, nor revives an expired one', () => {
    const taken = state([claim('a', 'agent-5', { started: T - 1000 }), claim('b', 'me', { started: T - 700_000 })]);
    expect(planRenewAll(taken, 'me', T, { force: true })).toEqual({ kind: 'settled', outcome: { kind: 'idle', reason: 'no active claims to renew' } });
    expect(planRenewAll(state([claim('a', 'me')]), 'me', T)).toEqual({ kind: 'settled', outcome: { kind: 'idle', reason: 'no renewal due' } });
  });
});

describe('lost claims', () => {
  const remembered = (taskId: string, expiresAt: number) => ({ taskId, expiresAt });
  it.each([
    ['still mine and active', [remembered('a', T + 60_000)], [claim('a', 'me')], []],
    ['mine, expired', [remembered('a', T - 5000)], [claim('a', 'me', { started: T - 700_000 })], [{ taskId: 'a', kind: 'expired', expiredAt: T - 100_000 }]],
    ['taken over', [remembered('a', T - 5000)], [claim('a', 'agent-5', { started: T - 1000 })], [{ taskId: 'a', kind: 'taken', holder: 'agent-5', expiredAt: T - 5000, holderExpiresAt: T + 599_000 }]],
    ['gone after its expiry (gc)', [remembered('a', T - 5000)], [], [{ taskId: 'a', kind: 'gone', expiredAt: T - 5000 }]],
    ['gone before its expiry: released elsewhere, not lost', [remembered('a', T + 5000)], [], []],
  ] as const)('%s', (_, mem, claims, lost) => expect(findLostClaims(mem, claims, 'me', T)).toEqual(lost));

  it('the notice', () => {
    expect(formatLostClaim({ taskId: 'parser', kind: 'taken', expiredAt: T, holder: 'agent-5', holderExpiresAt: T + 600_000 })).toBe(
      'WARNING: your claim parser expired at 2026-11-30T12:00:00Z; now held by agent-5 until 2026-11-30T12:10:00Z; fix: stop changing its files; agent-hooks release parser forgets it',
    );
  });
});

describe('typed outcomes render the CLI lines', () => {
  it.each([
    [{ kind: 'held', task: 'p', holder: { task: 'p', agent: 'agent-2', expiresAt: T, files: ['src/**'] } }, 3, 'ERROR: p: held by agent-2 until 2026-11-30T12:00:00Z (files src/**); fix: wait for the claim to expire or ask agent-2; agent-hooks status p'],
    [{ kind: 'no-claim', task: 'p', ref: 'refs/heads/main' }, 1, 'ERROR: p: no claim of this task on refs/heads/main; fix: agent-hooks status'],
    [{ kind: 'released', task: 'p' }, 0, 'released p'],
    [{ kind: 'gave-up', attempts: 12 }, 1, 'ERROR: gave up after 12 attempts: the claims ref kept moving; fix: try again'],
  ] as [ClaimsOutcome, number, string][])('%o', (outcome, exit, line) => {
    expect(exitCodeOfOutcome(outcome)).toBe(exit);
    expect(formatOutcome(outcome)).toEqual([line]);
  });
});

describe('status --json names lost claims', () => {
  it('a lost array beside the unchanged fields, the WARNING lines still there, exit 1', () => {
    const claims = [claim('parser', 'agent-5', { started: T - 1000 }), claim('lexer', 'me', { started: T - 700_000 })];
    const lost = findLostClaims([{ taskId: 'parser', expiresAt: T - 5000 }, { taskId: 'lexer', expiresAt: T - 100_000 }, { taskId: 'gone', expiresAt: T - 1000 }], claims, 'me', T);
    const report = statusJson('refs/heads/main', 'a'.repeat(40), claims, [], T, 'me', [], lost);
    const r = renderStatus({ kind: 'status', report, warnings: [], lost }, true, 'me');
    expect(r.exitCode).toBe(1);
    const warnings = r.lines.filter((l) => l.startsWith('WARNING: '));
    expect(warnings).toEqual(lost.map(formatLostClaim));
    expect(warnings).toHaveLength(3);
    const json = JSON.parse(r.lines.filter((l) => !l.startsWith('WARNING: ')).join('\n'));
    expect(json.lost).toEqual([
      { task: 'gone', kind: 'gone', expiredAt: '2026-11-30T11:59:59Z' },
      { task: 'lexer', kind: 'expired', expiredAt: '2026-11-30T11:58:20Z' },
      { task: 'parser', kind: 'taken', expiredAt: '2026-11-30T11:59:55Z', heldBy: 'agent-5', heldUntil: '2026-11-30T12:09:59Z' },
    ]);
    // Additive: the fields before it are those of a status without lost claims.
    const { lost: none, ...rest } = JSON.parse(renderStatus({ kind: 'status', report: statusJson('refs/heads/main', 'a'.repeat(40), claims, [], T, 'me'), warnings: [], lost: [] }, true, 'me').lines.join('\n'));
    expect(none).toEqual([]);
    const { lost: _lost, ...restLost } = json;
    expect(restLost).toEqual(rest);
    expect(Object.keys(rest)).toEqual(['ref', 'oid', 'now', 'me', 'claims', 'invalid', 'recent']);
  });
});

describe("Codex's apply_patch", () => {
  it('names every path a patch writes', () => {
    const patch = '*** Begin Patch\n*** Update File: src/a.ts\n@@\n-x\n+y\n*** Add File: docs/new.md\n+hi\n*** Delete File: old.txt\n*** Update File: src/b.ts\n*** Move to: src/c.ts\n*** End Patch\n';
    expect(parsePatchPaths(patch)).toEqual(['src/a.ts', 'docs/new.md', 'old.txt', 'src/b.ts', 'src/c.ts']);
    expect(parsePatchPaths('+*** Update File: not/a/header.ts\n')).toEqual([]);
  });
});
