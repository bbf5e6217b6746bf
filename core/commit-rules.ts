// The pre-commit decision (DESIGN.md "pre-commit"): the same lock and lease checks the server
// makes, on what is staged, so an agent learns before it pushes. Pure.
import type { Claim, TreeEntry } from './claim.js';
import { checkLockEntry } from './claims-rules.js';
import type { ClientAgentSource } from './identity.js';
import { checkBrokenGlobs, checkLeasedChanges } from './lease-rules.js';
import { quote } from './text.js';
import { parsePolicy, POLICY_FILE, type Policy } from './policy.js';
import type { Verdict } from './verdict.js';

/** Inputs of {@link checkCommit}. */
export interface CommitInput {
  /** The branch being committed to (`refs/heads/...`), or `HEAD` when detached. */
  refName: string;
  /** The claims branch as a local ref (`refs/heads/main`): lock files are checked only there. */
  claimsRef: string;
  agent: { id?: string; source: ClientAgentSource };
  /** Where claims and policy were read (`refs/remotes/origin/main`), or undefined when nowhere. */
  claimsView?: string;
  policy: Policy;
  policyProblems: readonly string[];
  claims: readonly Claim[];
  staged: readonly string[];
  /** Index entries of staged files in the locks dir (`git ls-files --stage`), sizes included. */
  stagedLocks: readonly TreeEntry[];
  /** Blob contents by oid, for the readable staged lock files. */
  blobs: ReadonlyMap<string, Uint8Array>;
  /** The staged policy file when the commit changes it: its text, or null when it is deleted. */
  stagedPolicy?: string | null;
  /** The files of the index (the tree being committed), for globs that look broken; asked for only then. */
  paths?: () => readonly string[];
  /** `git config agenthooks.guard`: `warn` turns errors into warnings. */
  guard: 'reject' | 'warn';
  /** Epoch ms. */
  now: number;
}

/**
 * Checks a commit before it is made: a staged policy file and staged lock files against the
 * schema (rule 1, on the claims branch only, as the server does; a glob that looks quoted or
 * commented and matches no file warns) and staged paths against the leases of other agents (rule 5),
 * with the lines pre-receive would print.
 */
export function checkCommit(input: CommitInput): Verdict[] {
  const verdicts: Verdict[] = input.policyProblems.map((problem) => ({
    severity: 'warning',
    rule: 'policy',
    where: `${input.claimsView}: ${POLICY_FILE}`,
    what: `${problem} (the defaults apply until a push fixes it)`,
    overridable: false,
  }));
  if (input.refName === input.claimsRef) {
    // The same line pre-receive gives for a pushed policy file (core/claims-rules.ts).
    if (typeof input.stagedPolicy === 'string') {
      const result = parsePolicy(input.stagedPolicy);
      if (!result.ok) {
        for (const problem of result.problems) verdicts.push({ severity: 'error', rule: 'policy', where: `${input.refName}: ${POLICY_FILE}`, what: problem, fix: `fix ${POLICY_FILE} and push again`, overridable: false });
      }
    }
    for (const e of input.stagedLocks) {
      const { claim, verdicts: problems } = checkLockEntry(e, '', input.policy, input.blobs, input.now);
      verdicts.push(...problems);
      if (claim && input.paths) verdicts.push(...checkBrokenGlobs(claim, input.paths, quote(claim.path)));
    }
  }
  const leased = checkLeasedChanges([{ refName: input.refName, paths: new Map(input.staged.map((p) => [p, ''])) }], input.claims, input.policy.leases.exempt, input.agent.id, input.now);
  verdicts.push(...leased);
  if (leased.length > 0 && input.agent.id === undefined) {
    verdicts.push({
      severity: 'warning',
      rule: 'identity',
      where: 'commit',
      what: `no agent id (${input.agent.source === 'none' ? 'AGENT_ID, agenthooks.agent and user.name are unset' : `${input.agent.source} is not an agent id`}), so every lease counts as another agent's`,
      fix: 'export AGENT_ID=<your-agent-id>, or git config agenthooks.agent <your-agent-id>',
      overridable: false,
    });
  }
  if (input.guard === 'warn') {
    return verdicts.map((v) => (v.severity === 'error' ? { ...v, severity: 'warning', what: `${v.what} (agenthooks.guard is warn)`, fix: undefined } : v));
  }
  return verdicts;
}
