// `agent-hooks status`: the claims, leases and recent pushes of the claims ref, for a terminal
// and as stable JSON. Pure.
import type { Claim } from './claim.js';
import type { InvalidLockFile } from './claims-rules.js';
import type { LostClaim } from './session.js';
import { formatTime } from './text.js';

/** One commit on the claims ref, newest first; `time` in epoch ms. */
export interface RecentPush {
  oid: string;
  time: number;
  author: string;
  subject: string;
}

/** The `--json` shape (stable: fields are only ever added). Times are RFC 3339, `left` seconds. */
export interface StatusJson {
  ref: string;
  oid: string | null;
  now: string;
  /** The caller's agent id, or null when it has none. */
  me: string | null;
  /** `mine`: the claim is the caller's own (the text form's "(you)"). */
  claims: { task: string; agent: string; mine: boolean; path: string; started: string; expires: string; active: boolean; left: number; files: string[]; description: string | null }[];
  /** Files of the locks dir that are not valid lock files: they claim nothing (one entry per problem). */
  invalid: InvalidLockFile[];
  recent: { oid: string; time: string; author: string; subject: string }[];
  /**
   * The caller's claims it lost (core/session.ts findLostClaims), also named in WARNING lines:
   * `expiredAt` RFC 3339; `heldBy` and `heldUntil` when another agent holds the task now
   * (`kind` `taken`). Empty without an agent id, and in the bare repo (the dashboard).
   */
  lost: { task: string; kind: LostClaim['kind']; expiredAt: string; heldBy?: string; heldUntil?: string }[];
}

/** Builds the JSON form of the status; `me` is the caller's agent id, `invalid` the locks dir's invalid files, `lost` the caller's lost claims. */
export function statusJson(ref: string, oid: string | undefined, claims: readonly Claim[], recent: readonly RecentPush[], now: number, me?: string, invalid: readonly InvalidLockFile[] = [], lost: readonly LostClaim[] = []): StatusJson {
  return {
    ref,
    oid: oid ?? null,
    now: formatTime(now),
    me: me ?? null,
    claims: [...claims]
      .sort((a, b) => a.taskId.localeCompare(b.taskId))
      .map((c) => ({
        task: c.taskId,
        agent: c.lock.agent,
        mine: me !== undefined && c.lock.agent === me,
        path: c.path,
        started: formatTime(c.lock.started),
        expires: formatTime(c.expiresAt),
        active: c.expiresAt > now,
        left: Math.max(0, Math.floor((c.expiresAt - now) / 1000)),
        files: c.lock.files,
        description: c.lock.description ?? null,
      })),
    invalid: [...invalid],
    recent: recent.map((r) => ({ oid: r.oid, time: formatTime(r.time), author: r.author, subject: r.subject })),
    lost: lost.map((l) => ({ task: l.taskId, kind: l.kind, expiredAt: formatTime(l.expiredAt), ...(l.holder !== undefined ? { heldBy: l.holder } : {}), ...(l.holderExpiresAt !== undefined ? { heldUntil: formatTime(l.holderExpiresAt) } : {}) })),
  };
}

const duration = (seconds: number) => (seconds >= 3600 ? `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`);

/** The status for a terminal: one line per claim (active first), then the recent pushes. */
export function formatStatus(status: StatusJson, me: string | undefined): string[] {
  const lines = [`claims on ${status.ref}${status.oid ? ` (${status.oid.slice(0, 10)})` : ' (not there yet)'} at ${status.now}:`];
  const active = status.claims.filter((c) => c.active);
  const expired = status.claims.filter((c) => !c.active);
  if (status.claims.length === 0) lines.push(status.invalid.length > 0 ? '  no valid claims' : '  no claims');
  for (const c of active) {
    lines.push(`  ${c.task}  ${c.agent}${c.agent === me ? ' (you)' : ''}  until ${c.expires} (${duration(c.left)} left)${c.files.length ? `  lease: ${c.files.join(', ')}` : ''}${c.description ? `  - ${c.description}` : ''}`);
  }
  for (const c of expired) lines.push(`  ${c.task}  ${c.agent}${c.agent === me ? ' (you)' : ''}  EXPIRED at ${c.expires} (anyone may take it over; agent-hooks gc removes it)`);
  if (status.invalid.length > 0) {
    lines.push('invalid lock files (they claim and lease nothing until fixed):');
    for (const i of status.invalid) lines.push(`  ${i.path}${i.line !== null ? `:${i.line}` : ''}: ${i.problem}${i.fix ? `; fix: ${i.fix}` : ''}`);
  }
  if (status.recent.length > 0) {
    lines.push('recent pushes:');
    for (const r of status.recent) lines.push(`  ${r.oid.slice(0, 10)} ${r.time} ${r.author}: ${r.subject}`);
  }
  return lines;
}
