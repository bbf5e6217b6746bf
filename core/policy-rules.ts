// A policy change may not weaken another agent's active claim (issue 13, item 3): the pushed
// `agent-hooks.json` is judged against the claims at the claims ref's old tip. Pure.
import type { Claim } from './claim.js';
import { compilePattern } from './glob.js';
import { LeaseTable, leasesOf } from './lease.js';
import { lockExpiresAt } from './lock-file.js';
import { POLICY_FILE, type Policy } from './policy.js';
import { formatTime, quote } from './text.js';
import type { Verdict } from './verdict.js';

/** Inputs of {@link checkPolicyChange}. */
export interface PolicyChangeInput {
  /** Where to report: the claims ref. */
  refName: string;
  /** The policy at the old tip, and the pushed one (the defaults when the file is deleted). */
  oldPolicy: Policy;
  newPolicy: Policy;
  /** Every valid claim at the old tip. */
  claims: readonly Claim[];
  /**
   * When `locks.dir` moves: the valid claims found in the new dir of the new tip (read with the
   * new policy). A claim that is not there, the same, is voided.
   */
  movedClaims?: readonly Claim[];
  /** The files of the new tip plus the pushed paths, asked for only when `leases.exempt` grows. */
  paths: () => readonly string[];
  pusher?: string;
  /** Server time, epoch ms. */
  now: number;
}

const sameLease = (a: Claim, b: Claim) => a.lock.agent === b.lock.agent && [...a.lock.files].sort().join('\0') === [...b.lock.files].sort().join('\0');

/**
 * Each active claim of another agent that the new policy would void or weaken is an error naming
 * the claim and how: `locks.dir` moved without its lock file, a lower `locks.ttl` ending it
 * sooner, or `leases.exempt` taking paths out of its lease (a path of the tree, or a lease glob
 * that an exempt glob matches literally, or the other way round). Overridable by an admin; the
 * pusher's own claims and expired ones may be weakened.
 */
export function checkPolicyChange(input: PolicyChangeInput): Verdict[] {
  const { oldPolicy, newPolicy, now } = input;
  const others = input.claims.filter((c) => c.expiresAt > now && c.lock.agent !== input.pusher);
  if (others.length === 0) return [];
  const verdicts: Verdict[] = [];
  const addedExempt = newPolicy.leases.exempt.filter((g) => !oldPolicy.leases.exempt.includes(g));
  const wasExempt = oldPolicy.leases.exempt.map((g) => compilePattern(g, 'miss'));
  const isNewlyExempt = (() => {
    const matchers = addedExempt.map((g) => compilePattern(g));
    return (path: string) => matchers.some((m) => m(path)) && !wasExempt.some((m) => m(path));
  })();
  let paths: readonly string[] | undefined;
  for (const claim of others) {
    const how: string[] = [];
    if (newPolicy.locks.dir !== oldPolicy.locks.dir) {
      const moved = input.movedClaims?.find((c) => c.taskId === claim.taskId);
      if (!moved || !sameLease(moved, claim) || moved.expiresAt < claim.expiresAt) how.push(`locks.dir moves to ${quote(newPolicy.locks.dir)} without its lock file`);
    }
    const expiresAt = lockExpiresAt(claim.lock, newPolicy.locks.ttl);
    if (expiresAt < claim.expiresAt) how.push(`locks.ttl ${newPolicy.locks.ttl} ends it at ${formatTime(expiresAt)}${expiresAt <= now ? ' (already past)' : ''}`);
    if (addedExempt.length > 0) {
      const [lease] = leasesOf([claim], now);
      if (lease) {
        const mine = new LeaseTable([lease], oldPolicy.leases.exempt);
        const literal = lease.include.flatMap((g) => addedExempt.filter((e) => compilePattern(e)(g) || mine.match(e).length > 0).map((e) => quote(e)));
        paths ??= input.paths();
        const taken = paths.filter((p) => isNewlyExempt(p) && mine.match(p).length > 0);
        if (literal.length > 0 || taken.length > 0) {
          how.push(`leases.exempt ${literal.length > 0 ? [...new Set(literal)].join(', ') : addedExempt.map(quote).join(', ')} takes ${taken.length > 0 ? `${taken.slice(0, 3).map(quote).join(', ')}${taken.length > 3 ? ` and ${taken.length - 3} more` : ''}` : 'paths'} out of its lease`);
        }
      }
    }
    if (how.length === 0) continue;
    verdicts.push({
      severity: 'error',
      rule: 'policy',
      where: `${input.refName}: ${POLICY_FILE}`,
      what: `the policy change would void or weaken the active claim of task ${claim.taskId} held by ${claim.lock.agent} until ${formatTime(claim.expiresAt)} (${claim.lock.files.map(quote).join(', ') || 'no files'}): ${how.join('; ')}`,
      fix: `wait until the claim is released or expires (agent-hooks status ${claim.taskId}), or ask an admin to push with -o override=<reason>`,
      overridable: true,
    });
  }
  return verdicts;
}
