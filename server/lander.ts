// The lander (DESIGN.md "The landing queue"): takes queue entries in arrival order, merges them
// onto the claims ref's tip without a work tree, re-checks rules 1 to 6, tests the batch once,
// lands it with a compare-and-swap, bisects a failing batch, ejects conflicts and culprits, and
// records each verdict as a git note. Its state is refs and notes only: killed at any moment, the
// next lander resumes. One lander per repository (a pid lock); it exits when the queue is empty.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkPush } from '../core/push-rules.js';
import { errorsOf, formatVerdict } from '../core/verdict.js';
import { formatTime } from '../core/text.js';
import { POLICY_FILE, type Policy } from '../core/policy.js';
import { readPolicyAt } from '../git/read-policy.js';
import { isClaimsOnlyMove, nextBatchSize, NOTES_REF, orderEntries, parseQueueNote, parseQueueRef, QUEUE_PREFIX, splitBatch, takeBatch, TESTING_REF, type QueueEntry, type QueueNote } from '../core/queue.js';
import { cleanGitEnv, gitText, isAncestor, readConfig, readObjects, readRef, runGit, type GitOptions } from '../git/git.js';
import { readPushInput, readServerConfig } from './read-push.js';
import { tryLock } from './pid-lock.js';
import { repoName, spoolEvent, spoolName, webhookUrlFrom, redact } from './spool.js';
import { startWorker } from './worker.js';
import { statePaths } from './state.js';
import { runBatchTests } from './batch-tests.js';

/** The lander's worker name: its pid lock is `workers/lander.lock`, its log `workers/lander.log` (server/state.ts). */
export const LANDER = 'lander';

/** The identity of the merge commits and notes the lander writes. */
export const LANDER_NAME = 'agent-hooks-lander';

/** What the lander did in one run; `busy` when another lander holds the lock. */
export interface LanderReport {
  busy: boolean;
  batches: number;
  testRuns: number;
  landed: number;
  ejected: number;
}

/** How the lander runs: the bare repo, a line logger, and an optional stop signal (checked between steps). */
export interface LanderOptions {
  gitDir: string;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Where the Slack sender's bundle is (default: beside the running bundle, as in a hook's version dir). */
  bundleDir?: string;
}

/** An entry merged into a batch: the batch's tip before and after it. */
interface Merged {
  entry: QueueEntry;
  before: string;
  after: string;
}

/** How a batch was built: the entries merged (in order) and the tip, plus what was ejected on the way. */
interface Build {
  onto: string;
  tip: string;
  merged: Merged[];
  ejected: number;
}

/** The state of the repository one step of the lander works with. */
interface Context {
  gitDir: string;
  git: GitOptions;
  claimsRef: string;
  tip: string;
  policy: Policy;
  testConcurrency: number;
  log: (line: string) => void;
  report: LanderReport;
  webhook?: string;
  /** Set when an announcement was spooled and the Slack sender has not been started since. */
  spooled?: boolean;
}

/**
 * Runs the lander until the queue is empty (or `signal` aborts): takes the pid lock
 * `<git-dir>/agent-hooks/workers/lander.lock`, and after releasing it looks at the queue once more, so an
 * entry pushed while it was stopping is not left waiting.
 */
export async function runLander(options: LanderOptions): Promise<LanderReport> {
  const report: LanderReport = { busy: false, batches: 0, testRuns: 0, landed: 0, ejected: 0 };
  mkdirSync(statePaths(options.gitDir).workers, { recursive: true });
  let size: number | undefined;
  for (;;) {
    const release = tryLock(statePaths(options.gitDir).workerLock(LANDER), { orphanMs: 5000 });
    if (!release) return { ...report, busy: report.batches === 0 };
    try {
      for (;;) {
        if (options.signal?.aborted) return report;
        const ctx = readContext(options, report);
        const entries = await settleEntries(ctx, listEntries(ctx.git));
        if (ctx.spooled) startWorker('notify-sender', ctx.gitDir, [], options.bundleDir);
        if (entries.length === 0) break;
        size ??= ctx.policy.queue.batch;
        const batch = takeBatch(entries, Math.min(size, ctx.policy.queue.batch));
        report.batches++;
        ctx.log(`batch of ${batch.length}: ${batch.map((e) => e.refName).join(' ')}`);
        const passed = await landGroup(ctx, batch, options.signal);
        size = nextBatchSize(size, passed, ctx.policy.queue.batch);
        if (ctx.spooled) startWorker('notify-sender', ctx.gitDir, [], options.bundleDir);
      }
    } finally {
      clearTesting({ git: gitOptions(options.gitDir) });
      release();
    }
    if (options.signal?.aborted || listEntries(gitOptions(options.gitDir)).length === 0) return report;
  }
}

