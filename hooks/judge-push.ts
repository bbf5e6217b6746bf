// What pre-receive decides for one push (DESIGN.md "What pre-receive rejects"), given its stdin
// and environment: gathers inputs (env, git), calls the pure checkPush (rules 1-6), runs the tests
// that planTestRuns plans (rule 7), and returns what the pure decidePush decides. Run by the
// pre-receive bundle for its own process, and by the resident checker (hooks/checker.ts) for
// each push a client hands it; so nothing here reads process.env or writes to stderr itself.
import { resolve } from 'node:path';
import { pushOption } from '../core/identity.js';
import { checkPush } from '../core/push-rules.js';
import { decidePush, planTestRuns, type TestOutcome } from '../core/push-decision.js';
import { isDelete, isZeroOid, parseRefUpdates, type RefUpdate } from '../core/ref-update.js';
import { errorsOf } from '../core/verdict.js';
import { formatTime } from '../core/text.js';
import { VERSION } from '../core/version.js';
import { appendEvent } from '../server/events-log.js';
import { appendOverrideLog } from '../server/override-log.js';
import { readChangedPaths, readConfig, readNetChangedPaths } from '../git/git.js';
import { redact, repoName, spoolEvent, startSender, webhookUrlFrom } from '../server/spool.js';
import { changeExcludes, hookGitOptions, readPushInput, writeClaimsCache } from '../server/read-push.js';
import { readQueueVerdicts } from '../server/read-queue.js';

/**
 * Rule 7: runs the tests {@link planTestRuns} plans, one ref update after another. The test stage
 * is its own bundle, loaded only when a test runs.
 */
async function runTests(input: ReturnType<typeof readPushInput>, env: NodeJS.ProcessEnv, options: JudgeOptions): Promise<TestOutcome | 'declined'> {
  const test = input.policy.test;
  const git = hookGitOptions(env);
  const changedPaths = (u: RefUpdate) => [...(input.changes.find((c) => c.refName === u.refName)?.paths ?? readChangedPaths(u.newOid, changeExcludes(u, input.claimsTip), git)).keys()];
  // The whole tree diff against the old tip: the claims ref's was read already; another tested
  // ref's is read against its old value (or the claims ref's tip for a new ref).
  const netChangedPaths = (u: RefUpdate) => {
    if (u.refName === input.claimsRef && input.claimsNet) return input.claimsNet;
    const base = isZeroOid(u.oldOid) ? input.claimsTip : u.oldOid;
    return base ? readNetChangedPaths(base, u.newOid, git) : [];
  };
  const runs = planTestRuns(input.updates, input.policy, input.claimsRef, changedPaths, netChangedPaths);
  if (runs.length > 0 && options.tests === 'decline') return 'declined';
  const lines: string[] = [];
  let passed = true;
  // Unsandboxed (testSandbox off, or auto without bwrap) a test can read the webhook URL; it never
  // reaches the pusher through the report's lines, nor the log.
  const url = runs.length > 0 ? webhookUrlFrom(readConfig('^agenthooks\\.slack\\.webhookurl$', git).get('agenthooks.slack.webhookurl')?.at(-1), env) : undefined;
  for (const run of runs) {
    const { runPushTests } = (await import(new URL('./run-tests.mjs', import.meta.url).href)) as typeof import('../server/run-tests.js');
    const result = await runPushTests({
      gitDir: git.env!.GIT_DIR!,
      git,
      refName: run.update.refName,
      newOid: run.update.newOid,
      policy: test!,
      seed: input.pusher.id ?? 'unknown',
      changed: run.changed,
      ...(input.claimsTip ? { claimsTip: input.claimsTip } : {}),
      concurrency: input.testConcurrency,
      claimsRef: input.claimsRef,
      progress: options.progress,
      webhookUrl: url,
    });
    lines.push(...result.lines);
    passed &&= result.passed;
  }
  return { lines, passed };
}

/**
 * With `notify.rejections` on, a refused push is announced too: who, which refs, and the ERROR
 * lines (which rule, which tests). Spooled like any notification; a failure to spool is ignored,
 * since the push is refused either way.
 */
