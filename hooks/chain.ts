// Runs the hook that was installed before agent-hooks, first, with the same stdin and arguments.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chainedHookBeside } from '../server/layout.js';

/** A chained hook exists but could not be started (bad interpreter line, for example). */
export class ChainedHookError extends Error {
  constructor(readonly path: string, options: { cause: unknown }) {
    super(`the chained hook ${path} could not run: ${(options.cause as Error).message}`, options);
    this.name = 'ChainedHookError';
  }
}

/**
 * Runs `<home>/chained/<hook>` if it is there and executable (git itself skips a hook that is
 * not executable), with the given stdin and arguments; its output goes straight to the pusher.
 * Returns its exit code, or 0 when there is none.
 * @throws ChainedHookError when it exists but cannot be started.
 */
export function runChainedHook(hook: string, stdin: Uint8Array, args: readonly string[], moduleUrl: string): number {
  const path = chainedHookBeside(dirname(fileURLToPath(moduleUrl)), hook);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return 0;
  }
  const result = spawnSync(path, args, { input: stdin, stdio: ['pipe', 'inherit', 'inherit'] });
  if (result.error) throw new ChainedHookError(path, { cause: result.error });
  return result.status ?? 1;
}
