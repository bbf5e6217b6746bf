// What pre-receive does with a push after rules 1-6 (DESIGN.md "What pre-receive rejects", rule 7
// and the override): which ref updates run tests, and the final decision once the tests are
// known. Pure: the hook gathers the inputs, runs the tests this plans, and renders the outcome.
import { isQueueRef } from './queue.js';
import type { Policy } from './policy.js';
import { isDelete, type RefUpdate } from './ref-update.js';
import { isTestedRef } from './sampling.js';
import { errorsOf, formatSummary, formatVerdict, type Verdict } from './verdict.js';

/** One ref update whose tests must run, with the paths it changes (repository paths). */
export interface TestRun {
  update: RefUpdate;
  changed: string[];
}

/**
 * Rule 7's plan: the ref updates of a push whose tests run. A ref runs tests when `test.refs`
 * names it (default: the claims ref), unless it is a deletion or every path it changes is a
 * lock file (claims must stay fast). `changedPaths` gives the paths the pushed commits change
 * (rule 5 (a)); `netChangedPaths` the whole tree diff against the old tip (rule 5 (b)): the
 * lock-only shortcut needs both to be lock files only, since a merge that takes an old version of
 * a file shows in the tree diff alone. The run's `changed` is the union. Both are called only
 * for tested refs. Nothing runs when the policy has no `test` section.
 */
export function planTestRuns(updates: readonly RefUpdate[], policy: Policy, claimsRef: string, changedPaths: (u: RefUpdate) => string[], netChangedPaths: (u: RefUpdate) => readonly string[] = () => []): TestRun[] {
  const test = policy.test;
  if (!test) return [];
  return updates
    // Queue entries run no tests here: the lander tests them, a batch at a time.
    .filter((u) => !isDelete(u) && !isQueueRef(u.refName) && isTestedRef(u.refName, test, claimsRef))
    .map((update) => ({ update, changed: [...new Set([...changedPaths(update), ...netChangedPaths(update)])] }))
    .filter((run) => !(run.changed.length > 0 && run.changed.every((p) => p.startsWith(`${policy.locks.dir}/`))));
}

/** What the tests of a push gave: their output lines and whether all passed (true when none ran). */
export interface TestOutcome {
  lines: string[];
  passed: boolean;
}

/** The record an accepted override leaves in the override log. */
export interface OverrideDecision {
  admin: string;
  reason: string;
  refs: string[];
  /** The errors turned into warnings, as output lines. */
  overridden: string[];
}

/**
 * The final answer to a push: the lines to print, the exit code, the override to log when one was
 * used, and whether the push was refused on its merits (a doctor push is refused either way).
 */
export interface PushDecision {
  lines: string[];
  exitCode: 0 | 1;
  rejected: boolean;
  override?: OverrideDecision;
}

/** Inputs of {@link decidePush}. */
export interface PushDecisionInput {
  updates: readonly RefUpdate[];
  /** The verdicts of rules 1-6 (checkPush), an admin's override already applied. */
  verdicts: readonly Verdict[];
  /** The outcome of the tests; undefined when they did not run because a rule already refused the push. */
  tests?: TestOutcome;
  /** The pusher, and the reason of its `-o override=<reason>` (used only when the verdicts hold an override). */
  pusher?: string;
  overrideReason?: string;
  /** Refs of `agent-hooks doctor`'s synthetic push: judged as usual, then always refused. */
  doctorRefPrefix: string;
  /** This hook's version, named in the doctor line. */
  version: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Decides a push from the verdicts of rules 1-6 and the outcome of rule 7: any error refuses it;
 * failing tests refuse it unless an admin's override was accepted (then a warning); an accepted
 * push with an override returns the record to log. A push of only doctor refs is always refused,
 * with a line saying how it was judged.
 */
export function decidePush(input: PushDecisionInput): PushDecision {
  const lines = input.verdicts.map(formatVerdict);
  const tests = input.tests ?? { lines: [], passed: true };
  lines.push(...tests.lines);
  let exitCode: 0 | 1 = errorsOf(input.verdicts).length > 0 ? 1 : 0;
  const overridden = input.verdicts.some((v) => v.rule === 'override');
  if (!tests.passed && overridden) {
    lines.push(`WARNING: push: the sampled tests did not pass (overridden by admin ${input.pusher})`);
  } else if (!tests.passed) {
    exitCode = 1;
    lines.push(`agent-hooks: push rejected: the sampled tests did not pass; none of its ${plural(input.updates.length, 'ref update')} was applied`);
  } else {
    const summary = formatSummary(input.verdicts, input.updates.length);
    if (summary) lines.push(summary);
  }
  const decision: PushDecision = { lines, exitCode, rejected: exitCode !== 0 };
  if (exitCode === 0 && overridden) {
    decision.override = {
      admin: input.pusher ?? 'unknown',
      reason: input.overrideReason ?? '',
      refs: input.updates.map((u) => u.refName),
      overridden: [...input.verdicts.filter((v) => v.overridden).map(formatVerdict), ...(tests.passed ? [] : ['the sampled tests did not pass'])],
    };
  }
  if (input.updates.length > 0 && input.updates.every((u) => u.refName.startsWith(input.doctorRefPrefix))) {
    lines.push(`agent-hooks doctor: pre-receive ${input.version} judged the synthetic push (${exitCode === 0 ? 'accepted' : 'rejected'}); refusing it so nothing lands`);
    decision.exitCode = 1;
  }
  return decision;
}