function announceRejection(input: ReturnType<typeof readPushInput>, errors: string[], now: number, env: NodeJS.ProcessEnv): void {
  const git = hookGitOptions(env);
  const url = webhookUrlFrom(readConfig('^agenthooks\\.slack\\.webhookurl$', git).get('agenthooks.slack.webhookurl')?.at(-1), env);
  if (!url) return;
  const gitDir = git.env!.GIT_DIR!;
  try {
    spoolEvent(gitDir, {
      id: `${formatTime(now)}-rejected`,
      time: formatTime(now),
      repo: repoName(gitDir),
      pusher: input.pusher.id ?? 'unknown',
      refs: input.updates.map((u) => ({ refName: u.refName, kind: isZeroOid(u.oldOid) ? 'create' : isDelete(u) ? 'delete' : 'update', oldOid: u.oldOid, newOid: u.newOid, commits: [], moreCommits: 0, discarded: 0 })),
      claims: [],
      rejected: errors.map((l) => redact(l, url)),
    });
    startSender(gitDir);
  } catch {
    // the push is refused anyway; the pusher already has the lines
  }
}

/**
 * Every refused push goes into the events log (the dashboard's list of rejections), whatever
 * `notify.rejections` says; doctor's synthetic pushes do not. A failure to write is ignored: the
 * push is refused either way.
 */
function recordRejection(input: ReturnType<typeof readPushInput>, errors: string[], now: number, gitDir: string): void {
  if (input.updates.every((u) => u.refName.startsWith(DOCTOR_REF_PREFIX))) return;
  try {
    appendEvent(gitDir, { kind: 'rejected', time: formatTime(now), pusher: input.pusher.id ?? 'unknown', refs: input.updates.map((u) => u.refName), errors });
  } catch {
    // the pusher already has the lines
  }
}

/** Refs that `agent-hooks doctor` pushes to: judged as usual, then always refused. */
export const DOCTOR_REF_PREFIX = 'refs/agent-hooks/doctor/';

/** How {@link judgePush} treats rule 7. */
export interface JudgeOptions {
  /** 'run' the planned tests, or 'decline' a push that needs any (the resident checker's answer: the client then runs the hook itself). */
  tests: 'run' | 'decline';
  /** Where the test stage's progress lines go (the pusher's stderr). */
  progress: (line: string) => void;
}

/**
 * Judges one push: `stdin` is pre-receive's input (`<old> <new> <ref>` lines), `env` the hook's
 * environment (GIT_DIR, the quarantine's object directories, push options, identity variables;
 * relative paths resolve against the process's cwd, the git dir). Returns the lines for the
 * pusher and the exit code, or 'declined' when `options.tests` is 'decline' and rule 7 plans a
 * test run. Writes the claims cache, the override log, the events log and a rejection's notice
 * as the push requires.
 * @throws GitError, ConfigError (the caller turns them into one `ERROR: internal:` line).
 */
export async function judgePush(stdin: Buffer, env: NodeJS.ProcessEnv, options: JudgeOptions): Promise<{ lines: string[]; exitCode: number } | 'declined'> {
  const updates = parseRefUpdates(stdin.toString('utf8'));
  if (updates.length === 0) return { lines: [], exitCode: 0 };
  const now = Date.now();
  const gitDir = resolve(env.GIT_DIR ?? '.');
  const input = readPushInput(updates, env, now);
  const verdicts = [...checkPush(input), ...readQueueVerdicts(input, hookGitOptions(env), DOCTOR_REF_PREFIX)];
  // Tests run only for a push that passed every other rule: rule 7 comes last.
  const tests = errorsOf(verdicts).length === 0 ? await runTests(input, env, options) : undefined;
  if (tests === 'declined') return 'declined';
  const decision = decidePush({ updates, verdicts, tests, pusher: input.pusher.id, overrideReason: pushOption(input.pushOptions, 'override'), doctorRefPrefix: DOCTOR_REF_PREFIX, version: VERSION });
  // The claims at the claims ref's new tip, for the next push: only once this one is accepted.
  if (decision.exitCode === 0 && input.claimsCacheAfter) writeClaimsCache(gitDir, input.claimsCacheAfter);
  if (decision.override) appendOverrideLog(gitDir, { time: formatTime(now), ...decision.override });
  if (decision.rejected) recordRejection(input, decision.lines.filter((l) => l.startsWith('ERROR: ')), now, gitDir);
  if (decision.rejected && input.policy.notify.rejections) announceRejection(input, decision.lines.filter((l) => l.startsWith('ERROR: ')), now, env);
  return { lines: decision.lines, exitCode: decision.exitCode };
}
