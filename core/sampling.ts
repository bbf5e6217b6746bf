// Test sampling (DESIGN.md "Fast test sampling"): which test files a push runs, the command that
// runs them, and the report the pusher sees. Pure (node:crypto for a stable hash only).
import { createHash } from 'node:crypto';
import { compilePattern } from './glob.js';
import type { TestPolicy } from './policy.js';
import { formatSelectionCounts, rankOf, selectTestFiles, type Selection } from './selection.js';
import { quote } from './text.js';

/**
 * The chosen test files (for the runner, in run order) and the selection they come from:
 * `sampled` by rank, `changed` by the push, `always` by policy. `total` test files in the tree.
 */
export interface TestSelection {
  files: string[];
  sampled: string[];
  changed: string[];
  always: string[];
  total: number;
  seed: string;
  sample: number;
  /** The full selection with each file's reasons (DESIGN.md "Which tests a change runs"). */
  picked: Selection;
}

const matcher = (globs: readonly string[]) => {
  const tests = globs.map((g) => compilePattern(g));
  return (path: string) => tests.some((t) => t(path));
};

export { rankOf };

/** The runner's view of a selection: its files in run order, and which came from where. */
export function toTestSelection(picked: Selection, sample: number): TestSelection {
  const withReason = (r: string) => picked.files.filter((f) => f.reasons.at(-1) === r || f.reasons[0] === r).map((f) => f.path);
  return {
    files: picked.files.map((f) => f.path),
    sampled: withReason('sample'),
    changed: withReason('changed'),
    always: picked.files.filter((f) => f.reasons.includes('always')).map((f) => f.path),
    total: picked.total,
    seed: picked.seed,
    sample,
    picked,
  };
}

/**
 * Selects the tests of a tree from the change alone, without the evidence readers (no import
 * graph, history or failures): the changed test files still in the tree, names matching changed
 * files, `test.map`, `test.always`, and the hash sample ({@link rankOf} with the seed, the
 * pusher's agent id) filling up to `ceil(sample x n)` (at least one); `files` sorted. `all`
 * selects every test file (`agent-hooks test --all`). Pushes and `test --fast` use
 * server/test-evidence.ts readTestSelection, which adds the evidence.
 */
