// Agent sessions (DESIGN.md "Agent sessions"): the run loop's backoff and summary line, when the
// heartbeat renews, and which of an agent's claims it lost. Pure: times in, decisions out.
import type { Claim } from './claim.js';
import { formatTime } from './text.js';

/** The first wait after a failing run, and the longest (ms): 1 s doubling to 5 min. */
export const BACKOFF_MIN_MS = 1000;
export const BACKOFF_MAX_MS = 5 * 60 * 1000;

/**
 * How long the run loop waits before the next run, in ms. `failures` counts the failing runs in a
 * row (0 after a success): 1 s, 2 s, 4 s ... capped at 5 min. After a success the next run starts
 * at once, unless the run lasted under a second (then 1 s), so a command that succeeds at once
 * cannot spin the loop.
 */
export function nextRunDelay(failures: number, lastRunMs: number): number {
  if (failures <= 0) return lastRunMs < BACKOFF_MIN_MS ? BACKOFF_MIN_MS : 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(failures - 1, 20));
}

/** How one run of the command ended: its exit code, or the signal that ended it. */
export interface RunOutcome {
  run: number;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  log: string;
  /** ms until the next run, or undefined when the loop stops after this run. */
  nextInMs?: number;
}

const seconds = (ms: number) => (ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000)));

/** The summary line of one run: `agent-hooks run: run 3 exited 1 after 0.0 s; log <path>; next run in 4 s`. */
export function formatRunSummary(o: RunOutcome): string {
  const how = o.signal ? `was killed by ${o.signal}` : `exited ${o.exitCode}`;
  const next = o.nextInMs === undefined ? 'stopping' : `next run in ${seconds(o.nextInMs)} s`;
  return `agent-hooks run: run ${o.run} ${how} after ${seconds(o.durationMs)} s; log ${o.log}; ${next}`;
}

/** The exit code a shell would give for a run ended by `signal` (128 + its number), else the run's code. */
export function exitCodeOf(exitCode: number | null, signalNumber: number | undefined): number {
  if (exitCode !== null) return exitCode;
  return 128 + (signalNumber ?? 0);
}

/** The file name of a session log: the start time in UTC, `2026-11-30T11-05-25.123Z.log` (no `:` for other file systems). */
export function sessionLogName(startMs: number): string {
  return `${new Date(startMs).toISOString().replace(/:/g, '-')}.log`;
}

/** The longest the heartbeat waits between two looks at the claims ref (ms): a third of the shortest possible ttl. */
export const HEARTBEAT_MAX_TICK_MS = 20_000;

/**
 * Whether the heartbeat renews now: true when some active claim of the agent was last renewed
 * (or started) at least `everyMs` ago, where `everyMs` defaults to a third of that claim's ttl
 * (etcd's keepalive: renew well before the lease runs out). One renewal renews all of them.
 */
export function isRenewalDue(mine: readonly Claim[], now: number, everyMs?: number): boolean {
  return mine.some((c) => {
    const last = Math.max(c.lock.started, c.lock.renewed ?? 0);
    const ttlMs = c.expiresAt - last;
    return now - last >= (everyMs ?? ttlMs / 3);
  });
}

/** What the agent remembers of a claim it took: the task, and the expiry it last saw (epoch ms). */
export interface RememberedClaim {
  taskId: string;
  expiresAt: number;
}

/**
 * A claim the agent held and lost: `expired` (still its lock file, but past its expiry),
 * `taken` (another agent's claim now), or `gone` (no lock file of the task any more).
 */
export interface LostClaim {
  taskId: string;
  kind: 'expired' | 'taken' | 'gone';
  /** When the agent's claim expired (epoch ms): the lock file's expiry, else the last one seen. */
  expiredAt: number;
  holder?: string;
  holderExpiresAt?: number;
}

/**
 * Which remembered claims the agent lost, from the claims on the claims ref now. A remembered
 * claim still active and the agent's is fine; one that another agent now holds is `taken` (even
 * when the remembered expiry is in the future: the ref is the truth); one past its expiry is
 * `expired`; one without a lock file after its remembered expiry is `gone`. A lock file gone
 * before the remembered expiry was released (by this agent elsewhere, or an admin): not lost.
 */
export function findLostClaims(remembered: readonly RememberedClaim[], claims: readonly Claim[], agent: string, now: number): LostClaim[] {
  const lost: LostClaim[] = [];
  for (const r of remembered) {
    const claim = claims.find((c) => c.taskId === r.taskId);
    if (!claim) {
      if (r.expiresAt <= now) lost.push({ taskId: r.taskId, kind: 'gone', expiredAt: r.expiresAt });
      continue;
    }
    if (claim.lock.agent !== agent) {
      const holderActive = claim.expiresAt > now;
      lost.push({ taskId: r.taskId, kind: holderActive ? 'taken' : 'gone', expiredAt: Math.min(r.expiresAt, now), ...(holderActive ? { holder: claim.lock.agent, holderExpiresAt: claim.expiresAt } : {}) });
      continue;
    }
    if (claim.expiresAt <= now) lost.push({ taskId: r.taskId, kind: 'expired', expiredAt: claim.expiresAt });
  }
  return lost.sort((a, b) => a.taskId.localeCompare(b.taskId));
}

/** The holder's notice: `WARNING: your claim parser expired at <time>; now held by agent-5 ...; fix: ...`. */
export function formatLostClaim(l: LostClaim): string {
  const head = `WARNING: your claim ${l.taskId} expired at ${formatTime(l.expiredAt)}`;
  if (l.kind === 'taken') return `${head}; now held by ${l.holder} until ${formatTime(l.holderExpiresAt!)}; fix: stop changing its files; agent-hooks release ${l.taskId} forgets it`;
  if (l.kind === 'gone') return `${head}; no one holds it now; fix: agent-hooks claim ${l.taskId} to take it again, or agent-hooks release ${l.taskId} to forget it`;
  return `${head}; no one took it over yet; fix: agent-hooks claim ${l.taskId} to take it again, or agent-hooks release ${l.taskId}`;
}
