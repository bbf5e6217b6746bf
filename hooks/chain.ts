// Runs the hook that was installed before agent-hooks, first, with the same stdin and arguments.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chainedHookBeside } from '../server/layout.js';

/** A chained hook exists but could not be started (bad interpreter line, for example). */
export class ChainedHookError extends Error {
  /** What to do about it, shown after `fix:` (see hooks/run-hook.ts). */
  readonly fix: string;
  constructor(readonly path: string, options: { cause: unknown }) {
    super(`the chained hook ${path} (installed before agent-hooks) cannot run: ${(options.cause as Error).message}; the push is refused until it can`, options);
    this.name = 'ChainedHookError';
    this.fix = `ls -l ${path}: make it executable (chmod +x) or fix its link, or remove it`;
  }
}

/**
 * Runs `<home>/chained/<hook>` if it is there, with the given stdin and arguments; its output
 * goes straight to the pusher. Returns its exit code, or 0 when there is none. Fail closed: a
 * chained hook that is there but cannot run (not executable, a dangling link) throws, since the
 * hook it replaced may have been the only guard of some branch (install refuses such a hook).
 * @throws ChainedHookError when it exists but cannot be started.
 */
export function runChainedHook(hook: string, stdin: Uint8Array, args: readonly string[], moduleUrl: string): number {
  const path = chainedHookBeside(dirname(fileURLToPath(moduleUrl)), hook);
  try {
    lstatSync(path);
  } catch {
    return 0;
  }
  try {
    accessSync(path, constants.X_OK);
  } catch (error) {
    throw new ChainedHookError(path, { cause: error });
  }
  const result = spawnSync(path, args, { input: stdin, stdio: ['pipe', 'inherit', 'inherit'] });
  if (result.error) throw new ChainedHookError(path, { cause: result.error });
  return result.status ?? 1;
}
