// `agent-hooks check <base>..<head>`: the pre-receive policy as a CI step, for remotes without hooks.
import { checkPush } from '../core/push-rules.js';
import { EXIT, type CommandResult } from '../core/result.js';
import { errorsOf, formatVerdict } from '../core/verdict.js';
import { gitText, readChangedPaths } from '../git/git.js';
import { readPushInput } from '../server/read-push.js';
import { runPushTests } from '../server/run-tests.js';
import { readViewOid, type AgentRepo } from './agent-repo.js';

/**
 * `check <base>..<head>`: the pre-receive policy (schema, claims, leases) for a range, as if
 * `head` were pushed over `base` to `ref` (default: the claims branch), for remotes that run no
 * hooks. The pusher is `AGENT_ID` when set, else the committer of `head`; claims are read at
 * `base` when `ref` is the claims branch, else at the local view of the claims branch. With
 * `tests`, the pusher's sample runs too, in test slots under the repository's git dir.
 */
export async function check(repo: AgentRepo, range: string, ref: string | undefined, tests = false): Promise<CommandResult> {
  const m = /^(.+?)\.\.(.+)$/.exec(range);
  if (!m) return { exitCode: EXIT.usage, lines: [`ERROR: ${JSON.stringify(range)} is not a range <base>..<head>; fix: agent-hooks check origin/main..HEAD`] };
  const resolve = (rev: string) => gitText(['rev-parse', '-q', '--verify', '--end-of-options', `${rev}^{commit}`], { ...repo.git, okExitCodes: [0, 1, 128] }) || undefined;
  const [oldOid, newOid] = [resolve(m[1]!), resolve(m[2]!)];
  const unknown = [[m[1]!, oldOid], [m[2]!, newOid]].filter(([, oid]) => oid === undefined).map(([rev]) => rev!);
  if (oldOid === undefined || newOid === undefined) {
    return { exitCode: EXIT.usage, lines: [`ERROR: check: ${unknown.map((r) => JSON.stringify(r)).join(' and ')} ${unknown.length > 1 ? 'are not commits' : 'is not a commit'} of this repository; fix: git fetch, then agent-hooks check origin/main..HEAD (git log --oneline shows the commits)`] };
  }
  const claimsRef = `refs/heads/${repo.branch}`;
  const refName = ref ? (ref.startsWith('refs/') ? ref : `refs/heads/${ref}`) : claimsRef;
  const gitDir = gitText(['rev-parse', '--path-format=absolute', '--git-dir'], repo.git);
  const env: NodeJS.ProcessEnv = { ...repo.git.env, GIT_DIR: gitDir };
  if (repo.agent.source === 'AGENT_ID') Object.assign(env, { GIT_PUSH_OPTION_COUNT: '1', GIT_PUSH_OPTION_0: `agent=${repo.agent.id}` });
  const updates = [{ oldOid, newOid, refName }];
  const input = readPushInput(updates, env, Date.now(), { claimsRef, claimsTip: refName === claimsRef ? oldOid : readViewOid(repo) });
  const verdicts = checkPush(input);
  const lines = verdicts.map(formatVerdict);
  let errors = errorsOf(verdicts).length;
  if (tests && errors === 0 && input.policy.test) {
    const result = await runPushTests({
      gitDir,
      git: { ...repo.git, env },
      refName,
      newOid,
      policy: input.policy.test,
      seed: input.pusher.id ?? 'unknown',
      changed: [...readChangedPaths(newOid, [oldOid], { ...repo.git, env }).keys()],
      ...(input.claimsTip ? { claimsTip: input.claimsTip } : {}),
      concurrency: input.testConcurrency,
      claimsRef,
      // A CI step has no bisector beside it: a red test is reported, its culprit not searched.
      bisect: false,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    lines.push(...result.lines);
    if (!result.passed) errors++;
  }
  lines.push(errors > 0 ? `agent-hooks check: ${range} fails the rules for ${refName} with ${errors} error${errors === 1 ? '' : 's'}` : `ok: ${range} passes the claims and lease rules for ${refName}`);
  return { exitCode: errors > 0 ? EXIT.failed : EXIT.ok, lines };
}
