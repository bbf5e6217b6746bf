// The test stage of pre-receive (DESIGN.md "Fast test sampling"): select, materialize the pushed
// tree in a pooled checkout, set up dependencies when they changed, run the command in a clean
// environment with a hard timeout, and report. Built as its own bundle and loaded only when a
// push is tested, so pushes that run no tests never load it.
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { tryLock } from './pid-lock.js';
import { clearRed, noteRed, readFileResult, readRedRecord, writeFileResult, type RunFileOnTree } from './red.js';
import { startWorker } from './worker.js';
import { statePaths } from './state.js';
import { redact } from './spool.js';
import type { TestPolicy } from '../core/policy.js';
import { formatFlaky, formatPreexisting, judgeFailures, type FailureJudgement, type FileResult } from '../core/preexisting.js';
import { failuresFromOutput, formatTestReport, optionLikeTestFiles, selectionKey, setupKey, testArgv, toTestSelection, type TestRun, type TestSelection } from '../core/sampling.js';
import { readTestSelection, readTreeFiles, recordFailures } from './test-evidence.js';
import { formatTime, quote } from '../core/text.js';
import { cleanGitEnv, gitText, readConfig, runGit, type GitOptions } from '../git/git.js';
import { decideSandbox, probeSandbox, readSandboxMode, runIsolated, SANDBOX_WORK_DIR, testEnvironment, type IsolatedResult, type IsolatedRun, type SandboxDecision } from './sandbox.js';

/** What the test stage needs from pre-receive. `progress` prints a line to the pusher right away. */
export interface PushTestInput {
  gitDir: string;
  git: GitOptions;
  refName: string;
  newOid: string;
  policy: TestPolicy;
  seed: string;
  changed: readonly string[];
  /** The claims ref's tip before the push: its recent history gives co-change evidence. */
  claimsTip?: string;
  /** `agenthooks.testConcurrency`: how many test runs at once (pool slots). */
  concurrency: number;
  progress: (line: string) => void;
  /** The Slack webhook URL (a secret), redacted from the log and the report's lines: unsandboxed, a test can read it. */
  webhookUrl?: string;
  /** A selection made by the caller (the lander: the union of a batch's selections) instead of the pusher's. */
  selection?: TestSelection;
  /** The claims ref (a failing test is run again on its tip before the push: `claimsTip`, none in an empty repo). */
  claimsRef: string;
  /** Whether a test found red on the old tip starts the bisector (hooks/red-bisector.ts); default true. */
  bisect?: boolean;
}

/** Logs kept per repository; older ones are removed. */
export const KEEP_LOGS = 50;
/** How often a running test prints a progress line, in ms. */
export const PROGRESS_MS = 5000;

interface Slot {
  dir: string;
  release: () => void;
}

/** The file in a slot that names the process group of the test command running there. */
const groupFileOf = (slotDir: string) => join(slotDir, 'group');

/**
 * Kills the process group a killed hook left running in a slot (its test command, and what that
 * forked), named by the slot's `group` file. It is only killed while it is provably ours: the
 * group exists and its leader is gone (a group id is not reused while the group exists) or
 * still works in this slot (Linux /proc; elsewhere a live leader is left alone).
 */