/** git options for the bare repo: its git dir, none of a hook's GIT_* variables, the lander's identity. */
export function gitOptions(gitDir: string): GitOptions {
  return {
    env: { ...cleanGitEnv(), GIT_DIR: gitDir, GIT_AUTHOR_NAME: LANDER_NAME, GIT_AUTHOR_EMAIL: 'lander@agent-hooks', GIT_COMMITTER_NAME: LANDER_NAME, GIT_COMMITTER_EMAIL: 'lander@agent-hooks' },
  };
}

function readContext(options: LanderOptions, report: LanderReport): Context {
  const git = gitOptions(options.gitDir);
  const config = readConfig('^agenthooks\\.', git);
  const server = readServerConfig(git, config);
  const tip = readRef(server.claimsRef, git);
  if (!tip) throw new Error(`the claims ref ${server.claimsRef} does not exist; nothing can land`);
  const { policy } = readPolicyAt(tip, git);
  return { gitDir: options.gitDir, git, claimsRef: server.claimsRef, tip, policy, testConcurrency: server.testConcurrency, log: options.log, report, webhook: webhookUrlFrom(config.get('agenthooks.slack.webhookurl')?.at(-1), process.env) };
}

/** Every queue entry (`refs/land/<agent>/<topic>` pointing at a commit), in arrival order. Refs that are not entries are skipped. */
export function listEntries(git: GitOptions): QueueEntry[] {
  const out = gitText(['for-each-ref', '--format=%(objectname) %(objecttype) %(committerdate:unix) %(refname)', QUEUE_PREFIX], git);
  const entries: QueueEntry[] = [];
  for (const line of out.split('\n').filter(Boolean)) {
    const [oid, type, time, refName] = line.split(' ') as [string, string, string, string];
    const parsed = parseQueueRef(refName);
    if (type !== 'commit' || 'problem' in parsed) continue;
    entries.push({ refName, agent: parsed.agent, topic: parsed.topic, oid, time: Number(time) || 0 });
  }
  return orderEntries(entries);
}

/** The lander's verdicts for these commits (notes under {@link NOTES_REF}), by commit oid. */
export function readNotes(oids: readonly string[], git: GitOptions): Map<string, QueueNote> {
  const notes = new Map<string, QueueNote>();
  if (oids.length === 0 || !readRef(NOTES_REF, git)) return notes;
  const wanted = new Set(oids);
  const blobs = new Map<string, string>();
  for (const line of gitText(['notes', '--ref', NOTES_REF, 'list'], git).split('\n').filter(Boolean)) {
    const [blob, annotated] = line.split(' ') as [string, string];
    if (wanted.has(annotated)) blobs.set(annotated, blob);
  }
  const objects = readObjects([...blobs.values()], git);
  for (const [oid, blob] of blobs) {
    const note = parseQueueNote(objects.get(blob)?.content.toString('utf8') ?? '');
    if (note) notes.set(oid, note);
  }
  return notes;
}

/**
 * Finishes what a killed lander left half done, and returns the entries still waiting: an entry
 * whose verdict is recorded only loses its ref; an entry already in the claims ref (main moved,
 * the note was not written yet) gets its `landed` note.
 */
async function settleEntries(ctx: Context, entries: QueueEntry[]): Promise<QueueEntry[]> {
  const notes = readNotes(entries.map((e) => e.oid), ctx.git);
  const waiting: QueueEntry[] = [];
  for (const entry of entries) {
    const note = notes.get(entry.oid);
    if (note && (note.ref === undefined || note.ref === entry.refName)) {
      deleteEntry(ctx.git, entry);
      continue;
    }
    if (isAncestor(entry.oid, ctx.tip, ctx.git)) {
      finish(ctx, entry, { state: 'landed', onto: ctx.tip, reason: 'already in the claims ref', errors: [] });
      continue;
    }
    if (!ctx.policy.queue.enabled) {
      finish(ctx, entry, { state: 'ejected', onto: ctx.tip, reason: `the landing queue is off (queue.enabled in ${POLICY_FILE})`, errors: [`ERROR: ${entry.refName}: the landing queue is off; fix: agent-hooks push`] });
      continue;
    }
    waiting.push(entry);
  }
  return waiting;
}

/** Removes a queue ref only while it still points at the entry's commit (a re-push stays queued). */
function deleteEntry(git: GitOptions, entry: QueueEntry): void {
  runGit(['update-ref', '-d', entry.refName, entry.oid], { ...git, okExitCodes: [0, 1, 128] });
}

