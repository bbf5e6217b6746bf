// Rules 1, 2, 3 and 6 of DESIGN.md "What pre-receive rejects": the claims ref's own update.
// Pure: tree listings and blob contents in (read by the caller), verdicts out.
import type { Claim, TreeEntry } from './claim.js';
import { classifyLocksDirEntry, LOCK_FILE_MAX_BYTES, lockExpiresAt, parseLockFile } from './lock-file.js';
import { leasesOf, type Lease } from './lease.js';
import { checkBrokenGlobs, checkLeaseOverlaps, type TreePaths } from './lease-rules.js';
import { defaultPolicy, parsePolicy, POLICY_FILE, type Policy } from './policy.js';
import { checkPolicyChange } from './policy-rules.js';
import { isDelete, type RefUpdate } from './ref-update.js';
import { formatTime, quote } from './text.js';
import { heldFix, type Verdict } from './verdict.js';

/** The files of one task in the old and new tree of the claims ref, for a task the push touches. */
export interface TaskChange {
  taskId: string;
  old: TreeEntry[];
  new: TreeEntry[];
}

/** What a push changes in the locks dir: touched tasks, and added or changed non-lock files. */
export interface LocksDirDiff {
  tasks: TaskChange[];
  changed: TreeEntry[];
}

/** Everything the claims check needs, gathered by the caller from git. */
export interface ClaimsRefInput {
  update: RefUpdate;
  /** The new tip descends from the old one (true for a creation). */
  fastForward: boolean;
  /** Policy from the old tip. */
  policy: Policy;
  /** The locks dir of the old and new tip compared ({@link diffLocksDir}). */
  diff: LocksDirDiff;
  /** Blob contents by oid, for every oid {@link lockBlobsToRead} asked for. */
  blobs: ReadonlyMap<string, Uint8Array>;
  /** Every valid claim at the old tip. */
  claims: readonly Claim[];
  /**
   * The files of the new tip plus the paths the push changes, for lease overlaps (rule 4). Asked
   * for only when the push adds or widens a lease, and then under the lease's globs' bases:
   * listing a large tree costs more than the rest of the check, and releases and renewals need no
   * paths.
   */
  paths: TreePaths;
  /** The pushed policy file when the push changes it: its text, or null when it is deleted. */
  newPolicyText?: string | null;
  /**
   * When the pushed policy moves `locks.dir`: the new tip's entries of the new dir (their blobs
   * in `blobs`), so that a claim moved along with the dir is not taken for a voided one.
   */
  movedLocks?: readonly TreeEntry[];
  pusher?: string;
  /** Server time, epoch ms. */
  now: number;
}

const SYMLINK = '120000';

const sameFiles = (a: readonly string[], b: readonly string[] | undefined) =>
  b !== undefined && [...a].sort().join('\0') === [...b].sort().join('\0');

/** Compares the locks dir of the old and new tree (entries from `ls-tree -r` of that dir). */
export function diffLocksDir(locksDir: string, oldEntries: readonly TreeEntry[], newEntries: readonly TreeEntry[]): LocksDirDiff {
  const key = (e: TreeEntry) => `${e.mode} ${e.oid}`;
  const oldByPath = new Map(oldEntries.map((e) => [e.path, e]));
  const newByPath = new Map(newEntries.map((e) => [e.path, e]));
  const changed = newEntries.filter((e) => oldByPath.get(e.path) === undefined || key(oldByPath.get(e.path)!) !== key(e));
  const removed = oldEntries.filter((e) => !newByPath.has(e.path));
  const byTask = (entries: readonly TreeEntry[]) => {
    const tasks = new Map<string, TreeEntry[]>();
    for (const e of entries) {
      const entry = classifyLocksDirEntry(e.path.slice(locksDir.length + 1));
      if (entry.kind === 'lock') tasks.set(entry.taskId, [...(tasks.get(entry.taskId) ?? []), e]);
    }
    return tasks;
  };
  const oldTasks = byTask(oldEntries);
  const newTasks = byTask(newEntries);
  const touched = new Set([...byTask(changed).keys(), ...byTask(removed).keys()]);
  const tasks = [...touched].sort().map((taskId) => ({ taskId, old: oldTasks.get(taskId) ?? [], new: newTasks.get(taskId) ?? [] }));
  return { tasks, changed };
}

/** The blob oids worth reading among these entries: regular files no larger than a lock file may be. */
export function lockBlobsToRead(entries: readonly TreeEntry[]): string[] {
  const readable = (e: TreeEntry) => e.type === 'blob' && e.mode !== SYMLINK && (e.size ?? 0) <= LOCK_FILE_MAX_BYTES;
  return [...new Set(entries.filter(readable).map((e) => e.oid))];
}

/** What one entry of the locks dir holds: a valid claim, an invalid lock file, or no lock file. */
export type LockEntryResult =
  | { kind: 'claim'; claim: Claim }
  | { kind: 'invalid'; problems: { what: string; fix: string; line?: number }[] }
  | { kind: 'other' };

