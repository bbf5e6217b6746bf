// What every hook entry point does around its own work: read stdin, run the chained hook
// first, catch anything unexpected as one `ERROR: internal:` line (fail closed, no stack trace).
import { readFileSync } from 'node:fs';
import { restoreCaCerts } from '../server/ca-certs.js';
import { runChainedHook } from './chain.js';

/** A hook's own work: stdin in, output lines and an exit code out (or a promise of them). */
export type HookBody = (stdin: Buffer) => { lines: string[]; exitCode: number } | Promise<{ lines: string[]; exitCode: number }>;

/**
 * Runs a hook: puts back the CA variable the stub set aside, the chained hook first (its failure is the hook's failure), then `body`.
 * Lines go to stderr, which git relays to the pusher as `remote: ...`. An exception becomes
 * `ERROR: internal: <message>; fix: ...` (the error's own `fix` when it has one) and exit 1; `AGENT_HOOKS_DEBUG=1` adds the stack.
 * Never resolves: it exits the process with the exit code.
 */
export async function runHook(hook: string, moduleUrl: string, body: HookBody): Promise<never> {
  let lines: string[];
  let exitCode: number;
  restoreCaCerts(process.env);
  try {
    const stdin = readFileSync(0);
    const chained = runChainedHook(hook, stdin, process.argv.slice(2), moduleUrl);
    if (chained !== 0) {
      lines = [`ERROR: ${hook}: the chained hook (installed before agent-hooks) failed with exit code ${chained}; fix: see its output above`];
      exitCode = chained;
    } else {
      ({ lines, exitCode } = await body(stdin));
    }
  } catch (error) {
    lines = internalErrorLines(error, process.env);
    exitCode = 1;
  }
  lines = forLayout(lines, process.env);
  if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
  process.exit(exitCode);
}

/**
 * An unexpected error as the pusher sees it: `ERROR: internal: <message>; fix: ...` (the error's
 * own `fix` when it has one), with the stack when `AGENT_HOOKS_DEBUG=1` is in `env`.
 */
export function internalErrorLines(error: unknown, env: NodeJS.ProcessEnv): string[] {
  const message = error instanceof Error ? error.message : String(error);
  const fix = (error as { fix?: unknown } | undefined)?.fix;
  const lines = [`ERROR: internal: ${message.split('\n')[0]}; fix: ${typeof fix === 'string' ? fix : 'run agent-hooks doctor on this repository, or report the problem'}`];
  if (env.AGENT_HOOKS_DEBUG === '1' && error instanceof Error && error.stack) lines.push(...error.stack.split('\n'));
  return lines;
}

/**
 * The lines for the server's layout: GitLab shows a hook's refusal in its web UI only from lines
 * that start with GL-HOOK-ERR: (docs.gitlab.com/administration/server_hooks, "Custom error
 * messages"); the stub of the gitlab layout sets AGENT_HOOKS_LAYOUT.
 */
export function forLayout(lines: string[], env: NodeJS.ProcessEnv): string[] {
  return env.AGENT_HOOKS_LAYOUT === 'gitlab' ? lines.map((l) => (l.startsWith('ERROR:') ? `GL-HOOK-ERR: ${l}` : l)) : lines;
}
