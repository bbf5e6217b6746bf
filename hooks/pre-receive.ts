// pre-receive: judges a push before any ref moves (DESIGN.md "What pre-receive rejects").
// Gathers inputs (stdin, env, git), calls the pure checkPush, prints one line per problem.
import { resolve } from 'node:path';
import { pushOption } from '../core/identity.js';
import { checkPush } from '../core/push-rules.js';
import { isDelete, isZeroOid, parseRefUpdates } from '../core/ref-update.js';
import { errorsOf, formatSummary, formatVerdict } from '../core/verdict.js';
import { formatTime } from '../core/text.js';
import { VERSION } from '../core/version.js';
import { appendOverrideLog } from '../server/override-log.js';
import { isTestedRef } from '../core/sampling.js';
import { readChangedPaths, readConfig } from '../git/git.js';
import { redact, repoName, spoolEvent, startSender, webhookUrlFrom } from '../server/spool.js';
import { changeExcludes, hookGitOptions, readPushInput } from '../server/read-push.js';
import { runHook } from './run-hook.js';

/**
 * Rule 7: the sampled tests of every pushed ref that `test.refs` names (default the claims ref),
 * except deletions and pushes that only change lock files. The test stage is its own bundle,
 * loaded only here.
 */
async function runTests(input: ReturnType<typeof readPushInput>): Promise<{ lines: string[]; passed: boolean }> {
  const test = input.policy.test;
  if (!test) return { lines: [], passed: true };
  const git = hookGitOptions(process.env);
  const lines: string[] = [];
  let passed = true;
  for (const u of input.updates) {
    if (isDelete(u) || !isTestedRef(u.refName, test, input.claimsRef)) continue;
    const changed = input.changes.find((c) => c.refName === u.refName)?.paths ?? readChangedPaths(u.newOid, changeExcludes(u, input.claimsTip), git);
    const paths = [...changed.keys()];
    if (paths.length > 0 && paths.every((p) => p.startsWith(`${input.policy.locks.dir}/`))) continue;
    const { runPushTests } = (await import(new URL('./run-tests.mjs', import.meta.url).href)) as typeof import('../server/run-tests.js');
    const result = await runPushTests({
      gitDir: git.env!.GIT_DIR!,
      git,
      refName: u.refName,
      newOid: u.newOid,
      policy: test,
      seed: input.pusher.id ?? 'unknown',
      changed: paths,
      concurrency: input.testConcurrency,
      progress: (line) => process.stderr.write(`${line}\n`),
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
function announceRejection(input: ReturnType<typeof readPushInput>, errors: string[], now: number): void {
  const git = hookGitOptions(process.env);
  const url = webhookUrlFrom(readConfig('^agenthooks\\.slack\\.webhookurl$', git).get('agenthooks.slack.webhookurl')?.at(-1), process.env);
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

/** Refs that `agent-hooks doctor` pushes to: judged as usual, then always refused. */
export const DOCTOR_REF_PREFIX = 'refs/agent-hooks/doctor/';

void runHook('pre-receive', import.meta.url, async (stdin) => {
  const updates = parseRefUpdates(stdin.toString('utf8'));
  if (updates.length === 0) return { lines: [], exitCode: 0 };
  const now = Date.now();
  const input = readPushInput(updates, process.env, now);
  const verdicts = checkPush(input);
  const lines = verdicts.map(formatVerdict);
  let exitCode = errorsOf(verdicts).length > 0 ? 1 : 0;
  // Tests run only for a push that passed every other rule: rule 7 comes last.
  const tested = exitCode === 0 ? await runTests(input) : { lines: [], passed: true };
  lines.push(...tested.lines);
  const overridden = verdicts.some((v) => v.rule === 'override');
  if (!tested.passed && overridden) {
    lines.push(`WARNING: push: the sampled tests did not pass (overridden by admin ${input.pusher.id})`);
  } else if (!tested.passed) {
    exitCode = 1;
    lines.push(`agent-hooks: push rejected: the sampled tests did not pass; none of its ${updates.length} ref update${updates.length === 1 ? '' : 's'} was applied`);
  } else {
    const summary = formatSummary(verdicts, updates.length);
    if (summary) lines.push(summary);
  }
  if (exitCode === 0 && overridden) {
    appendOverrideLog(resolve(process.env.GIT_DIR ?? '.'), {
      time: formatTime(now),
      admin: input.pusher.id!,
      reason: pushOption(input.pushOptions, 'override') ?? '',
      refs: updates.map((u) => u.refName),
      overridden: [...verdicts.filter((v) => v.overridden).map(formatVerdict), ...(tested.passed ? [] : ['the sampled tests did not pass'])],
    });
  }
  if (exitCode !== 0 && input.policy.notify.rejections) announceRejection(input, lines.filter((l) => l.startsWith('ERROR: ')), now);
  if (updates.every((u) => u.refName.startsWith(DOCTOR_REF_PREFIX))) {
    lines.push(`agent-hooks doctor: pre-receive ${VERSION} judged the synthetic push (${exitCode === 0 ? 'accepted' : 'rejected'}); refusing it so nothing lands`);
    exitCode = 1;
  }
  return { lines, exitCode };
});
