// Table tests of the pure decision after rules 1-6: which refs run tests, and the final answer.
import { describe, expect, it } from 'vitest';
import { defaultPolicy, type Policy } from '../core/policy.js';
import { decidePush, planTestRuns } from '../core/push-decision.js';
import type { RefUpdate } from '../core/ref-update.js';
import type { Verdict } from '../core/verdict.js';

const A = '1'.repeat(40);
const B = '2'.repeat(40);
const Z = '0'.repeat(40);
const up = (refName: string, oldOid = A, newOid = B): RefUpdate => ({ oldOid, newOid, refName });
const tested: Policy = { ...defaultPolicy(), test: { command: ['true'], files: ['test/**'], sample: 0.1, timeout: 300 } as Policy['test'] };
const paths: Record<string, string[]> = { 'refs/heads/main': ['src/a.ts'], 'refs/heads/claims-only': ['current_tasks/x.txt'] };
const changed = (u: RefUpdate) => paths[u.refName] ?? [];

describe('planTestRuns', () => {
  const refs = (policy: Policy, updates: RefUpdate[], claimsRef = 'refs/heads/main') => planTestRuns(updates, policy, claimsRef, changed).map((r) => r.update.refName);
  it('tests the claims ref', () => expect(refs(tested, [up('refs/heads/main'), up('refs/heads/feature')])).toEqual(['refs/heads/main']));
  it('runs nothing without a test policy', () => expect(refs(defaultPolicy(), [up('refs/heads/main')])).toEqual([]));
  it('skips a deletion', () => expect(refs(tested, [up('refs/heads/main', A, Z)])).toEqual([]));
  it('skips a push of lock files only', () => expect(refs(tested, [up('refs/heads/claims-only')], 'refs/heads/claims-only')).toEqual([]));
  it('passes the changed paths on', () => expect(planTestRuns([up('refs/heads/main')], tested, 'refs/heads/main', changed)[0]!.changed).toEqual(['src/a.ts']));
});

describe('decidePush', () => {
  const error: Verdict = { severity: 'error', rule: 'lease', where: 'refs/heads/main: src/a.ts', what: 'is leased', overridable: true };
  const override: Verdict = { severity: 'warning', rule: 'override', where: 'push', what: 'override by admin root', overridable: false };
  const base = { updates: [up('refs/heads/main')], doctorRefPrefix: 'refs/agent-hooks/doctor/', version: '9.9.9' };
  it('accepts a clean push silently', () => expect(decidePush({ ...base, verdicts: [] })).toEqual({ lines: [], exitCode: 0, rejected: false }));
  it('refuses on an error', () => {
    const d = decidePush({ ...base, verdicts: [error] });
    expect([d.exitCode, d.rejected, d.lines.at(-1)]).toEqual([1, true, 'agent-hooks: push rejected with 1 error; none of its 1 ref update was applied']);
  });
  it('refuses on failing tests', () => {
    const d = decidePush({ ...base, verdicts: [], tests: { lines: ['Tests: 0/1 passed'], passed: false } });
    expect(d.lines).toEqual(['Tests: 0/1 passed', 'agent-hooks: push rejected: the sampled tests did not pass; none of its 1 ref update was applied']);
    expect(d.exitCode).toBe(1);
  });
  it('lets an admin override failing tests and logs it', () => {
    const d = decidePush({ ...base, verdicts: [override], tests: { lines: [], passed: false }, pusher: 'root', overrideReason: 'hotfix' });
    expect(d.exitCode).toBe(0);
    expect(d.override).toEqual({ admin: 'root', reason: 'hotfix', refs: ['refs/heads/main'], overridden: ['the sampled tests did not pass'] });
  });
  it("refuses doctor's synthetic push even when it passes", () => {
    const d = decidePush({ ...base, updates: [up('refs/agent-hooks/doctor/x')], verdicts: [] });
    expect([d.exitCode, d.rejected, d.lines.at(-1)]).toEqual([1, false, 'agent-hooks doctor: pre-receive 9.9.9 judged the synthetic push (accepted); refusing it so nothing lands']);
  });
});