export function selectTests(paths: readonly string[], policy: TestPolicy, seed: string, changed: readonly string[], all = false): TestSelection {
  const selection = toTestSelection(selectTestFiles({ paths, changed, seed, policy, all }), all ? 1 : policy.sample);
  return { ...selection, files: [...selection.files].sort(), sampled: [...selection.sampled].sort() };
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
 * N files, seed agent-3)`, up to 20 `ERROR:` lines (each with the reproduce command as its fix),
 * the command that reproduces the run (only when it failed), the log.
 */
export function formatTestReport(refName: string, selection: TestSelection, run: TestRun, reproduce: string, logPath: string): { lines: string[]; passed: boolean } {
  const t = selection.files.length;
  const what = `(${formatSelectionCounts(selection.picked)})`;
  const passed = run.exitCode === 0 && !run.timedOut && run.missing.length === 0;
  const ending = run.signal ? `was killed by signal ${run.signal}` : `exited with code ${run.exitCode}`;
  const lines: string[] = [];
  if (run.timedOut) {
    lines.push(`Tests: ${t} files, timed out after ${run.seconds} s ${what}`);
    lines.push(`ERROR: ${refName}: tests timed out after ${run.seconds} s (test.timeout); fix: make the slow test faster, or raise test.timeout; ${reproduce}`);
  } else {
    const failed = run.failedFiles ? run.failedFiles.length : passed ? 0 : t;
    const counted = run.failedFiles ? `${t - failed}/${t} passed, ${failed} failed` : passed ? `${t}/${t} passed` : `failed ${run.signal ? `(killed by signal ${run.signal})` : `with exit code ${run.exitCode}`} (${t} files)`;
    lines.push(`Tests: ${counted} ${what}`);
  }
  // Failure lines are the pushed tests' own output: untrusted. Their text never carries a
  // "; fix: " of its own (so it cannot pass for another kind of line, see isHeldLine); ours does.
  const errors = [
    ...run.missing.map((f) => `selected test file ${quote(f)} did not run (does the runner treat file arguments as filters?); fix: ${reproduce}`),
    ...run.failures.map((f) => `${f.replaceAll('; fix: ', ', fix: ')}; fix: ${reproduce}`),
  ];
  if (!passed && !run.timedOut && errors.length === 0) errors.push(`the test command ${ending}; fix: run it locally (see reproduce)`);
  for (const e of errors.slice(0, MAX_FAILURE_LINES)) lines.push(`ERROR: ${refName}: ${e}`);
  if (errors.length > MAX_FAILURE_LINES) lines.push(`ERROR: ${refName}: and ${errors.length - MAX_FAILURE_LINES} more failures (see the log)`);
  if (run.unexpected.length > 0) lines.push(`WARNING: ${refName}: the runner also ran ${run.unexpected.length} unselected files (${run.unexpected.slice(0, 3).map(quote).join(', ')}${run.unexpected.length > 3 ? ', ...' : ''})`);
  if (!passed) lines.push(`reproduce: ${reproduce}`);
  lines.push(`log: ${logPath}`);
  return { lines, passed };
}

const FAILURE_MARK = /^\s*(✖|✗|×|not ok\b|FAIL\b|FAILED\b|Error:|AssertionError)/;
/** A line that names a failing test (not the error under it). */
const FAILED_TEST = /^\s*(✖|✗|×|not ok\b|FAIL\b|FAILED\b)/;
/** An error line of a spec reporter (`AssertionError [ERR_ASSERTION]: ...`, `TypeError: ...`). */
const ERROR_LINE = /^\s*([A-Za-z]*Error)(?: \[[A-Z_]+\])?:\s*(.*)$/;
/** TAP's YAML `error:` key (node --test without a terminal). */
const TAP_ERROR = /^(\s*)error:\s*(.*)$/;
const clean = (raw: string) => raw.replace(/\x1b\[[0-9;]*m/g, '').trim();
const cut = (line: string, max: number) => (line.length > max ? `${line.slice(0, max - 3)}...` : line);

/**
 * The first assertion message under a failing test's line at `at`: TAP's `error:` (a block
 * scalar is joined into one line), or the first `...Error: message` line (a message ending in
 * `:` takes the next line too, where node puts `21 !== 20`). Looks at most 25 lines ahead and
 * stops at the next failing test. Returns the message and the indices it used.
 */
function firstAssertion(output: readonly string[], at: number): { message: string; used: number[] } | undefined {
  for (let j = at + 1; j < Math.min(output.length, at + 26); j++) {
    const line = clean(output[j]!);
    if (FAILED_TEST.test(line)) return undefined;
    const tap = TAP_ERROR.exec(output[j]!.replace(/\x1b\[[0-9;]*m/g, ''));
    if (tap) {
      const value = tap[2]!.trim();
      if (!/^[|>][-+]?$/.test(value)) return { message: value.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1'), used: [j] };
      const indent = tap[1]!.length;
      const parts: string[] = [];
      for (let k = j + 1; k < output.length; k++) {
        const raw = output[k]!.replace(/\x1b\[[0-9;]*m/g, '');
        if (raw.trim() !== '' && raw.length - raw.trimStart().length <= indent) break;
        if (raw.trim() !== '') parts.push(raw.trim());
      }
      return { message: parts.join(' '), used: [j] };
    }
    const error = ERROR_LINE.exec(line);
    if (error) {
      let message = `${error[1]}: ${error[2]}`;
      const used = [j];
      if (message.endsWith(':')) {
        const next = output.slice(j + 1, j + 4).findIndex((l) => clean(l) !== '');
        if (next >= 0) {
          message += ` ${clean(output[j + 1 + next]!)}`;
          used.push(j + 1 + next);
        }
      }
      return { message, used };
    }
  }
  return undefined;
}

/**
 * Failure lines from a runner's output when there is no report: lines that mark a failure
 * (`✖`, `not ok`, `FAIL`, ...), each with the first assertion message under it
 * (`✖ adds: AssertionError: Expected values to be strictly equal: 21 !== 20`), and lines that
 * name a selected file; deduplicated, in order.
 */
export function failuresFromOutput(output: readonly string[], files: readonly string[]): string[] {
  const seen = new Set<string>();
  const used = new Set<number>();
  const found: string[] = [];
  for (const [i, raw] of output.entries()) {
    if (used.has(i)) continue;
    let line = clean(raw);
    if (!line) continue;
    if (FAILED_TEST.test(line)) {
      // The indented block under the test (TAP's YAML, a spec reporter's error and stack) is
      // this failure's detail: its location and first assertion join the line; the rest is log.
      let location: string | undefined;
      for (let j = i + 1; j < Math.min(output.length, i + 80); j++) {
        const text = output[j]!.replace(/\x1b\[[0-9;]*m/g, '');
        if (text.trim() !== '' && !/^\s/.test(text)) break;
        if (FAILED_TEST.test(clean(text))) break;
        location ??= /^\s*location:\s*'?([^']+)'?\s*$/.exec(text)?.[1];
        used.add(j);
      }
      const assertion = firstAssertion(output, i);
      if (assertion) for (const u of assertion.used) used.add(u);
      line = `${cut(line, 150)}${location ? ` (${location})` : ''}${assertion ? `: ${cut(assertion.message, 200)}` : ''}`;
    } else if (!FAILURE_MARK.test(line) && !files.some((f) => line.includes(f))) continue;
    if (seen.has(line)) continue;
    seen.add(line);
    found.push(cut(line, 360));
  }
  return found;
}
