// Test sampling (DESIGN.md "Fast test sampling"): which test files a push runs, the command that
// runs them, and the report the pusher sees. Pure (node:crypto for a stable hash only).
import { createHash } from 'node:crypto';
import { compilePattern } from './glob.js';
import type { TestPolicy } from './policy.js';
import { quote } from './text.js';

/** The chosen test files and why: `sampled` by rank, `changed` by the push, `always` by policy. `total` test files in the tree. */
export interface TestSelection {
  files: string[];
  sampled: string[];
  changed: string[];
  always: string[];
  total: number;
  seed: string;
  sample: number;
}

const matcher = (globs: readonly string[]) => {
  const tests = globs.map((g) => compilePattern(g));
  return (path: string) => tests.some((t) => t(path));
};

/** Rank of a test file for a seed: hex SHA-256 of `seed NUL path`; the same on every machine. */
export const rankOf = (seed: string, path: string): string => createHash('sha256').update(`${seed}\0${path}`).digest('hex');

/**
 * Selects the tests of a tree: the files matching `test.files`, ranked by {@link rankOf} with the
 * seed (the pusher's agent id), the first `ceil(sample x n)` of them (at least one), plus every
 * test file the push changed that is still in the tree, plus the `test.always` matches; sorted.
 * `all` selects every test file (`agent-hooks test --all`).
 */
