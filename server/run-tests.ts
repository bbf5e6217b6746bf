// The test stage of pre-receive (DESIGN.md "Fast test sampling"): select, materialize the pushed
// tree in a pooled checkout, set up dependencies when they changed, run the command in a clean
// environment with a hard timeout, and report. Built as its own bundle and loaded only when a
// push is tested, so pushes that run no tests never load it.
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { tryLock } from './pid-lock.js';
import { statePaths } from './state.js';
import { redact } from './spool.js';
import type { TestPolicy } from '../core/policy.js';
import { failuresFromOutput, formatTestReport, optionLikeTestFiles, selectionKey, setupKey, testArgv, toTestSelection, type TestRun, type TestSelection } from '../core/sampling.js';
import { readTestSelection, readTreeFiles, recordFailures } from './test-evidence.js';
import { formatTime, quote } from '../core/text.js';
import { gitText, runGit, type GitOptions } from '../git/git.js';
import { decideSandbox, probeSandbox, readSandboxMode, runIsolated, SANDBOX_WORK_DIR, testEnvironment, type IsolatedRun } from './sandbox.js';

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
function redactLog(logPath: string, secret: string | undefined): void {
  if (!secret || !existsSync(logPath)) return;
  const text = readFileSync(logPath, 'utf8');
  const clean = redact(text, secret);
  if (clean !== text) writeFileSync(logPath, clean);
}

function pruneLogs(dir: string): void {
  const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  for (const old of logs.slice(0, Math.max(0, logs.length - KEEP_LOGS))) unlinkSync(join(dir, old));
}

/**
 * Runs the sampled tests of one pushed ref and returns the report lines and whether they passed.
 * A tree that already passed the same selection is not run again.
 */
export async function runPushTests(input: PushTestInput): Promise<{ lines: string[]; passed: boolean; selection?: TestSelection }> {
  const { policy, git } = input;
  const tree = gitText(['rev-parse', `${input.newOid}^{tree}`], git);
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
  const passedMarker = join(base, 'passed', selectionKey(tree, policy.command, selection.files));
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
  // Unsandboxed, the slots live inside the bare repo: a test that runs git in its checkout must
  // not find it. Sandboxed, nothing above /work exists, and the variable would name the repo.
  const env = sandbox.sandbox ? testEnvironment(process.env) : { ...testEnvironment(process.env), GIT_CEILING_DIRECTORIES: base };
  const isolated = (argv: readonly string[], work: string, network: boolean, onTick?: (s: number) => void): Promise<Awaited<ReturnType<typeof runIsolated>>> => {
    const run: IsolatedRun = { workDir: work, argv, env, timeoutMs: policy.timeout * 1000, network, hide: [realpathSync(input.gitDir)], logPath, groupFile: groupFileOf(slot.dir), ...(onTick ? { onTick, tickMs: PROGRESS_MS } : {}) };
    return runIsolated(sandbox.sandbox ? { ...run, bwrap: sandbox.bwrap } : run).finally(() => redactLog(logPath, input.webhookUrl));
  };
  const slot = await acquireSlot(input.gitDir, input.concurrency, policy.timeout, input.progress);
  try {
    const work = join(slot.dir, 'work');
    mkdirSync(work, { recursive: true });
    // The pushed tree, outside the bare repo's index and HEAD: the slot's own index, read-tree -u.
    runGit(['--work-tree', work, 'read-tree', '--reset', '-u', tree], { ...git, env: { ...git.env, GIT_INDEX_FILE: join(slot.dir, 'index') } });
    if (policy.setup) {
      const key = setupKey(entries, policy);
      const keyFile = join(slot.dir, 'setup-key');
      if (!existsSync(keyFile) || readFileSync(keyFile, 'utf8') !== key) {
        input.progress(`agent-hooks: dependencies changed; running ${policy.setup.join(' ')}`);
        const setup = await isolated(policy.setup, work, policy.setupNetwork ?? true);
        if (setup.exitCode !== 0) {
          return { lines: [...warnings, `ERROR: ${input.refName}: test setup ${policy.setup.join(' ')} ${setup.timedOut ? `timed out after ${setup.seconds} s` : `failed (${setup.spawnError ?? (setup.signal ? `signal ${setup.signal}` : `exit code ${setup.exitCode}`)})`}; fix: see ${logPath}`], passed: false, selection };
        }
        writeFileSync(keyFile, key);
      }
    }
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
    const lines = [...warnings, formatted.lines[0]!, ...notes, ...formatted.lines.slice(1)];
    if (!passed && !run.timedOut) recordFailures(state.home, input.changed, run.failedFiles ?? selection.files.filter((f) => run.failures.some((line) => line.includes(f))));
    if (passed) {
      mkdirSync(join(base, 'passed'), { recursive: true });
      writeFileSync(passedMarker, `${formatTime(Date.now())} ${input.newOid}\n`);
    }
    return { lines: lines.map((l) => redact(l, input.webhookUrl)), passed, selection };
  } finally {
    slot.release();
  }
}
