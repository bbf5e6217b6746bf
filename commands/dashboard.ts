// Reads everything the dashboard shows from a bare repo: the claims ref's status (the same
// readers as `status --json`), the landing queue (`refs/land/*`), the batch under test (the
// lander's marker ref), the lander's verdict notes, branch tips, the events log (refused pushes),
// the red-test records and the passed-tests markers. Then hands them to the pure
// assembleDashboard.
import { parseJsonObject } from '../core/json.js';
import { NOTES_REF, parseQueueNote, QUEUE_PREFIX, TESTING_REF } from '../core/queue.js';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { assembleDashboard, assembleHealth, type Batch, type BranchTip, type DashboardJson, type LandVerdict, type QueueEntry, type RedTest, type Rejection } from '../core/dashboard.js';
import { statusJson, type RecentPush, type StatusJson } from '../core/status.js';
import { formatTime, parseRfc3339 } from '../core/text.js';
import { findInvalidLockFiles, lockBlobsToRead, parseClaims } from '../core/claims-rules.js';
import { POLICY_FILE, policyFromText } from '../core/policy.js';
import { cleanGitEnv, identityNameOf, type GitOptions } from '../git/git.js';
import { gitTextAsync, listTreeAsync, readObjectsAsync, runGitAsync, type AsyncGitOptions } from '../git/git-async.js';
import { readServerConfig } from '../server/read-push.js';
import { readRecentEvents } from '../server/events-log.js';
import { listRedRecords } from '../server/red.js';
import { statePaths } from '../server/state.js';
import { viewRef, type AgentRepo } from './agent-repo.js';
import { parseRecentPushes, recentPushesArgs, STATUS_RECENT } from './claims.js';

// The landing queue's refs, verdict notes and batch marker, as the lander writes them (core/queue.ts).
const VERDICT_NOTES_REF = NOTES_REF;
const LAND_PREFIX = QUEUE_PREFIX;

/** How many of each kind the dashboard reads. */
const LIMITS = { claimsLog: 200, branches: 10, verdicts: 20, events: 200 } as const;

/** One read of the dashboard gives up after this long (ms): git is killed, the page says so. */
export const READ_TIMEOUT_MS = 20_000;

/**
 * The claims ref of a bare repo as an {@link AgentRepo} without a remote: what `status` sees when
 * run in the bare repo itself. The claims ref is the server's (`readServerConfig`), from
 * `agenthooks.claimsRef` or HEAD, read without blocking. @throws GitError, ConfigError
 */
