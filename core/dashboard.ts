// What the dashboard (`agent-hooks serve`) shows, assembled from what the readers found: the
// status of the claims ref (the same object as `status --json`), plus the landing queue, recent
// verdicts, pushes and refusals, main's test health and each agent's last activity. Pure.
import type { StatusJson } from './status.js';
import { formatTime } from './text.js';

/**
 * One entry of the landing queue: `refs/land/<agent>/<topic>`, in the lander's arrival order
 * (committer time, then ref name). `time` RFC 3339; `testing`: in the batch under test.
 */
export interface QueueEntry {
  ref: string;
  agent: string;
  topic: string;
  oid: string;
  subject: string;
  time: string;
  testing: boolean;
}

/** The batch the lander is testing (its marker ref): the claims ref tip it merges onto, since when, which entries. */
export interface Batch {
  onto: string;
  since: string;
  entries: { ref: string; oid: string }[];
}

/** A red test of the claims ref, as the test stage records it: when first seen, and the culprit once found. */
export interface RedTest {
  test: string;
  seen: string;
  state: 'bisecting' | 'found' | 'unknown';
  culprit?: { oid: string; agent: string; subject: string };
}

/** A verdict of the lander, from a note under `refs/notes/agent-hooks` (DESIGN.md "The landing queue"). */
export interface LandVerdict {
  time: string;
  oid: string;
  agent: string;
  subject: string;
  state: 'landed' | 'ejected';
  onto?: string;
  reason?: string;
  errors: string[];
  reproduce?: string;
}

/** A branch tip: a recent push to some branch (the claims ref's own commits are in `recent`). */
export interface BranchTip {
  ref: string;
  oid: string;
  time: string;
  author: string;
  subject: string;
}

/** A push pre-receive refused, from the events log. */
export interface Rejection {
  time: string;
  pusher: string;
  refs: string[];
  errors: string[];
}

/**
 * Whether the claims ref's tests pass: `since` (RFC 3339); when red, the red tests, and which
 * commits and agents turned them red (once the bisect found them).
 */
export interface Health {
  state: 'green' | 'red' | 'unknown';
  since?: string;
  tests: RedTest[];
  source: string;
}

/** One agent's last sign of life: when, and what it did. */
export interface AgentActivity {
  agent: string;
  last: string;
  what: string;
}

/** One row of the recent-activity table, newest first. */
export interface ActivityRow {
  time: string;
  kind: 'push' | 'landed' | 'ejected' | 'rejected';
  agent: string;
  ref: string;
  detail: string;
  errors: string[];
}

/**
 * `/api/status`: every field of `status --json` ({@link StatusJson}, unchanged) plus the
 * dashboard's own, added beside them (fields are only ever added).
 */
export interface DashboardJson extends StatusJson {
  repo: string;
  queue: QueueEntry[];
  batch: Batch | null;
  verdicts: LandVerdict[];
  branches: BranchTip[];
  rejections: Rejection[];
  health: Health;
  agents: AgentActivity[];
  activity: ActivityRow[];
}

/** What the readers found, before assembly. `claimsLog`: the claims ref's last commits (author, epoch ms). */
export interface DashboardInput {
  repo: string;
  status: StatusJson;
  claimsLog: { oid: string; time: number; author: string; subject: string }[];
  queue: Omit<QueueEntry, 'testing'>[];
  batch: Batch | null;
  verdicts: LandVerdict[];
  branches: BranchTip[];
  rejections: Rejection[];
  health: Health;
}

/** How many rows the recent-activity table keeps. */
export const ACTIVITY_ROWS = 25;

const byTimeDesc = <T extends { time: string }>(a: T, b: T) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0);

/**
 * Assembles the dashboard: recent activity (claims-ref commits, branch tips, verdicts and
 * refusals, newest first, at most {@link ACTIVITY_ROWS}) and each agent's latest activity across
 * all of them, claim holders included (their claim's start or renewal counts).
 */
export function assembleDashboard(input: DashboardInput): DashboardJson {
  const activity: ActivityRow[] = [
    ...input.claimsLog.map((c) => ({ time: formatTime(c.time), kind: 'push' as const, agent: c.author, ref: input.status.ref, detail: c.subject, errors: [] })),
    ...input.branches.map((b) => ({ time: b.time, kind: 'push' as const, agent: b.author, ref: b.ref, detail: b.subject, errors: [] })),
    ...input.verdicts.map((v) => ({ time: v.time, kind: v.state, agent: v.agent, ref: input.status.ref, detail: v.state === 'landed' ? `${v.subject}${v.onto ? ` (onto ${v.onto.slice(0, 10)})` : ''}` : `${v.subject}${v.reason ? `: ${v.reason}` : ''}`, errors: v.errors })),
    ...input.rejections.map((r) => ({ time: r.time, kind: 'rejected' as const, agent: r.pusher, ref: r.refs.join(' '), detail: `${r.errors.length} problem${r.errors.length === 1 ? '' : 's'}`, errors: r.errors })),
  ].sort(byTimeDesc);

  const latest = new Map<string, AgentActivity>();
  const seen = (agent: string, time: string, what: string) => {
    const had = latest.get(agent);
    if (!had || had.last < time) latest.set(agent, { agent, last: time, what });
  };
  for (const row of activity) seen(row.agent, row.time, `${row.kind} ${row.ref.replace(/^refs\/heads\//, '')}: ${row.detail}`);
  for (const q of input.queue) seen(q.agent, q.time, `queued ${q.topic}`);
  for (const c of input.status.claims.filter((c) => c.active)) seen(c.agent, c.started, `claimed ${c.task}`);

  return {
    ...input.status,
    repo: input.repo,
    queue: [...input.queue]
      .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0))
      .map((q) => ({ ...q, testing: input.batch?.entries.some((e) => e.ref === q.ref && e.oid === q.oid) ?? false })),
    batch: input.batch,
    verdicts: input.verdicts,
    branches: input.branches,
    rejections: input.rejections,
    health: input.health,
    agents: [...latest.values()].sort((a, b) => byTimeDesc({ time: a.last }, { time: b.last }) || a.agent.localeCompare(b.agent)),
    activity: activity.slice(0, ACTIVITY_ROWS),
  };
}

/**
 * Main's test health from what is known: red while the test stage holds a record of a red test
 * of the claims ref (since the first was seen; by the culprits the bisect found), else green
 * when the claims ref's tip passed its sampled tests (since that run), else unknown.
 */
export function assembleHealth(red: readonly RedTest[], tipPassedAt: string | undefined): Health {
  if (red.length > 0) {
    const tests = [...red].sort((a, b) => (a.seen < b.seen ? -1 : a.seen > b.seen ? 1 : a.test.localeCompare(b.test)));
    return { state: 'red', since: tests[0]!.seen, tests, source: 'red tests recorded by the test stage' };
  }
  if (tipPassedAt) return { state: 'green', since: tipPassedAt, tests: [], source: "the claims ref tip's sampled tests passed" };
  return { state: 'unknown', tests: [], source: 'no test run of the claims ref tip is recorded' };
}