/** Records a verdict: announced (spooled) first, then the note, then the queue ref goes. */
function finish(ctx: Context, entry: QueueEntry, note: QueueNote, announce?: { before: string; after: string }): void {
  const full: QueueNote = { ...note, ref: entry.refName, time: formatTime(Date.now()) };
  try {
    announceVerdict(ctx, entry, full, announce);
  } catch (error) {
    ctx.log(`could not spool the announcement for ${entry.refName}: ${(error as Error).message}`);
  }
  runGit(['notes', '--ref', NOTES_REF, 'add', '-f', '-F', '-', entry.oid], { ...ctx.git, input: `${JSON.stringify(full)}\n` });
  deleteEntry(ctx.git, entry);
  if (note.state === 'landed') ctx.report.landed++;
  else ctx.report.ejected++;
  ctx.log(`${note.state}: ${entry.refName} ${entry.oid.slice(0, 10)}${note.state === 'landed' ? ` onto ${note.onto.slice(0, 10)}` : `: ${note.reason}`}`);
}

/**
 * Announces a verdict through the Slack spool, as pushes are: a landing as a raw push event of
 * the claims ref (the entry's agent as pusher; its commits, diffstat and claims, read by the
 * sender), an ejection as a refused push with its ERROR lines. Only when a webhook is set.
 */
function announceVerdict(ctx: Context, entry: QueueEntry, note: QueueNote, move?: { before: string; after: string }): void {
  if (!ctx.webhook) return;
  const now = Date.now();
  if (note.state === 'landed' && move) {
    const others = gitText(['for-each-ref', '--format=other %(objectname) %(refname)'], ctx.git)
      .split('\n')
      .filter((l) => l && !/ refs\/(land|notes|agent-hooks)\//.test(l));
    const text = ['agent-hooks push event 1', `time ${formatTime(now).replace(/\.\d+Z$/, 'Z')}`, `option agent=${entry.agent}`, `update ${move.before} ${move.after} ${ctx.claimsRef}`, ...others, ''].join('\n');
    writeRaw(ctx.gitDir, text, now);
  } else if (note.state === 'ejected') {
    spoolEvent(ctx.gitDir, {
      id: `${formatTime(now)}-ejected-${entry.oid.slice(0, 10)}`,
      time: formatTime(now),
      repo: repoName(ctx.gitDir),
      pusher: entry.agent,
      refs: [{ refName: entry.refName, kind: 'update', oldOid: note.onto, newOid: entry.oid, commits: [], moreCommits: 0, discarded: 0 }],
      claims: [],
      rejected: [`ejected from the landing queue: ${note.reason}`, ...note.errors].map((l) => redact(l, ctx.webhook)),
    });
  } else return;
  ctx.spooled = true;
}

/** Writes a raw push event into the spool as the post-receive stub does (temp file, fsync, rename). */
function writeRaw(gitDir: string, text: string, now: number): void {
  const dir = statePaths(gitDir).spool;
  mkdirSync(dir, { recursive: true });
  const name = spoolName(now, 'raw');
  const temp = join(dir, `.${name}.tmp`);
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(dir, name));
}

/** How one merge of an entry onto a tip ended. */
type MergeResult = { kind: 'merged'; oid: string } | { kind: 'conflict'; paths: string[] } | { kind: 'unrelated' } | { kind: 'contained' };

/**
 * Merges `entry` onto `onto` without a work tree: a fast-forward when the entry descends from
 * it, else `git merge-tree --write-tree` (git computes the merge base; exit 1 lists the
 * conflicted paths) and `git commit-tree` with both parents.
 * @throws GitError when git fails otherwise.
 */
export function mergeEntry(git: GitOptions, onto: string, entry: QueueEntry): MergeResult {
  if (isAncestor(entry.oid, onto, git)) return { kind: 'contained' };
  if (isAncestor(onto, entry.oid, git)) return { kind: 'merged', oid: entry.oid };
  const result = runGit(['merge-tree', '--write-tree', '--name-only', '-z', '--no-messages', onto, entry.oid], { ...git, okExitCodes: [0, 1, 128] });
  if (result.exitCode === 128) {
    if (/unrelated histories/.test(result.stderr.toString('utf8'))) return { kind: 'unrelated' };
    throw new Error(`git merge-tree failed: ${result.stderr.toString('utf8').trim().split('\n').pop()}`);
  }
  const [tree, ...rest] = result.stdout.toString('utf8').split('\0');
  if (result.exitCode === 1) return { kind: 'conflict', paths: [...new Set(rest.filter(Boolean))] };
  const message = `Land ${entry.topic} from ${entry.agent}\n\nagent-hooks lander: ${entry.refName} ${entry.oid}\n`;
  return { kind: 'merged', oid: gitText(['commit-tree', tree!, '-p', onto, '-p', entry.oid, '-F', '-'], { ...git, input: message }) };
}

