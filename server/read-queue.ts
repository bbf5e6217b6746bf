// pre-receive's part of the landing queue (DESIGN.md "The landing queue"): the facts about pushed
// queue refs and direct pushes to tested refs, read from git, judged by the pure core/queue.ts.
import { checkQueueRequired, checkQueueUpdates, checkReservedRefs, isQueueRef, QUEUE_PREFIX } from '../core/queue.js';
import { isDelete, isZeroOid } from '../core/ref-update.js';
import { isTestedRef } from '../core/sampling.js';
import type { Verdict } from '../core/verdict.js';
import { gitText, isAncestor, readChangedPaths, readNetChangedPaths, runGit, type GitOptions } from '../git/git.js';
import { changeExcludes, type readPushInput } from './read-push.js';


/**
 * The queue's verdicts for one push: the refs only the lander writes ({@link checkReservedRefs}),
 * the enqueue rules for every pushed `refs/land/` ref (object type, whether it holds a commit
 * beyond the claims ref and shares its history, the entries that exist), and `queue.required` for
 * direct pushes to tested refs, judged on the pushed commits' changes and the net change from the
 * ref's old value (or the claims ref's tip), as rule 5 (b) does: a merge that takes an old tree
 * changes nothing in (a). Works in quarantine.
 * @throws GitError when git fails.
 */
export function readQueueVerdicts(input: ReturnType<typeof readPushInput>, git: GitOptions, doctorPrefix: string): Verdict[] {
  const queue = input.policy.queue;
  const queued = input.updates.filter((u) => isQueueRef(u.refName));
  const verdicts: Verdict[] = [...checkReservedRefs(input.updates, doctorPrefix)];
  if (queued.length > 0) {
    const tip = input.claimsTip;
    const existing = new Map<string, string>();
    for (const line of gitText(['for-each-ref', '--format=%(objectname) %(refname)', QUEUE_PREFIX], git).split('\n').filter(Boolean)) {
      existing.set(line.slice(line.indexOf(' ') + 1), line.slice(0, line.indexOf(' ')));
    }
    const facts = queued.map((update) => {
      if (isDelete(update)) return { update, beyondMain: true, related: true };
      const type = gitText(['cat-file', '-t', update.newOid], git);
      if (type !== 'commit' || !tip) return { update, type, beyondMain: true, related: tip === undefined || type !== 'commit' };
      const related = runGit(['merge-base', tip, update.newOid], { ...git, okExitCodes: [0, 1] }).exitCode === 0;
      return { update, type, related, beyondMain: !isAncestor(update.newOid, tip, git) };
    });
    verdicts.push(...checkQueueUpdates({ facts, pusher: input.pusher.id, queue, claimsRef: input.claimsRef, existing }));
  }
  const test = input.policy.test;
  if (queue.enabled && queue.required) {
    for (const u of input.updates) {
      const tested = test ? isTestedRef(u.refName, test, input.claimsRef) : u.refName === input.claimsRef;
      if (isDelete(u) || isQueueRef(u.refName) || !tested) continue;
      const changed = input.changes.find((c) => c.refName === u.refName)?.paths ?? readChangedPaths(u.newOid, changeExcludes(u, input.claimsTip), git);
      const base = isZeroOid(u.oldOid) ? input.claimsTip : u.oldOid;
      const net = u.refName === input.claimsRef && input.claimsNet ? input.claimsNet : base ? readNetChangedPaths(base, u.newOid, git) : [];
      verdicts.push(...checkQueueRequired(u, [...new Set([...changed.keys(), ...net])], input.policy, queue));
    }
  }
  return verdicts;
}