export async function bareClaimsRepo(gitDir: string, options: AsyncGitOptions = {}): Promise<AgentRepo> {
  const git: GitOptions = { cwd: gitDir, env: { ...cleanGitEnv(), GIT_DIR: gitDir } };
  const configured = (await runGitAsync(['config', '-z', '--get-regexp', '^agenthooks\\.claimsref$'], { ...git, ...options, okExitCodes: [0, 1] })).stdout.toString('utf8');
  const value = configured.split('\0').filter(Boolean).at(-1)?.split('\n').slice(1).join('\n');
  const head = value ? undefined : await gitTextAsync(['symbolic-ref', '-q', 'HEAD'], { ...git, ...options, okExitCodes: [0, 1] });
  // readServerConfig validates the name and applies the same defaults; given the value, it runs no git.
  const claimsRef = readServerConfig(git, new Map([['agenthooks.claimsref', [value || head || 'refs/heads/main']]])).claimsRef;
  return { git, branch: claimsRef.replace(/^refs\/heads\//, ''), agent: { source: 'none' } };
}

/**
 * The status of the claims ref exactly as `agent-hooks status --json` builds it when run in the
 * bare repo (the readers of `readClaimsState` and `readRecentPushes`, through the async runner:
 * the policy at the tip, the lock files, the last {@link STATUS_RECENT} commits), plus the claims
 * ref's last {@link LIMITS.claimsLog} commits for the activity table.
 */
export async function readStatus(repo: AgentRepo, now: number, options: AsyncGitOptions = {}): Promise<{ status: StatusJson; log: RecentPush[] }> {
  const git = { ...repo.git, ...options };
  const oid = (await gitTextAsync(['rev-parse', '-q', '--verify', `${viewRef(repo)}^{commit}`], { ...git, okExitCodes: [0, 1] })) || undefined;
  if (!oid) return { status: statusJson(viewRef(repo), undefined, [], [], now, repo.agent.id), log: [] };
  const spec = `${oid}:${POLICY_FILE}`;
  const { policy } = policyFromText((await readObjectsAsync([spec], git)).get(spec)?.content.toString('utf8'));
  const entries = await listTreeAsync(oid, policy.locks.dir, git);
  const blobs = new Map<string, Uint8Array>();
  for (const [id, object] of await readObjectsAsync(lockBlobsToRead(entries), git)) if (object) blobs.set(id, object.content);
  const log = parseRecentPushes(await gitTextAsync(recentPushesArgs(oid, LIMITS.claimsLog), git));
  // No agent id in a bare repo (`me` is null), as `status --json` run there has none either.
  return { status: statusJson(viewRef(repo), oid, parseClaims(entries, policy, blobs, now), log.slice(0, STATUS_RECENT), now, repo.agent.id, findInvalidLockFiles(entries, policy, blobs, now)), log };
}

interface RefRow {
  refName: string;
  oid: string;
  time: number;
  author: string;
  subject: string;
}

async function readRefs(git: AsyncGitOptions): Promise<RefRow[]> {
  return (await gitTextAsync(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(committerdate:unix)%00%(authorname)%00%(subject)', 'refs/heads', LAND_PREFIX, VERDICT_NOTES_REF, TESTING_REF], git))
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [refName, oid, time, author, subject] = line.split('\0') as [string, string, string, string, string];
      return { refName, oid, time: Number(time) * 1000, author, subject };
    });
}

/** The queue's entries (the pure assembly puts them in the lander's order: committer time, then ref). */
function readQueue(rows: readonly RefRow[]): Omit<QueueEntry, 'testing'>[] {
  return rows
    .filter((r) => r.refName.startsWith(LAND_PREFIX))
    .map((r) => {
      const [agent = '', ...topic] = r.refName.slice(LAND_PREFIX.length).split('/');
      return { ref: r.refName, agent, topic: topic.join('/'), oid: r.oid, subject: r.subject, time: formatTime(r.time) };
    });
}

const isOid = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(v);

/** The batch named by the message of the lander's marker commit, or undefined when the message is not one. */
export function parseBatchMessage(message: string, since: string): Batch | undefined {
  const b = parseJsonObject(message);
  if (!b || !isOid(b.onto) || !Array.isArray(b.entries)) return undefined;
  const entries = b.entries.flatMap((e: unknown) => {
    const x = e as Record<string, unknown> | null;
    return x && typeof x.ref === 'string' && x.ref.startsWith(LAND_PREFIX) && isOid(x.oid) ? [{ ref: x.ref, oid: x.oid }] : [];
  });
  return { onto: b.onto, since, entries };
}

async function readBatch(rows: readonly RefRow[], git: AsyncGitOptions): Promise<Batch | null> {
  const marker = rows.find((r) => r.refName === TESTING_REF);
  if (!marker) return null;
  const commit = (await readObjectsAsync([marker.oid], git)).get(marker.oid);
  if (commit?.type !== 'commit') return null;
  const text = commit.content.toString('utf8');
  return parseBatchMessage(text.slice(text.indexOf('\n\n') + 2), formatTime(marker.time)) ?? null;
}

/** The red tests of the claims ref: the test stage's records (server/red.ts), as the dashboard shows them. */
function readRedTests(gitDir: string, claimsRef: string): RedTest[] {
  return listRedRecords(gitDir, claimsRef).map((r) => ({ test: r.test, seen: r.seen, state: r.state, ...(r.culprit ? { culprit: r.culprit } : {}) }));
}

/**
 * The newest verdicts: the notes changed by the last commits of the notes ref (one `git log
 * --name-only`), each read at the commit that wrote it, with the entry commit's author and subject.
 */
async function readVerdicts(git: AsyncGitOptions): Promise<LandVerdict[]> {
  const out = await gitTextAsync(['log', '-n', String(LIMITS.verdicts), '--format=%x01%H%x00%ct', '--name-only', '--no-renames', VERDICT_NOTES_REF], git);
  const written: { spec: string; oid: string; time: number }[] = [];
  const done = new Set<string>();
  for (const block of out.split('\x01').filter(Boolean)) {
    const [head = '', ...paths] = block.split('\n').filter(Boolean);
    const [commit, time] = head.split('\0') as [string, string];
    for (const path of paths) {
      const oid = path.replace(/\//g, '');
      if (!/^[0-9a-f]{40,64}$/.test(oid) || done.has(oid)) continue;
      done.add(oid);
      written.push({ spec: `${commit}:${path}`, oid, time: Number(time) * 1000 });
    }
  }
  const objects = await readObjectsAsync([...written.map((w) => w.spec), ...written.map((w) => w.oid)], git);
  const verdicts: LandVerdict[] = [];
  for (const w of written.slice(0, LIMITS.verdicts)) {
    const note = objects.get(w.spec);
    const parsed = note ? parseQueueNote(note.content.toString('utf8')) : undefined;
    if (!parsed) continue;
    const commit = objects.get(w.oid);
    const text = commit?.type === 'commit' ? commit.content.toString('utf8') : '';
    const author = /^author (.*?) <[^>]*> \d+ [+-]\d{4}$/m.exec(text.split('\n\n')[0] ?? '')?.[1] ?? (commit ? identityNameOf(commit) : undefined) ?? 'unknown';
    const subject = text.split('\n\n')[1]?.split('\n')[0] ?? w.oid.slice(0, 10);
    // The note's queue ref names the agent (the pusher of the entry); the commit's author is the fallback.
    const { ref, time, flaky: _flaky, ...verdict } = parsed;
    const agent = ref?.startsWith(LAND_PREFIX) ? ref.slice(LAND_PREFIX.length).split('/')[0]! : author;
    const when = time && parseRfc3339(time) !== undefined ? formatTime(parseRfc3339(time)!) : formatTime(w.time);
    verdicts.push({ time: when, oid: w.oid, agent, subject, ...verdict });
  }
  return verdicts;
}

/**
 * Reads the time a passed-tests marker (server/state.ts `testPassed`: `<time> <oid>`) names the
 * claims ref's tip, keeping what it read in `cache` (markers never change).
 */
function readTipPassedAt(gitDir: string, tip: string | undefined, cache: Map<string, string>): string | undefined {
  if (!tip) return undefined;
  const dir = statePaths(gitDir).testPassed;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  let found: string | undefined;
  for (const name of names) {
    let text = cache.get(name);
    if (text === undefined) {
      try {
        text = readFileSync(join(dir, name), 'utf8');
      } catch {
        continue;
      }
      cache.set(name, text);
    }
    const [time, oid] = text.trim().split(' ');
    if (oid === tip && time && (!found || time < found)) found = time;
  }
  return found;
}

/** A long-lived reader of one bare repo's dashboard (it caches what never changes). */
export interface DashboardReader {
  gitDir: string;
  /** Reads everything now (`now` epoch ms); git runs without blocking and is killed after {@link READ_TIMEOUT_MS}. */
  read(now: number): Promise<DashboardJson>;
}

/**
 * Opens the dashboard reader of a bare repo (`gitDir` absolute). Each `read` runs about ten
 * short git processes through the async runner, so a server stays responsive while it reads.
 * @throws GitError or ConfigError (the promise rejects) when the repository cannot be read.
 */
export function openDashboardReader(gitDir: string): DashboardReader {
  const passedCache = new Map<string, string>();
  return {
    gitDir,
    async read(now: number): Promise<DashboardJson> {
      // One controller per read, its timer cleared when the read ends: nothing outlives a read.
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error(`reading the dashboard took more than ${READ_TIMEOUT_MS / 1000} s`)), READ_TIMEOUT_MS);
      try {
        return await readOnce(now, { signal: controller.signal });
      } finally {
        clearTimeout(timer);
      }
    },
  };

  async function readOnce(now: number, options: AsyncGitOptions): Promise<DashboardJson> {
    const repo = await bareClaimsRepo(gitDir, options);
    const git = { ...repo.git, ...options };
    const [{ status, log }, rows] = await Promise.all([readStatus(repo, now, options), readRefs(git)]);
    const claimsRef = status.ref;
    const branches: BranchTip[] = rows
      .filter((r) => r.refName.startsWith('refs/heads/') && r.refName !== claimsRef)
      .sort((a, b) => b.time - a.time)
      .slice(0, LIMITS.branches)
      .map((r) => ({ ref: r.refName, oid: r.oid, time: formatTime(r.time), author: r.author, subject: r.subject }));
    const events = readRecentEvents(gitDir, LIMITS.events);
    const rejections: Rejection[] = events.flatMap((e) => (e.kind === 'rejected' ? [{ time: e.time, pusher: e.pusher, refs: e.refs, errors: e.errors }] : [])).reverse();
    const [batch, verdicts] = await Promise.all([readBatch(rows, git), rows.some((r) => r.refName === VERDICT_NOTES_REF) ? readVerdicts(git) : []]);
    return assembleDashboard({
      repo: basename(gitDir).replace(/\.git$/, '') || gitDir,
      status,
      claimsLog: log,
      queue: readQueue(rows),
      batch,
      verdicts,
      branches,
      rejections,
      health: assembleHealth(readRedTests(gitDir, claimsRef), readTipPassedAt(gitDir, status.oid ?? undefined, passedCache)),
    });
  }
}
