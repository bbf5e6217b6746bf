// `agent-hooks push`: git push with the agent's identity, rebasing and retrying on a lost race.
import { EXIT, type CommandResult } from '../core/result.js';
import { runGit } from '../git/git.js';
import { LOST_RACE, type AgentRepo } from './agent-repo.js';

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
