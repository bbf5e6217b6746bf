// What `claim`, `release`, `renew` and `gc` change on the claims ref (DESIGN.md "Command line").
// Pure: the claims ref's state in, a plan out. The shim applies the plan with plumbing and
// retries it on a fresh state when the claims ref moved meanwhile.
import type { Claim, TreeEntry } from './claim.js';
import { globProblem } from './glob.js';
import { leasesOf } from './lease.js';
import { checkLeaseOverlaps, treePathsOf } from './lease-rules.js';
import { classifyLocksDirEntry, formatLockFile, TASK_ID, type LockFile, type LockFileFormat } from './lock-file.js';
import { TTL_MAX, TTL_MIN, type Policy } from './policy.js';
import { isRenewalDue } from './session.js';
import type { ClaimRef, ClaimsOutcome } from './result.js';
import { quote } from './text.js';
import { errorsOf } from './verdict.js';

/** The claims ref at one commit: policy, locks dir entries, valid claims, and every file path (for lease overlaps). */
export interface ClaimsState {
  refName: string;
  policy: Policy;
  entries: TreeEntry[];
  claims: Claim[];
  paths: string[];
}

/**
 * The outcome of planning: `change` (files to write or delete, by path; null deletes) with the
 * outcome it has once it lands, or `settled` (held, nothing to do...: no change to make).
 */
export type Plan =
  | { kind: 'change'; writes: Map<string, string | null>; message: string; outcome: ClaimsOutcome }
  | { kind: 'settled'; outcome: ClaimsOutcome };

const settled = (outcome: ClaimsOutcome): Plan => ({ kind: 'settled', outcome });

/** A claim as outcomes name it. */
export const claimRef = (c: Claim): ClaimRef => ({ task: c.taskId, agent: c.lock.agent, expiresAt: c.expiresAt, files: c.lock.files });

/** Why a `--ttl` is unusable (a usage error with its fix), or undefined; `ttl` in seconds. */
export function ttlProblem(ttl: number | undefined): string | undefined {
  if (ttl === undefined || (Number.isInteger(ttl) && ttl >= TTL_MIN && ttl <= TTL_MAX)) return undefined;
  return `--ttl must be whole seconds from ${TTL_MIN} to ${TTL_MAX}; fix: --ttl 7200`;
}

