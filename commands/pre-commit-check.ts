// The pre-commit check as a function, shared by the installed hook and `agent-hooks pre-commit`
// (the line to call from a hook manager such as husky).
import { checkCommit } from '../core/commit-rules.js';
import { errorsOf, formatVerdict } from '../core/verdict.js';
import type { CommitInput } from '../core/commit-rules.js';
import { findLostClaims, formatLostClaim } from '../core/session.js';
import { readCommonDirAt, readRememberedClaims } from '../git/claim-memory.js';
import { readCommitInput } from '../git/read-commit.js';

/** The holder's notice (DESIGN.md "Agent sessions"): a WARNING per claim of this agent that expired or was taken over. */
function lostClaimLines(input: CommitInput, env: NodeJS.ProcessEnv): string[] {
  const agent = input.agent.id;
  if (!agent) return [];
  try {
    return findLostClaims(readRememberedClaims(readCommonDirAt(process.cwd(), { env }), agent, input.now), input.claims, agent, input.now).map(formatLostClaim);
  } catch {
    return [];
  }
}

/** Runs the check in the current repository: output lines and exit code (1 when a staged change is refused). */
export function runPreCommitCheck(env: NodeJS.ProcessEnv, now: number): { lines: string[]; exitCode: number } {
  const input = readCommitInput(env, now);
  if (!input) return { lines: [], exitCode: 0 };
  const verdicts = checkCommit(input);
  const lines = [...lostClaimLines(input, env), ...verdicts.map(formatVerdict)];
  const errors = errorsOf(verdicts).length;
  if (errors > 0) lines.push(`agent-hooks: commit refused with ${errors} error${errors === 1 ? '' : 's'}; the server would reject the push too (git commit --no-verify skips this check, not the server's)`);
  return { lines, exitCode: errors > 0 ? 1 : 0 };
}
