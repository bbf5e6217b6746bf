// pre-receive: judges a push before any ref moves (DESIGN.md "What pre-receive rejects").
// Gathers inputs (stdin, env, git), calls the pure checkPush, prints one line per problem.
import { resolve } from 'node:path';
import { pushOption } from '../core/identity.js';
import { checkPush } from '../core/push.js';
import { parseRefUpdates } from '../core/ref-update.js';
import { errorsOf, formatSummary, formatVerdict } from '../core/verdict.js';
import { formatTime } from '../core/text.js';
import { VERSION } from '../core/version.js';
import { appendOverrideLog } from './override-log.js';
import { readPushInput } from './read-push.js';
import { runHook } from './run-hook.js';

/** Refs that `agent-hooks doctor` pushes to: judged as usual, then always refused. */
export const DOCTOR_REF_PREFIX = 'refs/agent-hooks/doctor/';

runHook('pre-receive', import.meta.url, (stdin) => {
  const updates = parseRefUpdates(stdin.toString('utf8'));
  if (updates.length === 0) return { lines: [], exitCode: 0 };
  const now = Date.now();
  const input = readPushInput(updates, process.env, now);
  const verdicts = checkPush(input);
  const lines = verdicts.map(formatVerdict);
  const summary = formatSummary(verdicts, updates.length);
  if (summary) lines.push(summary);
  let exitCode = errorsOf(verdicts).length > 0 ? 1 : 0;
  if (exitCode === 0 && verdicts.some((v) => v.rule === 'override')) {
    appendOverrideLog(resolve(process.env.GIT_DIR ?? '.'), {
      time: formatTime(now),
      admin: input.pusher.id!,
      reason: pushOption(input.pushOptions, 'override') ?? '',
      refs: updates.map((u) => u.refName),
      overridden: verdicts.filter((v) => v.overridden).map(formatVerdict),
    });
  }
  if (updates.every((u) => u.refName.startsWith(DOCTOR_REF_PREFIX))) {
    lines.push(`agent-hooks doctor: pre-receive ${VERSION} judged the synthetic push (${exitCode === 0 ? 'accepted' : 'rejected'}); refusing it so nothing lands`);
    exitCode = 1;
  }
  return { lines, exitCode };
});
