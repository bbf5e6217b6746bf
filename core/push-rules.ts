// The whole pre-receive decision for one push (DESIGN.md "What pre-receive rejects").
// Pure: the caller gathers the inputs from stdin, env and git; this returns the verdicts.
import type { Claim } from './claim.js';
import { checkClaimsRef, type ClaimsRefInput } from './claims-rules.js';
import { checkLeasedChanges, type RefChanges } from './lease-rules.js';
import { pushOption, pushOptionProblems, type Pusher } from './identity.js';
import { POLICY_FILE, type Policy } from './policy.js';
import type { RefUpdate } from './ref-update.js';
import { quote } from './text.js';
import { applyOverride, type Verdict } from './verdict.js';

/** Inputs of {@link checkPush}. */
export interface PushInput {
  updates: RefUpdate[];
  claimsRef: string;
  pusher: Pusher;
  pushOptions: readonly string[];
  /** `git config agenthooks.admin` values. */
  admins: readonly string[];
  /** Policy from the claims ref's old tip (defaults when missing or invalid). */
  policy: Policy;
  /** Problems of the old tip's policy file: reported as warnings, the defaults apply. */
  policyProblems: readonly string[];
  /** Every valid claim at the claims ref's old tip. */
  claims: Claim[];
  /** The paths each ref update changes (empty when no other agent holds a lease). */
  changes: RefChanges[];
  /** Present when the push updates the claims ref. */
  claimsUpdate?: Omit<ClaimsRefInput, 'update' | 'pusher' | 'policy' | 'now' | 'claims'>;
  /** Server time, epoch ms. */
  now: number;
}

/**
 * Decides a push: identity problems, the claims ref's rules, changes to paths leased by other
 * agents on every ref (rule 5), the policy warnings, and an admin's
 * `-o override=<reason>`, which turns overridable errors into warnings and is itself announced
 * as a warning. A non-admin asking for an override is an error.
 */
export function checkPush(input: PushInput): Verdict[] {
  let verdicts: Verdict[] = [...pushOptionProblems(input.pushOptions), ...input.pusher.verdicts];
  for (const problem of input.policyProblems) {
    verdicts.push({
      severity: 'warning',
      rule: 'policy',
      where: `${input.claimsRef}: ${POLICY_FILE}`,
      what: `${problem} (the defaults apply until a push fixes it)`,
      fix: `fix ${POLICY_FILE} on ${input.claimsRef}`,
      overridable: false,
    });
  }
  const claimsUpdate = input.updates.find((u) => u.refName === input.claimsRef);
  if (claimsUpdate && input.claimsUpdate) {
    verdicts.push(...checkClaimsRef({ ...input.claimsUpdate, update: claimsUpdate, claims: input.claims, pusher: input.pusher.id, policy: input.policy, now: input.now }));
  }
  verdicts.push(...checkLeasedChanges(input.changes, input.claims, input.policy.leases.exempt, input.pusher.id, input.now));

  const reason = pushOption(input.pushOptions, 'override');
  if (reason !== undefined) {
    const admin = input.pusher.id;
    if (admin === undefined || !input.admins.includes(admin)) {
      verdicts.push({
        severity: 'error',
        rule: 'identity',
        where: 'push',
        what: `-o override is only for admins; ${quote(admin ?? 'the pusher')} is not one (git config agenthooks.admin)`,
        fix: 'push without -o override, or ask an admin',
        overridable: false,
      });
    } else {
      verdicts = applyOverride(verdicts, admin, quote(reason || '(no reason given)'));
      verdicts.push({ severity: 'warning', rule: 'override', where: 'push', what: `override by admin ${admin} accepted and logged: ${quote(reason || '(no reason given)')}`, overridable: false });
    }
  }
  return verdicts;
}
