// Detached workers of the bare repo: processes a hook starts and never waits for (the Slack
// sender today; the lander and the test bisector build on it). A worker is a bundle beside the
// hook bundles, started with stdio closed (an inherited pipe would hold the push open until the
// worker ends), in its own session, without the hook's `GIT_*` variables. A worker keeps one at a
// time with a pid lock (server/pid-lock.ts) in the state dir; its state is refs, notes and files
// written atomically, never memory, so it may be killed at any moment and started again.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanGitEnv } from '../git/git.js';

/**
 * Starts `<bundleDir>/<name>.mjs <gitDir> [...args]` detached and returns at once. `bundleDir`
 * defaults to the directory of the running bundle (the hook's version dir). The repo path is the
 * first argument, so `ps` shows which repository a worker serves.
 * @throws only when node cannot be spawned at all (ENOMEM, EAGAIN).
 */
export function startWorker(name: string, gitDir: string, args: readonly string[] = [], bundleDir = dirname(fileURLToPath(import.meta.url))): void {
  const child = spawn(process.execPath, [join(bundleDir, `${name}.mjs`), gitDir, ...args], { detached: true, stdio: 'ignore', env: cleanGitEnv() });
  child.unref();
}