export function selectTests(paths: readonly string[], policy: TestPolicy, seed: string, changed: readonly string[], all = false): TestSelection {
  const isTest = matcher(policy.files);
  const tests = paths.filter(isTest);
  const count = all ? tests.length : Math.min(tests.length, Math.max(1, Math.ceil(policy.sample * tests.length)));
  const sampled = tests
    .map((path) => ({ path, rank: rankOf(seed, path) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .slice(0, count)
    .map((t) => t.path);
  const inTree = new Set(tests);
  const changedTests = changed.filter((p) => inTree.has(p));
  const always = tests.filter(matcher(policy.always));
  return { files: [...new Set([...sampled, ...changedTests, ...always])].sort(), sampled: sampled.sort(), changed: changedTests, always, total: tests.length, seed, sample: all ? 1 : policy.sample };
}

/**
 * The test argv: the files replace a `{files}` argument, else they are appended. A file whose
 * path starts with `-` would be read by the runner as an option (`--test-name-pattern=X.test.mjs`
 * makes `node --test` skip every test); pre-receive refuses such names ({@link optionLikeTestFiles}),
 * and here they are passed as `./<path>` all the same.
 */
export function testArgv(command: readonly string[], files: readonly string[]): string[] {
  const safe = files.map((f) => (f.startsWith('-') ? `./${f}` : f));
  return command.includes('{files}') ? command.flatMap((arg) => (arg === '{files}' ? safe : [arg])) : [...command, ...safe];
}

/** The test files (paths matching `test.files`) whose name starts with `-`, which a runner would take for an option. */
export function optionLikeTestFiles(paths: readonly string[], policy: TestPolicy): string[] {
  const isTest = matcher(policy.files);
  return paths.filter((p) => p.startsWith('-') && isTest(p));
}

/** Whether a ref is tested: it matches one of `test.refs` (globs of ref names), default the claims ref. */
export function isTestedRef(refName: string, policy: TestPolicy, claimsRef: string): boolean {
  return policy.refs ? matcher(policy.refs)(refName) : refName === claimsRef;
}

/** The key of a selection for the result cache: a tree passes once per command and file list. */
export function selectionKey(treeOid: string, command: readonly string[], files: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify([treeOid, command, files])).digest('hex').slice(0, 32);
}

/** The dependency state of a tree: a hash of the oids of its `setupInputs` files, and the setup argv. */
export function setupKey(entries: readonly { path: string; oid: string }[], policy: TestPolicy): string {
  const isInput = matcher(policy.setupInputs ?? DEFAULT_SETUP_INPUTS);
  const inputs = entries.filter((e) => isInput(e.path)).map((e) => `${e.oid} ${e.path}`).sort();
  return createHash('sha256').update(JSON.stringify([policy.setup ?? [], inputs])).digest('hex').slice(0, 32);
}

/** Package managers' lock files: what `test.setupInputs` means by default. */
export const DEFAULT_SETUP_INPUTS = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', '**/package.json'];

/** How a run ended: exit code, or timed out (seconds), with the failing tests found in a report or the output. */
export interface TestRun {
  exitCode: number | null;
  /** The signal that killed the test command (e.g. SIGSEGV), when no exit code. */
  signal?: string;
  timedOut: boolean;
  /** Failing tests, one line each (`file: test name: message`). */
  failures: string[];
  /** Per-file results, when a report gave them: files that failed; the rest of the selection passed. */
  failedFiles?: string[];
  /** Selected files the report shows did not run, and files that ran without being selected. */
  missing: string[];
  unexpected: string[];
  seconds: number;
}

/** At most this many failure lines reach the pusher. */
export const MAX_FAILURE_LINES = 20;

/**
 * The report for the pusher (about 25 lines at most): `Tests: P/T passed, F failed (sample 10% of
 * N files, seed agent-3)`, up to 20 `ERROR:` lines, the command that reproduces the run, the log.
 */
export function formatTestReport(refName: string, selection: TestSelection, run: TestRun, reproduce: string, logPath: string): { lines: string[]; passed: boolean } {
  const t = selection.files.length;
  const what = `(sample ${Math.round(selection.sample * 100)}% of ${selection.total} files, seed ${selection.seed})`;
  const passed = run.exitCode === 0 && !run.timedOut && run.missing.length === 0;
  const ending = run.signal ? `was killed by signal ${run.signal}` : `exited with code ${run.exitCode}`;
  const lines: string[] = [];
  if (run.timedOut) {
    lines.push(`Tests: ${t} files, timed out after ${run.seconds} s ${what}`);
    lines.push(`ERROR: ${refName}: tests timed out after ${run.seconds} s (test.timeout); fix: make the slow test faster, or raise test.timeout; ${reproduce}`);
  } else {
    const failed = run.failedFiles ? run.failedFiles.length : passed ? 0 : t;
    const counted = run.failedFiles ? `${t - failed}/${t} passed, ${failed} failed` : passed ? `${t}/${t} passed, 0 failed` : `failed ${run.signal ? `(killed by signal ${run.signal})` : `with exit code ${run.exitCode}`} (${t} files)`;
    lines.push(`Tests: ${counted} ${what}`);
  }
  const errors = [
    ...run.missing.map((f) => `selected test file ${quote(f)} did not run (does the runner treat file arguments as filters?)`),
    ...run.failures,
  ];
  if (!passed && !run.timedOut && errors.length === 0) errors.push(`the test command ${ending}; fix: run it locally (see reproduce)`);
  for (const e of errors.slice(0, MAX_FAILURE_LINES)) lines.push(`ERROR: ${refName}: ${e}`);
  if (errors.length > MAX_FAILURE_LINES) lines.push(`ERROR: ${refName}: and ${errors.length - MAX_FAILURE_LINES} more failures (see the log)`);
  if (run.unexpected.length > 0) lines.push(`WARNING: ${refName}: the runner also ran ${run.unexpected.length} unselected files (${run.unexpected.slice(0, 3).map(quote).join(', ')}${run.unexpected.length > 3 ? ', ...' : ''})`);
  lines.push(`reproduce: ${reproduce}`);
  lines.push(`log: ${logPath}`);
  return { lines, passed };
}

const FAILURE_MARK = /^\s*(✖|✗|×|not ok\b|FAIL\b|FAILED\b|Error:|AssertionError)/;

/**
 * Failure lines from a runner's output when there is no report: lines that mark a failure
 * (`✖`, `not ok`, `FAIL`, ...) or name a selected file, deduplicated, in order.
 */
export function failuresFromOutput(output: readonly string[], files: readonly string[]): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const raw of output) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '').trim();
    if (!line || seen.has(line)) continue;
    if (FAILURE_MARK.test(line) || files.some((f) => line.includes(f))) {
      seen.add(line);
      found.push(line.length > 300 ? `${line.slice(0, 297)}...` : line);
    }
  }
  return found;
}