/**
 * Parses one entry of the locks dir with its blob (from `blobs`, by oid): a claim with its expiry,
 * or the problems that make it invalid. Strays and ignored files are `other`.
 * @throws Error when a readable lock file's blob is missing from `blobs` (a caller bug).
 */
export function parseLockEntry(e: TreeEntry, policy: Policy, blobs: ReadonlyMap<string, Uint8Array>, now: number): LockEntryResult {
  const entry = classifyLocksDirEntry(e.path.slice(policy.locks.dir.length + 1));
  if (entry.kind !== 'lock') return { kind: 'other' };
  const invalid = (what: string, fix: string) => ({ kind: 'invalid' as const, problems: [{ what, fix }] });
  if (e.type !== 'blob' || e.mode === SYMLINK) {
    return invalid(`is a ${e.mode === SYMLINK ? 'symlink' : e.type === 'commit' ? 'submodule' : 'directory'}; a lock file must be a regular file`, `git rm --cached ${quote(e.path)} and add a regular file`);
  }
  if ((e.size ?? 0) > LOCK_FILE_MAX_BYTES) return invalid(`is ${e.size} bytes; the limit is ${LOCK_FILE_MAX_BYTES}`, 'keep only the lock fields in the file');
  const bytes = blobs.get(e.oid);
  if (bytes === undefined) throw new Error(`the content of ${e.path} (${e.oid}) was not read`);
  const result = parseLockFile(bytes, entry.format, { now, skew: policy.locks.skew });
  if (!result.ok) return { kind: 'invalid', problems: result.problems.map((p) => ({ what: p.message, fix: p.fix, line: p.line })) };
  return { kind: 'claim', claim: { taskId: entry.taskId, path: e.path, lock: result.lock, expiresAt: lockExpiresAt(result.lock, policy.locks.ttl) } };
}

/**
 * Rule 1 for one added or changed entry of the locks dir: a stray file or an invalid lock file
 * gives one error per problem, located at `<prefix><path>[:<line>]`; a valid one its claim.
 */
export function checkLockEntry(e: TreeEntry, prefix: string, policy: Policy, blobs: ReadonlyMap<string, Uint8Array>, now: number): { claim?: Claim; verdicts: Verdict[] } {
  const where = `${prefix}${quote(e.path)}`;
  const error = (at: string, what: string, fix: string): Verdict => ({ severity: 'error', rule: 'schema', where: at, what, fix, overridable: false });
  const entry = classifyLocksDirEntry(e.path.slice(policy.locks.dir.length + 1));
  if (entry.kind === 'stray') return { verdicts: [error(where, entry.reason, `git rm ${quote(e.path)}, or rename it`)] };
  const result = parseLockEntry(e, policy, blobs, now);
  if (result.kind === 'invalid') return { verdicts: result.problems.map((p) => error(`${where}${p.line ? `:${p.line}` : ''}`, p.what, p.fix)) };
  return { claim: result.kind === 'claim' ? result.claim : undefined, verdicts: [] };
}

/** Every valid claim among the entries of a locks dir (invalid lock files protect nothing). */
export function parseClaims(entries: readonly TreeEntry[], policy: Policy, blobs: ReadonlyMap<string, Uint8Array>, now: number): Claim[] {
  return entries.flatMap((e) => {
    const result = parseLockEntry(e, policy, blobs, now);
    return result.kind === 'claim' ? [result.claim] : [];
  });
}

/** A file of the locks dir that is not a valid lock file: where (path, line when known), what is wrong, the fix. */
export interface InvalidLockFile {
  path: string;
  line: number | null;
  problem: string;
  fix: string | null;
}

/**
 * Every problem of the files in a locks dir (rule 1 as it stands, not as a push changes it):
 * invalid lock files and stray files, one entry per problem, for `status` to show.
 */
export function findInvalidLockFiles(entries: readonly TreeEntry[], policy: Policy, blobs: ReadonlyMap<string, Uint8Array>, now: number): InvalidLockFile[] {
  return entries.flatMap((e) =>
    checkLockEntry(e, '', policy, blobs, now).verdicts.map((v) => {
      const line = /:(\d+)$/.exec(v.where)?.[1];
      return { path: e.path, line: line ? Number(line) : null, problem: v.what, fix: v.fix ?? null };
    }),
  );
}

/**
 * Judges the update of the claims ref: deletion and non-fast-forward (rule 6), the pushed policy
 * file, the schema of every added or changed file in the locks dir (rule 1), claims made for
 * someone else (rule 2), a policy change that weakens another agent's active claim, and changes to another agent's active claim or a second claim of a
 * claimed task (rule 3), and the pusher's new or widened leases against the others' (rule 4).
 * Expiry is judged by `now` with the old tip's policy.
 * @throws Error when a blob that {@link lockBlobsToRead} asked for is missing from `blobs`.
 */