/**
 * Rules 1 to 6 for one entry merged onto `before`, judged as a push of `before -> after` to the
 * claims ref by the entry's agent, against the claims at `before` (the claims of that moment).
 * Returns the ERROR lines (empty: it may land).
 */
function checkRules(ctx: Context, entry: QueueEntry, before: string, after: string): string[] {
  const env: NodeJS.ProcessEnv = { ...ctx.git.env, GIT_PUSH_OPTION_COUNT: '1', GIT_PUSH_OPTION_0: `agent=${entry.agent}` };
  const input = readPushInput([{ oldOid: before, newOid: after, refName: ctx.claimsRef }], env, Date.now());
  // The agent was the authenticated pusher when the entry was queued (only it may push there).
  input.pusher = { id: entry.agent, source: 'authenticated', verdicts: [] };
  return errorsOf(checkPush(input)).map(formatVerdict);
}

/**
 * Builds a batch onto `onto`: each entry merged in turn and checked; a conflict, unrelated
 * history or a broken rule ejects that entry at once, and the rest go on without it.
 */
function buildBatch(ctx: Context, onto: string, entries: readonly QueueEntry[]): Build {
  let tip = onto;
  const merged: Merged[] = [];
  let ejected = 0;
  for (const entry of entries) {
    if (isReplaced(ctx, entry)) continue; // the next batch takes the new commit
    let result: MergeResult;
    let errors: string[] = [];
    try {
      result = mergeEntry(ctx.git, tip, entry);
      if (result.kind === 'merged') errors = checkRules(ctx, entry, tip, result.oid);
    } catch (error) {
      // An entry the lander cannot judge is ejected, never retried forever: the queue must not stall.
      const what = (error as Error).message.split('\n')[0];
      finish(ctx, entry, { state: 'ejected', onto: tip, reason: `the lander could not judge it: ${what}`, errors: [`ERROR: internal: ${entry.refName}: ${what}; fix: agent-hooks doctor on the bare repo, then agent-hooks land again`] });
      ejected++;
      continue;
    }
    if (result.kind === 'contained') continue; // nothing beyond the tip: settled as landed next round
    if (result.kind === 'conflict' || result.kind === 'unrelated') {
      const reason = result.kind === 'conflict' ? `merge conflict with ${ctx.claimsRef} in ${result.paths.join(', ')}` : `no history in common with ${ctx.claimsRef}`;
      const errors = result.kind === 'conflict' ? result.paths.map((p) => `ERROR: ${entry.refName}: ${p}: merge conflict with ${ctx.claimsRef}; fix: git pull --rebase, resolve ${p}, then agent-hooks land`) : [`ERROR: ${entry.refName}: unrelated history; fix: git rebase origin/${ctx.claimsRef.replace(/^refs\/heads\//, '')}`];
      finish(ctx, entry, { state: 'ejected', onto: tip, reason, errors, reproduce: `git fetch && git merge origin/${ctx.claimsRef.replace(/^refs\/heads\//, '')}` });
      ejected++;
      continue;
    }
    if (errors.length > 0) {
      finish(ctx, entry, { state: 'ejected', onto: tip, reason: `breaks the rules of ${ctx.claimsRef} (${errors.length} error${errors.length === 1 ? '' : 's'})`, errors });
      ejected++;
      continue;
    }
    merged.push({ entry, before: tip, after: result.oid });
    tip = result.oid;
  }
  return { onto, tip, merged, ejected };
}

/**
 * Whether an entry's queue ref no longer holds its commit. A commit replaced by a newer push of
 * the same topic gets an `ejected` note saying so (its `land` is waiting for it); the new
 * commit stays queued.
 */
function isReplaced(ctx: Context, entry: QueueEntry): boolean {
  const now = readRef(entry.refName, ctx.git);
  if (now === entry.oid) return false;
  if (now) finish(ctx, entry, { state: 'ejected', onto: ctx.tip, reason: `replaced by ${now.slice(0, 10)}, pushed later to ${entry.refName}`, errors: [] });
  return true;
}