/** Why a task id is unusable (DESIGN.md "Lock files": the file name without extension), with a fix, or undefined. */
export function taskIdProblem(taskId: string): string | undefined {
  if (TASK_ID.test(taskId)) return undefined;
  const suggestion = taskId.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 100);
  // A path or glob where the task id goes: the lease was meant.
  const fix = /[/*?{]/.test(taskId) && !taskId.includes('..') ? `agent-hooks claim <task-id> --files ${quote(taskId)}` : `agent-hooks claim ${suggestion && TASK_ID.test(suggestion) ? suggestion : 'my-task'}`;
  return `${quote(taskId)} is not a task id: a task id names the lock file (<locks-dir>/<task-id>.txt), so it is 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit; fix: ${fix}`;
}

/** Why the arguments of `claim` are unusable (usage errors, each with a fix), or an empty list. */
export function claimArgumentProblems(taskId: string, files: readonly string[], ttl: number | undefined): string[] {
  const problems: string[] = [];
  const task = taskIdProblem(taskId);
  if (task) problems.push(task);
  for (const glob of files) {
    const problem = globProblem(glob);
    if (problem) problems.push(`--files ${quote(glob)} ${problem}; fix: a pattern relative to the repository root, e.g. src/parser/**`);
  }
  const ttlText = ttlProblem(ttl);
  if (ttlText) problems.push(ttlText);
  return problems;
}

const filesOfTask = (state: ClaimsState, taskId: string) =>
  state.entries.filter((e) => {
    const entry = classifyLocksDirEntry(e.path.slice(state.policy.locks.dir.length + 1));
    return entry.kind === 'lock' && entry.taskId === taskId;
  });

/** Inputs of {@link planClaim}; `now` in epoch ms, `ttl` in seconds. */
export interface ClaimRequest {
  taskId: string;
  agent: string;
  files: string[];
  ttl?: number;
  description?: string;
  now: number;
}

/**
 * Plans a claim: refused (held) when another agent's active claim holds the task or its lease
 * overlaps the requested files; otherwise a lock file `<locks-dir>/<task>.txt` replacing any
 * earlier file of the task (an expired claim is taken over; the agent's own claim is updated,
 * keeping its start).
 */
export function planClaim(state: ClaimsState, request: ClaimRequest): Plan {
  const active = state.claims.find((c) => c.taskId === request.taskId && c.expiresAt > request.now);
  if (active && active.lock.agent !== request.agent) return settled({ kind: 'held', task: request.taskId, holder: claimRef(active) });
  const lock: LockFile = { agent: request.agent, started: active ? active.lock.started : request.now, files: request.files };
  if (request.description !== undefined) lock.description = request.description;
  if (request.ttl !== undefined) lock.ttl = request.ttl;
  if (active) lock.renewed = request.now;
  const path = `${state.policy.locks.dir}/${request.taskId}.txt`;
  const claim: Claim = { taskId: request.taskId, path, lock, expiresAt: request.now + (request.ttl ?? state.policy.locks.ttl) * 1000 };
  const overlaps = checkLeaseOverlaps({ refName: state.refName, leases: leasesOf([claim], request.now), claims: state.claims, paths: treePathsOf(state.paths), exempt: state.policy.leases.exempt, now: request.now });
  if (errorsOf(overlaps).length > 0) return settled({ kind: 'leased', task: request.taskId, verdicts: overlaps });
  const writes = new Map<string, string | null>(filesOfTask(state, request.taskId).map((e) => [e.path, null]));
  writes.set(path, formatLockFile(lock));
  return { kind: 'change', writes, message: `claim ${request.taskId}`, outcome: { kind: 'claimed', claim: claimRef(claim), warnings: overlaps } };
}

function holderOnly(state: ClaimsState, taskId: string, agent: string, now: number): Claim | Plan {
  const claim = state.claims.find((c) => c.taskId === taskId);
  if (!claim) return settled({ kind: 'no-claim', task: taskId, ref: state.refName });
  if (claim.lock.agent !== agent) {
    return claim.expiresAt > now ? settled({ kind: 'held', task: taskId, holder: claimRef(claim) }) : settled({ kind: 'not-holder', task: taskId, agent, holder: claimRef(claim) });
  }
  return claim;
}

/** Plans a release: only the holder may release; every file of the task is removed. */
export function planRelease(state: ClaimsState, taskId: string, agent: string, now: number): Plan {
  const claim = holderOnly(state, taskId, agent, now);
  if ('kind' in claim) return claim;
  const writes = new Map<string, string | null>(filesOfTask(state, taskId).map((e) => [e.path, null]));
  return { kind: 'change', writes, message: `release ${taskId}`, outcome: { kind: 'released', task: taskId } };
}

/** Plans a renewal: only the holder; sets `renewed` to now and, when given, a new ttl (seconds). */
export function planRenew(state: ClaimsState, taskId: string, agent: string, now: number, ttl?: number): Plan {
  const claim = holderOnly(state, taskId, agent, now);
  if ('kind' in claim) return claim;
  const lock: LockFile = { ...claim.lock, renewed: now, ...(ttl !== undefined ? { ttl } : {}) };
  const format: LockFileFormat = claim.path.endsWith('.json') ? 'json' : 'txt';
  const expiresAt = now + (lock.ttl ?? state.policy.locks.ttl) * 1000;
  return { kind: 'change', writes: new Map([[claim.path, formatLockFile(lock, format)]]), message: `renew ${taskId}`, outcome: { kind: 'renewed', claims: [{ task: taskId, expiresAt }] } };
}

/** Plans a gc: one change removing every expired claim's files. */
export function planGc(state: ClaimsState, now: number): Plan {
  const expired = state.claims.filter((c) => c.expiresAt <= now);
  if (expired.length === 0) return settled({ kind: 'idle', reason: 'no expired claims' });
  const writes = new Map<string, string | null>(expired.flatMap((c) => filesOfTask(state, c.taskId).map((e) => [e.path, null] as [string, null])));
  return {
    kind: 'change',
    writes,
    message: `gc: remove ${expired.length} expired claim${expired.length === 1 ? '' : 's'}`,
    outcome: { kind: 'removed', claims: expired.map(claimRef) },
  };
}

/**
 * Plans the heartbeat's renewal: every active claim of `agent` gets `renewed: now`, in one change,
 * when one of them is due ({@link isRenewalDue}: a third of its ttl, or `everyMs`, since its last
 * renewal) or `force` is set. Expired claims and other agents' claims are never touched: a claim
 * that lapsed or was taken over is not stolen back (the holder is told instead).
 */
export function planRenewAll(state: ClaimsState, agent: string, now: number, options: { everyMs?: number; force?: boolean } = {}): Plan {
  const mine = state.claims.filter((c) => c.lock.agent === agent && c.expiresAt > now).sort((a, b) => a.taskId.localeCompare(b.taskId));
  if (mine.length === 0) return settled({ kind: 'idle', reason: 'no active claims to renew' });
  if (!options.force && !isRenewalDue(mine, now, options.everyMs)) return settled({ kind: 'idle', reason: 'no renewal due' });
  const writes = new Map<string, string | null>();
  const renewed: { task: string; expiresAt: number }[] = [];
  for (const claim of mine) {
    const lock: LockFile = { ...claim.lock, renewed: now };
    writes.set(claim.path, formatLockFile(lock, claim.path.endsWith('.json') ? 'json' : 'txt'));
    renewed.push({ task: claim.taskId, expiresAt: now + (lock.ttl ?? state.policy.locks.ttl) * 1000 });
  }
  return { kind: 'change', writes, message: `heartbeat: renew ${mine.map((c) => c.taskId).join(', ')}`, outcome: { kind: 'renewed', claims: renewed } };
}
