// push, worktree add, check: the agent commands around plain git.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AGENT_ID } from '../core/lock-file.js';
import { checkPush } from '../core/push.js';
import { errorsOf, formatVerdict } from '../core/verdict.js';
import { gitText, readChangedPaths, runGit } from '../git/git.js';
import { readPushInput } from '../hooks/read-push.js';
import { runPushTests } from '../hooks/run-tests.js';
import { install, type InstallOptions } from '../installer/install.js';
import { fetchClaims, LOST_RACE, readViewOid, viewRef, type AgentRepo } from './agent-repo.js';
import { EXIT, type CommandResult } from './claims-commands.js';

/** How many times `push` rebases and tries again after a non-fast-forward. */
export const PUSH_ATTEMPTS = 12;

/** Blocks for `ms` milliseconds (the CLI has nothing else to do meanwhile). */
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const FORCE = /^(-f|--force|--force-with-lease(=.*)?|--force-if-includes|--mirror)$/;

/**
 * `push [git push args]`: `git push -o agent=<id> <args>`. On a non-fast-forward, or a race lost
 * after the hooks accepted ({@link LOST_RACE}), it fetches,
 * rebases onto the target and tries again (at most {@link PUSH_ATTEMPTS} times). A refusal by
 * the server prints the server's `ERROR:` lines and exits 1. Never forces: force options and
 * `+refspec` are usage errors.
 */
export function push(repo: AgentRepo, args: string[]): CommandResult {
  const forced = args.find((a) => FORCE.test(a) || (!a.startsWith('-') && a.startsWith('+')));
  if (forced) return { exitCode: EXIT.usage, lines: [`ERROR: agent-hooks push never forces (${forced}); fix: git pull --rebase, then agent-hooks push`] };
  const positional = args.filter((a) => !a.startsWith('-'));
  const [remote, refspec] = positional;
  const target = refspec ? (refspec.includes(':') ? refspec.slice(refspec.indexOf(':') + 1) : refspec) : undefined;
  const branch = target && target !== 'HEAD' ? target.replace(/^refs\/heads\//, '') : undefined;
  const lines: string[] = [];
  for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
    const result = runGit(['push', '-o', `agent=${repo.agent.id}`, ...args], { ...repo.git, okExitCodes: [0, 1, 128, null] });
    const out = result.stderr.toString('utf8');
    // Killed by a signal (SIGPIPE when the other end hung up under load): try again.
    if (result.exitCode === null && attempt < PUSH_ATTEMPTS) {
      lines.push(`git push was killed by a signal; trying again (attempt ${attempt + 1})`);
      continue;
    }
    if (result.exitCode === 0) return { exitCode: EXIT.ok, lines: [...lines, ...out.trimEnd().split('\n').filter(Boolean)] };
    const serverLines = out.split('\n').filter((l) => /^remote: (ERROR|WARNING):/.test(l)).map((l) => l.replace(/^remote: /, '').trimEnd());
    const raced = LOST_RACE.test(out) && !serverLines.some((l) => l.startsWith('ERROR:'));
    if (!raced && (serverLines.length > 0 || /\[remote rejected\]/.test(out))) {
      return { exitCode: EXIT.failed, lines: [...lines, ...(serverLines.length > 0 ? serverLines : [`ERROR: ${out.trim().split('\n').slice(-2).join(' | ')}`])] };
    }
    if (!(raced || /\[rejected\].*\((fetch first|non-fast-forward)\)/.test(out)) || attempt === PUSH_ATTEMPTS) {
      return { exitCode: EXIT.failed, lines: [...lines, `ERROR: git push failed: ${out.trim().split('\n').slice(-2).join(' | ')}`] };
    }
    const pull = ['pull', '--rebase', '--quiet', ...(remote ? [remote, ...(branch ? [branch] : [])] : [])];
    lines.push(`${raced ? 'another push moved the ref first' : 'non-fast-forward'}: git ${pull.join(' ')}, then push again (attempt ${attempt + 1})`);
    // Many agents pushing one branch lose races in bursts: a random wait that doubles with each
    // attempt (50-100 ms, then 100-200 ms, ... at most 1.5-3 s) spreads them out.
    const ceiling = Math.min(3000, 100 * 2 ** (attempt - 1));
    sleepSync(ceiling / 2 + Math.random() * (ceiling / 2));
    const rebased = runGit(pull, { ...repo.git, okExitCodes: [0, 1, 128] });
    if (rebased.exitCode !== 0) {
      runGit(['rebase', '--abort'], { ...repo.git, okExitCodes: [0, 1, 128] });
      return { exitCode: EXIT.failed, lines: [...lines, `ERROR: the rebase does not apply cleanly (${rebased.stderr.toString('utf8').trim().split('\n').pop()}); fix: git ${pull.join(' ')} and resolve the conflicts by hand`] };
    }
  }
  return { exitCode: EXIT.failed, lines };
}

