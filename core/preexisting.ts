// Failures that predate a push are not its fault (DESIGN.md "Which tests a change runs"): which
// failing test files a push is blamed for, the WARNING lines for the others, and the bisect that
// finds the commit that turned a test red. Pure: the test stage and the bisector run the tests
// and hand the results here.
import { parseJsonObject } from './json.js';

/** `test.preexisting`: what a push gets when a test it runs fails on the claims ref's old tip too. */
export type PreexistingMode = 'accept' | 'reject';

/** The commit that turned a test red, as announced: oid, its agent (committer name), subject. */
export interface Culprit {
  oid: string;
  agent: string;
  subject: string;
}

/**
 * What the bare repo knows about one red test on the claims ref (one record per ref and test):
 * `redAt` is the tip where it was first seen failing; `state` is `bisecting` until the bisector
 * has answered, then `found` (with `culprit`) or `unknown` (red as far back as it looked; `since`
 * is the oldest commit it tried). `announced` is set once the culprit was spooled for Slack.
 */
export interface RedRecord {
  ref: string;
  test: string;
  redAt: string;
  /** RFC 3339, when a push first found it red. */
  seen: string;
  state: 'bisecting' | 'found' | 'unknown';
  culprit?: Culprit;
  since?: string;
  announced: boolean;
  /** The test command and setup of the policy that found it (the bisector runs the same). */
  command: string[];
  setup?: string[];
  setupInputs?: string[];
  timeout: number;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * A red record read back from the state dir (server/red.ts), checked field by field: undefined
 * when it is not JSON or lacks a field the bisector or the dashboard needs (a torn or foreign
 * file is no record). A culprit whose oid is not a full hex oid, or whose agent or subject is not
 * a string, is dropped (the record stays, as if still bisecting its culprit).
 */
export function parseRedRecord(text: string): RedRecord | undefined {
  const r = parseJsonObject(text);
  if (!r) return undefined;
  if (typeof r.ref !== 'string' || typeof r.test !== 'string' || typeof r.redAt !== 'string' || typeof r.seen !== 'string') return undefined;
  if (r.state !== 'bisecting' && r.state !== 'found' && r.state !== 'unknown') return undefined;
  if (!isStrings(r.command) || typeof r.timeout !== 'number') return undefined;
  const c = r.culprit as Record<string, unknown> | undefined;
  const culprit = c && typeof c === 'object' && typeof c.oid === 'string' && OID.test(c.oid) && typeof c.agent === 'string' && typeof c.subject === 'string' ? { oid: c.oid, agent: c.agent, subject: c.subject } : undefined;
  return {
    ref: r.ref,
    test: r.test,
    redAt: r.redAt,
    seen: r.seen,
    state: r.state,
    ...(culprit ? { culprit } : {}),
    ...(typeof r.since === 'string' ? { since: r.since } : {}),
    announced: r.announced === true,
    command: r.command,
    ...(isStrings(r.setup) ? { setup: r.setup } : {}),
    ...(isStrings(r.setupInputs) ? { setupInputs: r.setupInputs } : {}),
    timeout: r.timeout,
  };
}

/** How each failing test file of a push was judged after the reruns. */
export interface FailureJudgement {
  /** Failed, and passed on the claims ref's old tip (or is new): the push broke it. */
  blamed: string[];
  /** Failed, then passed on one retry of the same tree. */
  flaky: string[];
  /** Failed on the pushed tree and on the old tip's tree. */
  preexisting: string[];
}

/** The result of one test file on one tree: it passed, or it failed (a timeout counts as failed). */
export type FileResult = 'pass' | 'fail';

/**
 * Sorts the failing files of a push: `retry` is each file's result on a second run of the pushed
 * tree, `onOldTip` its result on the old tip's tree (absent when the file is not in that tree,
 * which blames the push). Flaky wins over the rest: a file that passes on the retry is not held
 * against anyone.
 */
export function judgeFailures(failing: readonly string[], retry: ReadonlyMap<string, FileResult>, onOldTip: ReadonlyMap<string, FileResult>): FailureJudgement {
  const judged: FailureJudgement = { blamed: [], flaky: [], preexisting: [] };
  for (const file of failing) {
    if (retry.get(file) === 'pass') judged.flaky.push(file);
    else if (onOldTip.get(file) === 'fail') judged.preexisting.push(file);
    else judged.blamed.push(file);
  }
  return judged;
}

const shortRef = (ref: string) => ref.replace(/^refs\/heads\//, '');

/**
 * The WARNING for a test that was red before the push: `WARNING: <test> fails on <ref> too (red
 * since <short-oid> by <agent>, "<subject>"); not blamed on this push`, or `(red before this
 * push)` while the culprit is not known. With `test.preexisting: reject` the ending says the push
 * is refused anyway.
 */
export function formatPreexisting(test: string, ref: string, culprit: Culprit | undefined, mode: PreexistingMode = 'accept'): string {
  const since = culprit ? `red since ${culprit.oid.slice(0, 10)} by ${culprit.agent}, ${JSON.stringify(culprit.subject.slice(0, 120))}` : 'red before this push';
  const ending = mode === 'accept' ? 'not blamed on this push' : 'refused anyway (test.preexisting is "reject")';
  return `WARNING: ${test} fails on ${shortRef(ref)} too (${since}); ${ending}`;
}

/** The WARNING for a flaky test file: it failed, then passed on a retry of the same tree. */
export function formatFlaky(test: string, tree: string): string {
  return `WARNING: ${test} failed, then passed on a retry of the same tree ${tree.slice(0, 10)} (flaky); not blamed on this push`;
}

/** One step of a bisect: test this index next, or the answer. */
export type BisectStep = { kind: 'test'; index: number } | { kind: 'found'; index: number } | { kind: 'unknown' };

/**
 * The next step of a bisect over a first-parent history, newest first (`count` commits; index 0
 * is red, it is where the test was seen failing). `results` holds what is known: index -> the
 * test's result on that commit (`pass` also for a commit whose tree lacks the test). Assumes one
 * red-turning commit (git bisect's assumption): finds the oldest red commit whose parent passes.
 * When even the oldest commit looked at is red, the answer is `unknown` (red before the window).
 */
export function nextBisectStep(count: number, results: ReadonlyMap<number, FileResult>): BisectStep {
  if (count <= 0) return { kind: 'unknown' };
  // lo: the oldest index known red; hi: the newest index known green (count: none known yet).
  let lo = 0;
  let hi = count;
  for (const [index, result] of results) {
    if (result === 'fail' && index > lo) lo = index;
    if (result === 'pass' && index < hi) hi = index;
  }
  if (hi === count) {
    if (!results.has(count - 1)) return count - 1 === lo ? { kind: 'unknown' } : { kind: 'test', index: count - 1 };
    if (results.get(count - 1) === 'fail') return { kind: 'unknown' };
  }
  if (hi - lo <= 1) return { kind: 'found', index: lo };
  return { kind: 'test', index: lo + Math.floor((hi - lo) / 2) };
}
