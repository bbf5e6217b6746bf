// Expands what post-receive spooled into what is announced: new commits deduplicated
// against every other ref (as git-multimail does), force pushes, diffstats, claim changes.
import { diffLocksDir, lockBlobsToRead, parseClaims } from '../core/claims-rules.js';
import type { ClaimEvent, Notification, RefEvent } from '../core/notification.js';
import { isCreate, isDelete, type RefUpdate } from '../core/ref-update.js';
import { formatTime } from '../core/text.js';
import { gitText, isAncestor, listTree, readObjects, runGit, type GitOptions } from './git.js';
import { readPolicyAt } from './read-policy.js';

/** New commits read per ref; more are counted, not listed. */
export const MAX_COMMITS_READ = 500;

/**
 * A push as it landed, with every oid it needs resolved at that moment (refs may move again
 * right after), made by the sender from the raw event the post-receive stub spooled
 * (hooks/raw-event.ts). It is expanded into a {@link Notification}; objects never change, so the
 * expansion can happen later, off the push's path.
 */
export interface PushEvent {
  id: string;
  time: string;
  repo: string;
  pusher: string;
  claimsRef: string;
  updates: RefUpdate[];
  /** The oids of every other ref right after the push: commits reachable from them are not new. */
  others: string[];
}

/** Expands a push event into the notification: new commits (deduplicated), force pushes, diffstats, claims. */
export function readNotification(event: PushEvent, git: GitOptions, now: number): Notification {
  const { updates, others, claimsRef } = event;
  const olds = updates.filter((u) => !isCreate(u)).map((u) => u.oldOid);
  const announced = new Set<string>();
  const refs: RefEvent[] = updates.map((u) => {
    const kind = isCreate(u) ? 'create' : isDelete(u) ? 'delete' : 'update';
    const event: RefEvent = { refName: u.refName, kind, oldOid: u.oldOid, newOid: u.newOid, commits: [], moreCommits: 0, discarded: 0 };
    if (kind === 'delete') return event;
    const exclude = [...new Set([...others, ...olds])];
    const log = runGit(['rev-list', '--no-commit-header', '--format=%H%x00%an%x00%s', '--stdin'], { ...git, input: [u.newOid, ...exclude.map((o) => `^${o}`)].join('\n') + '\n' })
      .stdout.toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\0') as [string, string, string])
      .filter(([oid]) => !announced.has(oid));
    for (const [oid] of log) announced.add(oid);
    event.commits = log.slice(0, MAX_COMMITS_READ).map(([oid, author, subject]) => ({ oid, author, subject }));
    event.moreCommits = Math.max(0, log.length - MAX_COMMITS_READ);
    if (kind === 'update' && !u.refName.startsWith('refs/tags/')) {
      if (!isAncestor(u.oldOid, u.newOid, git)) event.discarded = Number(gitText(['rev-list', '--count', u.oldOid, '--not', u.newOid], git));
      event.diffstat = gitText(['diff', '--shortstat', u.oldOid, u.newOid], git).trim() || undefined;
    }
    return event;
  });
  const claimsUpdate = updates.find((u) => u.refName === claimsRef && !isDelete(u));
  const claims = claimsUpdate ? readClaimEvents(claimsUpdate, git, now) : [];
  return { id: event.id, time: event.time, repo: event.repo, pusher: event.pusher, refs, claims };
}

/** Claims taken, released, renewed or changed by an update of the claims ref (policy of the old tip). */
function readClaimEvents(u: RefUpdate, git: GitOptions, now: number): ClaimEvent[] {
  const oldTip = isCreate(u) ? undefined : u.oldOid;
  const { policy } = readPolicyAt(oldTip, git);
  const oldEntries = oldTip ? listTree(oldTip, policy.locks.dir, git) : [];
  const newEntries = listTree(u.newOid, policy.locks.dir, git);
  const diff = diffLocksDir(policy.locks.dir, oldEntries, newEntries);
  const blobs = new Map<string, Uint8Array>();
  for (const [oid, object] of readObjects(lockBlobsToRead([...oldEntries, ...newEntries]), git)) if (object) blobs.set(oid, object.content);
  return claimEventsOf(diff.tasks.map((t) => t.taskId), parseClaims(oldEntries, policy, blobs, now), parseClaims(newEntries, policy, blobs, now), now);
}

/** Pure: the claim events for the touched tasks, given the claims before and after. */
export function claimEventsOf(tasks: readonly string[], before: ReturnType<typeof parseClaims>, after: ReturnType<typeof parseClaims>, now: number): ClaimEvent[] {
  return tasks.flatMap((taskId): ClaimEvent[] => {
    const was = before.find((c) => c.taskId === taskId);
    const is = after.find((c) => c.taskId === taskId);
    const until = is ? formatTime(is.expiresAt) : undefined;
    if (!is) return was ? [{ kind: was.expiresAt <= now ? 'expired' : 'released', taskId, agent: was.lock.agent, files: was.lock.files }] : [];
    if (!was || was.lock.agent !== is.lock.agent || was.expiresAt <= now) return [{ kind: 'taken', taskId, agent: is.lock.agent, files: is.lock.files, until }];
    if ((is.lock.renewed ?? 0) !== (was.lock.renewed ?? 0)) return [{ kind: 'renewed', taskId, agent: is.lock.agent, files: is.lock.files, until }];
    return [{ kind: 'changed', taskId, agent: is.lock.agent, files: is.lock.files, until }];
  });
}