/**
 * `worktree add <agent> [--base REF]`: a linked worktree `.worktrees/<agent>` beside the main
 * worktree, on a new branch `agent/<agent>` from the claims branch (or `base`), with
 * `agenthooks.agent` set for that worktree only (`extensions.worktreeConfig`), `.worktrees/` in
 * `info/exclude`, and the pre-commit guard installed. Prints the path.
 */
export function worktreeAdd(repo: AgentRepo, agent: string, base: string | undefined, installOptions: Omit<InstallOptions, 'dryRun' | 'force'>): CommandResult {
  if (!AGENT_ID.test(agent)) return { exitCode: EXIT.usage, lines: [`ERROR: ${JSON.stringify(agent)} is not an agent id (${AGENT_ID.source})`] };
  const commonDir = gitText(['rev-parse', '--path-format=absolute', '--git-common-dir'], repo.git);
  const top = dirname(commonDir);
  const path = join(top, '.worktrees', agent);
  if (existsSync(path)) return { exitCode: EXIT.failed, lines: [`ERROR: ${path} exists already; fix: use it, or git worktree remove ${path}`] };
  if (!base) {
    try {
      fetchClaims(repo);
    } catch {
      // offline: the local view will do
    }
  }
  const start = base ?? (readViewOid(repo) ? viewRef(repo) : 'HEAD');
  runGit(['worktree', 'add', '--quiet', '-b', `agent/${agent}`, path, start], repo.git);
  runGit(['config', 'extensions.worktreeConfig', 'true'], repo.git);
  runGit(['config', '--worktree', 'agenthooks.agent', agent], { ...repo.git, cwd: path });
  const exclude = join(commonDir, 'info', 'exclude');
  if (!(existsSync(exclude) && readFileSync(exclude, 'utf8').split('\n').includes('/.worktrees/'))) {
    mkdirSync(dirname(exclude), { recursive: true });
    appendFileSync(exclude, '/.worktrees/\n');
  }
  install(path, { ...installOptions, force: false });
  return { exitCode: EXIT.ok, lines: [path] };
}

/**
 * `check <base>..<head>`: the pre-receive policy (schema, claims, leases) for a range, as if
 * `head` were pushed over `base` to `ref` (default: the claims branch), for remotes that run no
 * hooks. The pusher is `AGENT_ID` when set, else the committer of `head`; claims are read at
 * `base` when `ref` is the claims branch, else at the local view of the claims branch. With
 * `tests`, the pusher's sample runs too, in test slots under the repository's git dir.
 */
export async function check(repo: AgentRepo, range: string, ref: string | undefined, tests = false): Promise<CommandResult> {
  const m = /^(.+?)\.\.(.+)$/.exec(range);
  if (!m) return { exitCode: EXIT.usage, lines: [`ERROR: ${JSON.stringify(range)} is not a range <base>..<head>`] };
  const resolve = (rev: string) => gitText(['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`], repo.git);
  const [oldOid, newOid] = [resolve(m[1]!), resolve(m[2]!)];
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
      concurrency: input.testConcurrency,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    lines.push(...result.lines);
    if (!result.passed) errors++;
  }
  lines.push(errors > 0 ? `agent-hooks check: ${range} fails the rules for ${refName} with ${errors} error${errors === 1 ? '' : 's'}` : `ok: ${range} passes the claims and lease rules for ${refName}`);
  return { exitCode: errors > 0 ? EXIT.failed : EXIT.ok, lines };
}
