// The tests of one batch of the landing queue (DESIGN.md "The landing queue"): the union of each
// entry's affected-first selection (seeded by its agent, with the files it changes), run once on the batch tip in
// a test slot, retried on the same tree when it fails (a pass on a retry is flaky, not a failure).
import type { Policy } from '../core/policy.js';
import type { QueueEntry } from '../core/queue.js';
import { isTestedRef, toTestSelection, type TestSelection } from '../core/sampling.js';
import type { Selection } from '../core/selection.js';
import { readChangedPaths, runGit, type GitOptions } from '../git/git.js';
import { runPushTests } from './run-tests.js';
import { statePaths } from './state.js';
import { readTestSelection, readTreeFiles } from './test-evidence.js';

/** What a batch's tests need: the repository, the batch tip and what it was merged onto, its entries. */
export interface BatchTestInput {
  gitDir: string;
  git: GitOptions;
  claimsRef: string;
  policy: Policy;
  testConcurrency: number;
  tip: string;
  onto: string;
  entries: readonly QueueEntry[];
  log: (line: string) => void;
  signal?: AbortSignal;
  /** The Slack webhook URL, redacted from the test log and lines (runPushTests). */
  webhookUrl?: string;
}

/**
 * How a batch's tests ended. `runs` counts test command runs (0: nothing to test, or a tree that
 * passed the same selection before); `errors` are the ERROR lines of the last failing run;
 * `flaky` the ERROR lines of a run that failed and then passed on a retry.
 */
export interface BatchTestResult {
  passed: boolean;
  runs: number;
  lines: string[];
  errors: string[];
  flaky: string[];
  reproduce?: string;
}

/** The group of a selection reason, in run order: changed tests, affected ones, `always`, the sample. */
const groupOf = (reason: string): 0 | 1 | 2 | 3 => (reason === 'changed' ? 0 : reason === 'always' ? 2 : reason === 'sample' || reason === 'all' ? 3 : 1);

/**
 * The selection of a batch: the union of each entry's affected-first selection (seeded by its
 * agent, with the files it changes; server/test-evidence.ts readTestSelection), each file with
 * every reason any entry had for it, in run order (changed, affected, always, sampled). Pure.
 */
export function batchSelection(selections: readonly Selection[], sample: number): TestSelection {
  const reasons = new Map<string, string[]>();
  for (const s of selections) for (const f of s.files) reasons.set(f.path, [...new Set([...(reasons.get(f.path) ?? []), ...f.reasons])]);
  const group = (rs: readonly string[]) => Math.min(...rs.map(groupOf));
  const files = [...reasons].map(([path, rs]) => ({ path, reasons: rs })).sort((a, b) => group(a.reasons) - group(b.reasons) || a.path.localeCompare(b.path));
  const count = (g: number) => files.filter((f) => group(f.reasons) === g).length;
  const picked: Selection = {
    seed: [...new Set(selections.map((s) => s.seed))].join(','),
    total: selections[0]?.total ?? 0,
    files,
    changed: count(0),
    affected: count(1),
    always: count(2),
    sampled: count(3),
    cut: Math.max(0, ...selections.map((s) => s.cut)),
    target: Math.max(0, ...selections.map((s) => s.target)),
  };
  return toTestSelection(picked, sample);
}

/**
 * Runs the batch's tests once on its tip (none when the policy has no tests, the claims ref is not
 * a tested ref, or the batch changes only lock files), and again up to `queue.retries` times on
 * the same tree when they fail.
 */
export async function runBatchTests(input: BatchTestInput): Promise<BatchTestResult> {
  const test = input.policy.test;
  const none: BatchTestResult = { passed: true, runs: 0, lines: [], errors: [], flaky: [] };
  if (!test || !isTestedRef(input.claimsRef, test, input.claimsRef)) return none;
  const changed = runGit(['diff', '--name-only', '--no-renames', '-z', input.onto, input.tip], input.git).stdout.toString('utf8').split('\0').filter(Boolean);
  if (changed.every((p) => p.startsWith(`${input.policy.locks.dir}/`))) return none;
  const files = readTreeFiles(input.tip, input.git);
  const selections: Selection[] = [];
  // The paths the batch changes (every entry's), the "failed before" evidence of a failure.
  const batchChanged = new Set<string>();
  for (const e of input.entries) {
    const changedByEntry = [...readChangedPaths(e.oid, [input.onto], input.git).keys()];
    for (const p of changedByEntry) batchChanged.add(p);
    selections.push((await readTestSelection({ git: input.git, treeish: input.tip, files, claimsTip: input.onto, changed: changedByEntry, policy: test, seed: e.agent, stateDir: statePaths(input.gitDir).home })).selection);
  }
  const selection = batchSelection(selections, test.sample);
  const branch = input.claimsRef.replace(/^refs\/heads\//, '');
  const reproduce = input.entries.length === 1
    ? `git pull --rebase origin ${branch} && agent-hooks test --fast --agent ${input.entries[0]!.agent}`
    : `git fetch origin ${branch} && git merge origin/${branch} && agent-hooks test --fast`;
  const result: BatchTestResult = { ...none, reproduce };
  let firstFailure: string[] | undefined;
  for (let attempt = 0; attempt <= input.policy.queue.retries; attempt++) {
    if (input.signal?.aborted) return { ...result, passed: false };
    const before = Date.now();
    const run = await runPushTests({
      gitDir: input.gitDir,
      git: input.git,
      refName: input.claimsRef,
      newOid: input.tip,
      // A failing test is run again on the tip the batch was merged onto: one red there too is
      // not the batch's fault (test.preexisting), as for a direct push.
      claimsRef: input.claimsRef,
      claimsTip: input.onto,
      policy: test,
      seed: selection.seed,
      changed: [...batchChanged].sort(),
      concurrency: input.testConcurrency,
      progress: (line) => input.log(line),
      selection,
      webhookUrl: input.webhookUrl,
    });
    // A tree that passed the same selection before is not run again (the report says so).
    if (!(run.passed && run.lines.some((l) => l.includes('not run again')))) result.runs++;
    result.lines = run.lines.filter((l) => !l.startsWith('reproduce: '));
    input.log(`tests of ${input.tip.slice(0, 10)} (${selection.files.length} files) ${run.passed ? 'passed' : 'failed'} in ${Math.round((Date.now() - before) / 1000)} s`);
    if (run.passed) {
      // A failure the lander's retry cleared, or one the test stage itself found flaky (it reruns
      // a failing file alone on the same tree: server/run-tests.ts).
      const flakyInRun = run.lines.filter((l) => /^WARNING: .* \(flaky\); not blamed on this push$/.test(l)).map((l) => l.replace(/^WARNING: /, ''));
      if (firstFailure) result.flaky = firstFailure;
      else if (flakyInRun.length > 0) result.flaky = flakyInRun;
      return { ...result, passed: true };
    }
    firstFailure ??= result.lines.filter((l) => l.startsWith('ERROR: '));
    result.errors = result.lines.filter((l) => l.startsWith('ERROR: '));
    if (result.errors.length === 0) result.errors = result.lines.filter((l) => l.startsWith('Tests: ')).map((l) => `ERROR: ${input.claimsRef}: ${l}`);
  }
  return { ...result, passed: false };
}
