// `agent-hooks push`: git push with the agent's identity, rebasing and retrying on a lost race.
import { EXIT, type CommandResult } from '../core/result.js';
import { runGit } from '../git/git.js';
import { LOST_RACE, type AgentRepo } from './agent-repo.js';

/** How many times `push` rebases and tries again after a non-fast-forward. */
export const PUSH_ATTEMPTS = 12;

/** Blocks for `ms` milliseconds (the CLI has nothing else to do meanwhile). */
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Long options of git push that force (`git push -h`); git takes any unambiguous prefix of them. */
const FORCE_LONG = ['force', 'force-with-lease', 'force-if-includes', 'mirror'];
/** Long options of git push that take the next word as their value when written without `=`. */
const LONG_WITH_VALUE = ['repo', 'receive-pack', 'exec', 'push-option', 'recurse-submodules'];
/** Every long option of git push 2.39, for resolving abbreviations as git does. */
const LONG = [...FORCE_LONG, ...LONG_WITH_VALUE, 'verbose', 'quiet', 'all', 'branches', 'delete', 'tags', 'dry-run', 'porcelain', 'prune', 'no-verify', 'verify', 'follow-tags', 'signed', 'atomic', 'set-upstream', 'thin', 'progress', 'ipv4', 'ipv6'];
/** Short options of git push; `o` takes a value (the rest of the cluster, or the next word). */
const SHORT_WITH_VALUE = new Set(['o']);

/**
 * Reads `git push` arguments the way git's parse-options does: clusters of short flags (`-fu` is
 * `-f -u`; `-ofoo` is `-o foo`), unambiguous prefixes of long options (`--forc`), values of
 * options that take one, `--` ending the options. Pure.
 * @returns the first argument that forces (`-f` in `-fu`, `--force*`, `--mirror`, a `+refspec`),
 * and the positional arguments (remote, refspecs).
 */
export function parsePushArgs(args: readonly string[]): { forced?: string; positional: string[] } {
  const positional: string[] = [];
  let forced: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positional.push(...args.slice(i + 1));
      forced ??= args.slice(i + 1).find((a) => a.startsWith('+'));
      break;
    }
    if (arg.startsWith('--')) {
      const [name, value] = arg.slice(2).split(/=(.*)/s) as [string, string | undefined];
      const negated = name.startsWith('no-') && !LONG.includes(name);
      const exact = LONG.find((o) => o === name);
      const candidates = exact ? [exact] : LONG.filter((o) => o.startsWith(name));
      // An ambiguous prefix is a git usage error; treat it as forcing if any reading forces.
      if (!negated && candidates.some((o) => FORCE_LONG.includes(o))) forced ??= arg;
      if (value === undefined && candidates.length === 1 && LONG_WITH_VALUE.includes(candidates[0]!)) i++;
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const flag = arg[j]!;
        if (flag === 'f') forced ??= arg;
        if (SHORT_WITH_VALUE.has(flag)) {
          if (j === arg.length - 1) i++; // the value is the next word
          break; // the rest of the cluster is the value
        }
      }
      continue;
    }
    if (arg.startsWith('+')) forced ??= arg;
    positional.push(arg);
  }
  return { ...(forced ? { forced } : {}), positional };
}

/**
 * `push [git push args]`: `git push -o agent=<id> <args>`. On a non-fast-forward, or a race lost
 * after the hooks accepted ({@link LOST_RACE}), it fetches,
 * rebases onto the target and tries again (at most {@link PUSH_ATTEMPTS} times). A refusal by
 * the server prints the server's `ERROR:` lines and exits 1. Never forces: force options and
 * `+refspec` are usage errors.
 */
export function push(repo: AgentRepo, args: string[]): CommandResult {
  const { forced, positional } = parsePushArgs(args);
  if (forced) return { exitCode: EXIT.usage, lines: [`ERROR: agent-hooks push never forces (${forced}); fix: git pull --rebase, then agent-hooks push`] };
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