/** Points {@link TESTING_REF} at a commit naming the batch under test, for `land` and `queue`. */
function markTesting(ctx: Context, build: Build): void {
  const tree = gitText(['rev-parse', `${build.tip}^{tree}`], ctx.git);
  const message = `${JSON.stringify({ onto: build.onto, entries: build.merged.map((m) => ({ ref: m.entry.refName, oid: m.entry.oid })) })}\n`;
  const marker = gitText(['commit-tree', tree, '-p', build.tip, '-F', '-'], { ...ctx.git, input: message });
  runGit(['update-ref', TESTING_REF, marker], ctx.git);
}

function clearTesting(ctx: { git: GitOptions }): void {
  runGit(['update-ref', '-d', TESTING_REF], { ...ctx.git, okExitCodes: [0, 1, 128] });
}

/** The paths changed between two commits (`git diff --name-only -z`). */
function changedBetween(git: GitOptions, from: string, to: string): string[] {
  return runGit(['diff', '--name-only', '--no-renames', '-z', from, to], git).stdout.toString('utf8').split('\0').filter(Boolean);
}

/**
 * Lands a group of entries: builds it on the current tip, tests it once, and moves the claims
 * ref with a compare-and-swap. When the ref moved meanwhile only by lock files or exempt paths,
 * the group is built again on the new tip and lands without new tests; any other move tests
 * again. A failing group of one is ejected with its test lines; a larger one is split in halves
 * and each half is landed in turn. Returns whether the group's first test run passed.
 */
async function landGroup(ctx: Context, group: readonly QueueEntry[], signal?: AbortSignal): Promise<boolean> {
  let build = buildBatch(ctx, ctx.tip, group);
  if (build.merged.length === 0) return build.ejected === 0;
  markTesting(ctx, build);
  const entries = build.merged.map((m) => m.entry);
  const tested = await runBatchTests({ gitDir: ctx.gitDir, git: ctx.git, claimsRef: ctx.claimsRef, policy: ctx.policy, testConcurrency: ctx.testConcurrency, tip: build.tip, onto: build.onto, entries, log: ctx.log, signal, webhookUrl: ctx.webhook });
  ctx.report.testRuns += tested.runs;
  if (signal?.aborted) return false;
  if (!tested.passed) {
    if (build.merged.length === 1) {
      const entry = build.merged[0]!.entry;
      finish(ctx, entry, { state: 'ejected', onto: build.onto, reason: 'the tests of its batch failed when it was tested alone', errors: tested.errors, reproduce: tested.reproduce });
      return false;
    }
    const [first, second] = splitBatch(entries);
    ctx.log(`batch failed; bisecting: ${first.length} + ${second.length}`);
    await landGroup(ctx, first, signal);
    if (signal?.aborted) return false;
    refreshTip(ctx);
    await landGroup(ctx, second, signal);
    return false;
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    if (signal?.aborted) return false;
    // Pushing a topic again replaces its entry: a replaced commit does not land, and the rest is
    // a tree nobody tested, so it is tested again.
    const replaced = build.merged.filter((m) => isReplaced(ctx, m.entry));
    if (replaced.length > 0) return landGroup(ctx, build.merged.filter((m) => !replaced.includes(m)).map((m) => m.entry), signal);
    const moved = runGit(['update-ref', '-m', `agent-hooks lander: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`, ctx.claimsRef, build.tip, build.onto], { ...ctx.git, okExitCodes: [0, 1, 128] });
    if (moved.exitCode === 0) {
      ctx.tip = build.tip;
      for (const m of build.merged) finish(ctx, m.entry, { state: 'landed', onto: build.tip, reason: `batch of ${build.merged.length}${tested.flaky.length > 0 ? '; a flaky test passed on the retry' : ''}`, errors: [], ...(tested.flaky.length > 0 ? { flaky: tested.flaky } : {}) }, { before: m.before, after: m.after });
      return true;
    }
    const before = build.onto;
    refreshTip(ctx);
    if (!isAncestor(before, ctx.tip, ctx.git) || !isClaimsOnlyMove(changedBetween(ctx.git, before, ctx.tip), ctx.policy)) {
      ctx.log(`${ctx.claimsRef} moved by more than claims; testing again`);
      return landGroup(ctx, entries, signal);
    }
    ctx.log(`${ctx.claimsRef} moved by claims only; merging again without tests`);
    build = buildBatch(ctx, ctx.tip, entries);
    if (build.merged.length === 0) return true;
    // An entry dropped on the way (a lease taken by that claim, a re-push): the rest is a tree
    // nobody tested, so it is tested again.
    if (build.merged.length !== entries.length) return landGroup(ctx, build.merged.map((m) => m.entry), signal);
  }
  return landGroup(ctx, entries, signal);
}

function refreshTip(ctx: Context): void {
  const tip = readRef(ctx.claimsRef, ctx.git);
  if (tip) ctx.tip = tip;
}