function killOrphanGroup(slotDir: string): void {
  const file = groupFileOf(slotDir);
  if (!existsSync(file)) return;
  const pgid = Number(readFileSync(file, 'utf8'));
  rmSync(file, { force: true });
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  let leaderCwd: string | undefined;
  try {
    leaderCwd = realpathSync(`/proc/${pgid}/cwd`);
  } catch {
    leaderCwd = undefined;
  }
  let leaderAlive = true;
  try {
    process.kill(pgid, 0);
  } catch {
    leaderAlive = false;
  }
  if (leaderAlive && !(leaderCwd && leaderCwd.startsWith(realpathSync(slotDir)))) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/**
 * Takes one of `concurrency` checkout slots under `<git-dir>/agent-hooks/test/`: a slot is taken
 * by creating its `lock` directory (atomic); a lock whose process is gone is taken over. Waits
 * (with progress) for a free slot up to `waitS` seconds. No repository-wide lock is ever held.
 * @throws Error when no slot frees up in time.
 */
export async function acquireSlot(gitDir: string, concurrency: number, waitS: number, progress: (line: string) => void): Promise<Slot> {
  const base = statePaths(gitDir).tests;
  const deadline = Date.now() + waitS * 1000;
  let told = 0;
  for (;;) {
    for (let i = 0; i < concurrency; i++) {
      const dir = join(base, `slot-${i}`);
      const lock = join(dir, 'lock');
      mkdirSync(dir, { recursive: true });
      const release = tryLock(lock, { orphanMs: 5000 });
      if (release) {
        killOrphanGroup(dir);
        return { dir, release };
      }
    }
    if (Date.now() > deadline) throw new Error(`no free test slot after ${waitS} s (agenthooks.testConcurrency is ${concurrency})`);
    if (Date.now() - told > PROGRESS_MS) {
      progress(`agent-hooks: waiting for a free test slot (${concurrency} in use)`);
      told = Date.now();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Reads a JUnit XML report: failing tests, failed files, and the files that ran (those that are tree paths). */
export function readJUnit(xml: string, treePaths: ReadonlySet<string>): { failures: string[]; failedFiles: string[]; ran: Set<string> } {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'failure', 'error'].includes(name) });
  const doc = parser.parse(xml) as Record<string, unknown>;
  const failures: string[] = [];
  const failedFiles = new Set<string>();
  const ran = new Set<string>();
  const visit = (node: Record<string, unknown>, file?: string) => {
    const here = (node.file as string | undefined) ?? file;
    for (const suite of (node.testsuite as Record<string, unknown>[] | undefined) ?? []) visit(suite, here);
    for (const tc of (node.testcase as Record<string, unknown>[] | undefined) ?? []) {
      const name = String(tc.name ?? '');
      const candidate = [tc.file, tc.classname, here].map((v) => (typeof v === 'string' ? v.replace(/^\.\//, '') : undefined)).find((v) => v && treePaths.has(v));
      if (candidate) ran.add(candidate);
      const problem = [...((tc.failure as unknown[]) ?? []), ...((tc.error as unknown[]) ?? [])][0] as Record<string, unknown> | string | undefined;
      if (problem !== undefined) {
        const message = typeof problem === 'string' ? problem : String(problem.message ?? problem['#text'] ?? '');
        failures.push(`${candidate ? `${candidate}: ` : ''}${name}${message ? `: ${message.trim().split('\n')[0]}` : ''}`);
        if (candidate) failedFiles.add(candidate);
      }
    }
  };
  visit((doc.testsuites as Record<string, unknown> | undefined) ?? doc);
  return { failures, failedFiles: [...failedFiles], ran };
}

/** Rewrites a log with the secret replaced (see {@link redact}); a log that is gone is left alone. */
/**
 * The server's secrets a test must never get into a report or a log (unsandboxed, a test can read
 * the bare repo's config): the Slack webhook URL (`agenthooks.slack.webhookUrl`, or the one the
 * caller has) and the dashboard's `agenthooks.serve.token`. @throws GitError
 */
export function serverSecrets(gitDir: string, webhookUrl?: string): string[] {
  const config = readConfig('^agenthooks\\.(slack\\.webhookurl|serve\\.token)$', { env: { ...cleanGitEnv(), GIT_DIR: gitDir } });
  return [...new Set([webhookUrl, ...(config.get('agenthooks.slack.webhookurl') ?? []), ...(config.get('agenthooks.serve.token') ?? [])].filter((v): v is string => !!v))];
}

/** `text` with every secret replaced: a URL as server/spool.ts redact does (its path too: it holds the webhook's token), anything else by `<redacted>`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => (secret.includes('://') ? redact(out, secret) : out.split(secret).join('<redacted>')), text);
}

function redactLog(logPath: string, secrets: readonly string[]): void {
  if (secrets.length === 0 || !existsSync(logPath)) return;
  const text = readFileSync(logPath, 'utf8');
  const clean = redactSecrets(text, secrets);
  if (clean !== text) writeFileSync(logPath, clean);
}

function pruneLogs(dir: string): void {
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  for (const old of logs.slice(0, Math.max(0, logs.length - KEEP_LOGS))) unlinkSync(join(dir, old));
}

/** The entries (path, blob oid) of a tree, recursively. */
function treeEntries(tree: string, git: GitOptions): { oid: string; path: string }[] {
  return runGit(['ls-tree', '-r', '-z', '--full-tree', tree], git).stdout.toString('utf8').split('\0').filter(Boolean).map((record) => {
    const tab = record.indexOf('\t');
    return { oid: record.slice(0, tab).split(' ')[2]!, path: record.slice(tab + 1) };
  });
}

/** Runs an argv of pushed code in a work dir: sandboxed when the repo's sandbox mode says so, logged, redacted. */
type Isolated = (argv: readonly string[], work: string, network: boolean, onTick?: (s: number) => void) => Promise<IsolatedResult>;

/**
 * The runner of pushed code for one slot (DESIGN.md "Fast test sampling": a clean environment,
 * the sandbox, the hard timeout): every run of a push, its reruns and the bisector's go through it.
 */
function isolatedIn(gitDir: string, sandbox: Exclude<SandboxDecision, { refused: string }>, policy: TestPolicy, slot: Slot, logPath: string, secrets: readonly string[]): Isolated {
  const base = statePaths(gitDir).tests;
  // Unsandboxed, the slots live inside the bare repo: a test that runs git in its checkout must
  // not find it. Sandboxed, nothing above /work exists, and the variable would name the repo.
  const env = sandbox.sandbox ? testEnvironment(process.env) : { ...testEnvironment(process.env), GIT_CEILING_DIRECTORIES: base };
  return (argv, work, network, onTick) => {
    const run: IsolatedRun = { workDir: work, argv, env, timeoutMs: policy.timeout * 1000, network, hide: [realpathSync(gitDir)], logPath, groupFile: groupFileOf(slot.dir), ...(onTick ? { onTick, tickMs: PROGRESS_MS } : {}) };
    return runIsolated(sandbox.sandbox ? { ...run, bwrap: sandbox.bwrap } : run).finally(() => redactLog(logPath, secrets));
  };
}

/** Where a test runs: a taken slot, the runner of pushed code, the log, how to tell the pusher. */
interface SlotRun {
  gitDir: string;
  git: GitOptions;
  slot: Slot;
  policy: TestPolicy;
  isolated: Isolated;
  logPath: string;
  progress: (line: string) => void;
}

/**
 * Puts `tree` in the slot's work dir (outside the bare repo's index and HEAD: the slot's own
 * index, read-tree -u) and runs `test.setup` when the dependency state changed. Returns an error
 * line (without the `ERROR: <ref>:` prefix) when the setup fails.
 */
async function prepareTree(run: SlotRun, tree: string): Promise<string | undefined> {
  const { slot, policy, git } = run;
  const work = join(slot.dir, 'work');
  mkdirSync(work, { recursive: true });
  runGit(['--work-tree', work, 'read-tree', '--reset', '-u', tree], { ...git, env: { ...git.env, GIT_INDEX_FILE: join(slot.dir, 'index') } });
  if (!policy.setup) return undefined;
  const key = setupKey(treeEntries(tree, git), policy);
  const keyFile = join(slot.dir, 'setup-key');
  if (existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) return undefined;
  run.progress(`agent-hooks: dependencies changed; running ${policy.setup.join(' ')}`);
  rmSync(keyFile, { force: true });
  const setup = await run.isolated(policy.setup, work, policy.setupNetwork ?? true);
  if (setup.exitCode !== 0) return `test setup ${policy.setup.join(' ')} ${setup.timedOut ? `timed out after ${setup.seconds} s` : `failed (${setup.spawnError ?? (setup.signal ? `signal ${setup.signal}` : `exit code ${setup.exitCode}`)})`}; fix: see ${run.logPath}`;
  writeFileSync(keyFile, key);
  return undefined;
}

/**
 * Runs one test file alone on the tree already in the slot's work dir: `pass` when the command
 * exits 0, else `fail` (a timeout or a failed setup is a failure too).
 */
async function runFileHere(run: SlotRun, file: string | readonly string[]): Promise<FileResult> {
  const result = await run.isolated(testArgv(run.policy.command, typeof file === 'string' ? [file] : file), join(run.slot.dir, 'work'), run.policy.network ?? false);
  return result.exitCode === 0 && !result.timedOut ? 'pass' : 'fail';
}

/**
 * Runs one test file on a tree in a slot it holds, with the result cached by tree, file and
 * command (server/red.ts): a tree is immutable, so each file runs at most once on it. Used on
 * the claims ref's old tip and by the bisector.
 */
async function runFileOnTree(run: SlotRun, tree: string, file: string): Promise<FileResult> {
  const cached = readFileResult(run.gitDir, tree, file, run.policy.command);
  if (cached) return cached;
  const problem = await prepareTree(run, tree);
  let result = problem ? 'fail' : await runFileHere(run, file);
  // A failure is run once more before it is believed and cached: one flaky failure on the old tip
  // must not excuse every later push that really breaks the test, for as long as main stays there.
  if (!problem && result === 'fail') result = await runFileHere(run, file);
  if (!problem) writeFileResult(run.gitDir, tree, file, run.policy.command, result);
  return result;
}

/**
 * A runner of one test file on one tree for the bisector (hooks/red-bisector.ts): takes a test
 * slot per run (so it never holds one while pushes wait), in the same clean environment and
 * sandbox as a push's tests, and logs to `<state>/test/logs/bisect.log`. A sandbox that is
 * required but cannot run makes every run a failure (the bisect then says `unknown`).
 */
export function bisectRunner(gitDir: string, git: GitOptions, policy: TestPolicy, concurrency: number): RunFileOnTree {
  const logDir = join(statePaths(gitDir).tests, 'logs');
  return async (tree, file) => {
    const cached = readFileResult(gitDir, tree, file, policy.command);
    if (cached) return cached;
    mkdirSync(logDir, { recursive: true });
    // The same sandbox as a push's tests; a repo that refuses to run tests unsandboxed fails the probe.
    const chosen = readSandboxMode(git);
    const sandbox = decideSandbox('problem' in chosen ? 'required' : chosen.mode, () => probeSandbox());
    if ('refused' in sandbox) return 'fail';
    const slot = await acquireSlot(gitDir, concurrency, policy.timeout, () => {});
    try {
      const logPath = join(logDir, 'bisect.log');
      return await runFileOnTree({ gitDir, git, slot, policy, isolated: isolatedIn(gitDir, sandbox, policy, slot, logPath, serverSecrets(gitDir)), logPath, progress: () => {} }, tree, file);
    } finally {
      slot.release();
    }
  };
}

/** At most this many failing files are run again (on a retry and on the old tip); more blames the push as before. */
export const MAX_RECHECK = 10;

/** What the rerun of a failed test run found: the judgement, and the WARNING lines for the files not blamed. */
interface Recheck {
  judged: FailureJudgement;
  warnings: string[];
  /** The run failed, but every file passed on its own on a retry: the run as a whole was flaky. */
  runFlaky: boolean;
}

/**
 * Runs the failing files of a failed test run again (DESIGN.md "Failures that predate the push
 * are not its fault"): each alone on the same tree (passing now: flaky), then those still failing
 * on the claims ref's old tip (failing there too: pre-existing, noted for the bisector). The
 * failing files are those of the JUnit report; without one, those the failure lines name when
 * the other selected files pass together on a rerun; else every selected file, each run alone.
 * Returns undefined when nothing can be rechecked (a timeout, files that did not run, no old tip,
 * or more than {@link MAX_RECHECK} failing files).
 */
async function recheckFailures(run: SlotRun, input: PushTestInput, tree: string, testRun: TestRun, selection: TestSelection): Promise<Recheck | undefined> {
  if (testRun.timedOut || testRun.missing.length > 0) return undefined;
  let known = testRun.failedFiles !== undefined && testRun.failedFiles.length > 0;
  let candidates = known ? testRun.failedFiles! : selection.files;
  if (!known) {
    // No report: the files the failure lines name are the suspects, once the others pass together.
    const named = selection.files.filter((f) => testRun.failures.some((l) => l.includes(f)));
    const rest = selection.files.filter((f) => !named.includes(f));
    if (named.length > 0 && named.length <= MAX_RECHECK && rest.length > 0 && (await runFileHere(run, rest)) === 'pass') {
      known = true;
      candidates = named;
    }
  }
  if (candidates.length === 0 || candidates.length > MAX_RECHECK) return undefined;
  input.progress(`agent-hooks: running ${candidates.length} failing test file${candidates.length === 1 ? '' : 's'} again (a retry, then on ${input.claimsRef.replace(/^refs\/heads\//, '')} before this push)`);
  const retry = new Map<string, FileResult>();
  for (const file of candidates) retry.set(file, await runFileHere(run, file));
  // Without a report, a file that passes alone is one that did not fail: only the run as a whole can be flaky.
  const failing = known ? candidates : candidates.filter((f) => retry.get(f) === 'fail');
  if (failing.length === 0) {
    const named = candidates.filter((f) => testRun.failures.some((l) => l.includes(f)));
    const what = named.length > 0 ? ` (failures named ${named.join(', ')})` : '';
    return { judged: { blamed: [], flaky: [], preexisting: [] }, warnings: [`WARNING: ${input.refName}: the test run failed${what}, then each of its ${candidates.length} files passed on a retry of the same tree ${tree.slice(0, 10)} (flaky); not blamed on this push`], runFlaky: true };
  }
  const onOldTip = new Map<string, FileResult>();
  const oldTip = input.claimsTip;
  if (oldTip) {
    const oldTree = gitText(['rev-parse', `${oldTip}^{tree}`], input.git);
    for (const file of failing) {
      if (retry.get(file) === 'pass') continue;
      const present = runGit(['ls-tree', '--name-only', oldTree, '--', file], input.git).stdout.toString('utf8').trim() !== '';
      if (present) onOldTip.set(file, await runFileOnTree(run, oldTree, file));
    }
  }
  const judged = judgeFailures(failing, retry, onOldTip);
  const mode = input.policy.preexisting ?? 'accept';
  const warnings = judged.flaky.map((f) => formatFlaky(f, tree));
  let newRed = false;
  for (const test of judged.preexisting) {
    const { policy } = input;
    newRed = noteRed(input.gitDir, { ref: input.claimsRef, test, redAt: oldTip!, seen: formatTime(Date.now()), state: 'bisecting', announced: false, command: policy.command, ...(policy.setup ? { setup: policy.setup } : {}), ...(policy.setupInputs ? { setupInputs: policy.setupInputs } : {}), timeout: policy.timeout }) || newRed;
    const record = readRedRecord(input.gitDir, input.claimsRef, test);
    warnings.push(formatPreexisting(test, input.claimsRef, record?.culprit, mode));
  }
  if (newRed && input.bisect !== false) {
    try {
      startWorker('red-bisector', input.gitDir);
    } catch {
      // no process to spare: the next push that sees the test red starts it
    }
  }
  return { judged, warnings, runFlaky: false };
}

/**
 * Runs the sampled tests of one pushed ref and returns the report lines and whether they passed.
 * A tree that already passed the same selection is not run again. When tests fail, the failing
 * files are run again ({@link recheckFailures}): flaky files and (with `test.preexisting` accept,
 * the default) files that fail on the claims ref's old tip too are reported with a WARNING and
 * not held against the push.
 */
export async function runPushTests(input: PushTestInput): Promise<{ lines: string[]; passed: boolean; selection?: TestSelection }> {
  const { policy, git } = input;
  const tree = gitText(['rev-parse', `${input.newOid}^{tree}`], git);
  const secrets = serverSecrets(input.gitDir, input.webhookUrl);
  const entries = readTreeFiles(tree, git);
  const paths = entries.map((e) => e.path);
  const optionLike = optionLikeTestFiles(paths, policy);
  if (optionLike.length > 0) {
    return { lines: optionLike.slice(0, 20).map((f) => `ERROR: ${input.refName}: test file ${quote(f)} starts with "-", so the test runner would read it as an option; fix: git mv -- ${quote(f)} <a name without a leading "-">`), passed: false };
  }
  const state = statePaths(input.gitDir);
  // The lander passes the union of its batch's selections; pre-receive selects here.
  const picked = input.selection ? undefined : await readTestSelection({ git, treeish: tree, files: entries, ...(input.claimsTip ? { claimsTip: input.claimsTip } : {}), changed: input.changed, policy, seed: input.seed, stateDir: state.home });
  const selection = input.selection ?? toTestSelection(picked!.selection, policy.sample);
  const notes = picked?.notes ?? [];
  if (selection.files.length === 0) return { lines: [`Tests: none (no file matches test.files ${policy.files.join(', ')})`], passed: true };
  const base = statePaths(input.gitDir).tests;
  const passedMarker = join(statePaths(input.gitDir).testPassed, selectionKey(tree, policy.command, selection.files));
  if (existsSync(passedMarker)) {
    return { lines: [`Tests: tree ${tree.slice(0, 10)} already passed these ${selection.files.length} files (seed ${input.seed}); not run again`], passed: true, selection };
  }
  const logDir = join(base, 'logs');
  mkdirSync(logDir, { recursive: true });
  pruneLogs(logDir);
  const logPath = join(logDir, `${formatTime(Date.now()).replace(/[-:]/g, '')}-${input.newOid.slice(0, 10)}-${input.seed}.log`);
  const reproduce = `git fetch && git checkout ${input.newOid.slice(0, 10)} && agent-hooks test --fast --agent ${input.seed}`;
  const chosen = readSandboxMode(git);
  if ('problem' in chosen) return { lines: [`ERROR: ${input.refName}: ${chosen.problem}; fix: git config agenthooks.testSandbox auto`], passed: false, selection };
  const sandbox = decideSandbox(chosen.mode, () => probeSandbox());
  if ('refused' in sandbox) return { lines: [`ERROR: ${input.refName}: ${sandbox.refused}`], passed: false, selection };
  const warnings = 'warning' in sandbox && sandbox.warning ? [`WARNING: ${input.refName}: ${sandbox.warning}`] : [];
  const slot = await acquireSlot(input.gitDir, input.concurrency, policy.timeout, input.progress);
  try {
    const work = join(slot.dir, 'work');
    const isolated = isolatedIn(input.gitDir, sandbox, policy, slot, logPath, secrets);
    const slotRun: SlotRun = { gitDir: input.gitDir, git, slot, policy, isolated, logPath, progress: input.progress };
    // The pushed tree, outside the bare repo's index and HEAD, and its dependencies.
    const problem = await prepareTree(slotRun, tree);
    if (problem) return { lines: [...warnings, `ERROR: ${input.refName}: ${problem}`].map((l) => redactSecrets(l, secrets)), passed: false, selection };
    const report = policy.junit ? join(work, policy.junit) : undefined;
    if (report) rmSync(report, { force: true });
    const argv = testArgv(policy.command, selection.files);
    input.progress(`agent-hooks: running ${selection.files.length} of ${selection.total} test files (seed ${input.seed})`);
    const result = await isolated(argv, work, policy.network ?? false, (s) => input.progress(`agent-hooks: tests running, ${s} s`));
    const run: TestRun = { exitCode: result.exitCode, ...(result.signal ? { signal: result.signal } : {}), timedOut: result.timedOut, seconds: result.seconds, failures: [], missing: [], unexpected: [] };
    if (result.spawnError) run.failures.push(`cannot run test.command ${argv[0]}: ${result.spawnError}`);
    if (report && existsSync(report) && !result.timedOut) {
      const junit = readJUnit(readFileSync(report, 'utf8'), new Set(paths));
      run.failures.push(...junit.failures);
      if (junit.ran.size > 0) {
        run.failedFiles = junit.failedFiles;
        run.missing = selection.files.filter((f) => !junit.ran.has(f));
        run.unexpected = [...junit.ran].filter((f) => !selection.files.includes(f));
      }
    }
    if (run.failures.length === 0 && result.exitCode !== 0 && !result.timedOut) run.failures.push(...failuresFromOutput(result.output, selection.files));
    // Paths inside the slot (or the sandbox) mean nothing to the pusher: show them relative to the repository.
    const inside = result.sandboxed ? SANDBOX_WORK_DIR : work;
    run.failures = run.failures.map((f) => f.split(`file://${inside}/`).join('').split(`${inside}/`).join(''));
    const formatted = formatTestReport(input.refName, selection, run, reproduce, logPath);
    const { passed } = formatted;
    const lines = [formatted.lines[0]!, ...notes, ...formatted.lines.slice(1)];
    // "Failed before" evidence (server/test-evidence.ts): only failures this push is blamed for;
    // flaky ones and those already red on the old tip say nothing about the paths it changes.
    const failedFiles = run.failedFiles ?? selection.files.filter((f) => run.failures.some((line) => line.includes(f)));
    const record = (files: readonly string[]) => {
      if (files.length > 0) recordFailures(state.home, input.changed, [...files]);
    };
    const done = (out: string[], ok: boolean) => ({ lines: [...warnings, ...out].map((l) => redactSecrets(l, secrets)), passed: ok, selection });
    // Red tests of the claims ref that pass on a tree pushed to it are green again.
    if (input.refName === input.claimsRef && !run.timedOut && run.missing.length === 0) {
      const green = passed ? selection.files : run.failedFiles && run.failedFiles.length > 0 ? selection.files.filter((f) => !run.failedFiles!.includes(f)) : [];
      clearRed(input.gitDir, input.claimsRef, green);
    }
    if (passed) {
      mkdirSync(statePaths(input.gitDir).testPassed, { recursive: true });
      writeFileSync(passedMarker, `${formatTime(Date.now())} ${input.newOid}\n`);
      return done(lines, true);
    }
    // The reruns log on their own, so the push's log holds the one run it reports.
    const rerunLog = logPath.replace(/\.log$/, '.rerun.log');
    const rerun: SlotRun = { ...slotRun, isolated: isolatedIn(input.gitDir, sandbox, policy, slot, rerunLog, secrets), logPath: rerunLog };
    const recheck = result.spawnError ? undefined : await recheckFailures(rerun, input, tree, run, selection);
    if (existsSync(rerunLog)) lines.push(`log of the reruns: ${rerunLog}`);
    if (!recheck) {
      if (!run.timedOut) record(failedFiles);
      return done(lines, false);
    }
    const { judged } = recheck;
    record(judged.blamed);
    const excused = new Set([...judged.flaky, ...((policy.preexisting ?? 'accept') === 'accept' ? judged.preexisting : [])]);
    const cleared = recheck.runFlaky || judged.blamed.length + judged.preexisting.length + judged.flaky.length === excused.size;
    // An ERROR line is dropped when the push is cleared, or when it names only an excused file.
    const kept = lines.filter((l) => !l.startsWith('ERROR: ') || (!cleared && ![...excused].some((f) => l.includes(f))));
    return done([kept[0]!, ...recheck.warnings, ...kept.slice(1)], cleared);
  } finally {
    slot.release();
  }
}