export function checkClaimsRef(input: ClaimsRefInput): Verdict[] {
  const { update, policy } = input;
  const ref = update.refName;
  const verdicts: Verdict[] = [];
  const error = (rule: Verdict['rule'], where: string, what: string, fix: string, overridable = true) =>
    verdicts.push({ severity: 'error', rule, where, what, fix, overridable });

  if (isDelete(update)) {
    error('claims-ref', ref, 'the claims ref cannot be deleted: it holds every claim', 'push to another branch, or ask an admin to change agenthooks.claimsRef');
    return verdicts;
  }
  if (!input.fastForward) {
    error('claims-ref', ref, 'non-fast-forward push to the claims ref would discard claims', `git pull --rebase origin ${ref.replace(/^refs\/heads\//, '')}, then push again (never force)`);
  }

  if (input.newPolicyText !== undefined) {
    // A deleted policy file means the defaults.
    const result = input.newPolicyText === null ? { ok: true as const, policy: defaultPolicy() } : parsePolicy(input.newPolicyText);
    if (!result.ok) {
      for (const problem of result.problems) error('policy', `${ref}: ${POLICY_FILE}`, problem, `fix ${POLICY_FILE} and push again`, false);
    } else {
      const movedClaims = input.movedLocks ? parseClaims(input.movedLocks, result.policy, input.blobs, input.now) : undefined;
      verdicts.push(...checkPolicyChange({ refName: ref, oldPolicy: policy, newPolicy: result.policy, claims: input.claims, movedClaims, paths: input.paths, pusher: input.pusher, now: input.now }));
    }
  }

  const locksDir = policy.locks.dir;
  const { diff } = input;
  const parsed = new Map<string, Claim>();
  for (const e of diff.changed) {
    const { claim, verdicts: problems } = checkLockEntry(e, `${ref}: `, policy, input.blobs, input.now);
    verdicts.push(...problems);
    if (claim) parsed.set(e.path, claim);
  }
  if (diff.tasks.length > 0 && input.pusher === undefined) {
    error('identity', ref, 'this push changes claims but its pusher is unknown (no authenticated user, no -o agent=, committer name is not an agent id)', 'git push -o agent=<your-agent-id>', false);
    return verdicts;
  }

  const newLeases: Lease[] = [];
  for (const task of diff.tasks) {
    const status = `agent-hooks status ${task.taskId}`;
    const oldByPath = new Map(task.old.map((e) => [e.path, e]));
    const active = input.claims.find((c) => c.taskId === task.taskId && c.expiresAt > input.now);
    const next = task.new.find((e) => oldByPath.get(e.path)?.oid !== e.oid) ?? task.new[0];
    const nextClaim = next ? parsed.get(next.path) : undefined;

    if (active && active.lock.agent !== input.pusher) {
      const holder = `${active.lock.agent} until ${formatTime(active.expiresAt)}`;
      const what = next === undefined
        ? `removes the active claim of task ${task.taskId} held by ${holder}`
        : next.path === active.path
          ? `changes the active claim of task ${task.taskId} held by ${holder}`
          : `claims task ${task.taskId}, already claimed by ${holder} in ${quote(active.path)}`;
      error('claim-held', `${ref}: ${quote(next?.path ?? active.path)}`, what, `${heldFix(active.lock.agent)}; ${status}`);
      continue;
    }
    if (task.new.length > 1) {
      error('claim-held', `${ref}: ${locksDir}/${task.taskId}`, `task ${task.taskId} has ${task.new.length} lock files (${task.new.map((e) => quote(e.path)).join(', ')})`, 'keep one lock file per task', false);
      continue;
    }
    if (nextClaim && nextClaim.lock.agent !== input.pusher) {
      error('claim-agent', `${ref}: ${quote(nextClaim.path)}`, `claim of task ${task.taskId} names agent ${nextClaim.lock.agent}, but the pusher is ${input.pusher}`, `set agent to ${input.pusher}, or let ${nextClaim.lock.agent} push its own claim`);
      continue;
    }
    if (nextClaim && nextClaim.expiresAt <= input.now) {
      verdicts.push({ severity: 'warning', rule: 'claim-agent', where: `${ref}: ${quote(nextClaim.path)}`, what: `claim of task ${task.taskId} expired at ${formatTime(nextClaim.expiresAt)} already; it protects nothing`, overridable: false });
    } else if (nextClaim && !sameFiles(nextClaim.lock.files, active?.lock.files)) {
      newLeases.push(...leasesOf([nextClaim], input.now));
      verdicts.push(...checkBrokenGlobs(nextClaim, input.paths, `${ref}: ${quote(nextClaim.path)}`));
    }
  }
  if (newLeases.length > 0) {
    verdicts.push(...checkLeaseOverlaps({ refName: ref, leases: newLeases, claims: input.claims, paths: input.paths, exempt: policy.leases.exempt, now: input.now }));
  }
  return verdicts;
}
