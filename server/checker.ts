// The resident checker's side of the bare repo (issue 18): where it listens, how a push is handed
// to it, and starting it. A pre-receive that starts node costs at least a node start (~20 ms of
// CPU without NODE_EXTRA_CA_CERTS) before it reads anything; installed with `--resident`, the
// stub hands the push to one long-running process per repository instead, over a unix socket,
// with a client that is not node (a few lines of perl, installer/stub.ts). The checker judges
// with the same code (hooks/judge-push.ts); anything it cannot do (a push that runs tests, a
// chained hook, a request from another directory) it declines, and the stub runs the bundle.
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { lockHolder } from './pid-lock.js';
import { statePaths } from './state.js';
import { startWorker } from './worker.js';
import { VERSION } from '../core/version.js';

/** The checker's worker name: its pid lock `workers/checker.lock`, its log `workers/checker.log`. */
export const CHECKER = 'checker';

/**
 * The socket of this version's checker, relative to the git dir (the hook's cwd), so its path
 * stays under the 107 bytes of `sun_path` (unix(7)) wherever the repository is:
 * `agent-hooks/workers/checker-<version>.sock`. A new version listens on a new socket.
 */
export const checkerSocket = (version = VERSION): string => join('agent-hooks', 'workers', `${CHECKER}-${version}.sock`);

/**
 * How long (ms) the checker waits without a request before it exits (the next push starts it
 * again): 10 minutes, or `AGENT_HOOKS_CHECKER_IDLE_MS` in the environment it was started with.
 */
export function checkerIdleMs(env: NodeJS.ProcessEnv): number {
  const ms = Number(env.AGENT_HOOKS_CHECKER_IDLE_MS);
  return Number.isInteger(ms) && ms > 0 ? ms : 10 * 60_000;
}

/** Starts the checker detached for `gitDir` unless a live one holds its lock. Never throws. */
export function startChecker(gitDir: string): void {
  try {
    if (lockHolder(statePaths(gitDir).workerLock(CHECKER)) !== undefined) return;
    startWorker(CHECKER, gitDir);
  } catch {
    // the push is judged either way; the next one tries again
  }
}

/**
 * Stops the checker of `gitDir` (SIGTERM), if one runs: the pid in its lock must be a process
 * whose command line is a `checker.mjs` for this git dir (a checker that died uncleanly leaves a
 * pid that another process may have by now). Returns the pid it stopped. Never throws.
 */
export function stopChecker(gitDir: string): number | undefined {
  try {
    const pid = lockHolder(statePaths(gitDir).workerLock(CHECKER));
    if (pid === undefined) return undefined;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const real = realpathSync(gitDir);
    const samePath = (a: string) => {
      try {
        return a !== '' && realpathSync(a) === real;
      } catch {
        return false;
      }
    };
    if (!argv.some((a) => a.endsWith(`${CHECKER}.mjs`)) || !argv.some(samePath)) return undefined;
    process.kill(pid, 'SIGTERM');
    return pid;
  } catch {
    return undefined;
  }
}

/** One push as the client sends it. */
export interface CheckRequest {
  /** The hook's environment, `NAME=value` pairs. */
  env: NodeJS.ProcessEnv;
  /** The hook's working directory (`/proc/self/cwd`): the checker serves only its own git dir. */
  cwd: string;
  /** pre-receive's stdin. */
  stdin: Buffer;
}

const HEADER = /^agent-hooks-check 1 (\d+) (\d+) (\d+)\n/;

/**
 * Parses a request: `agent-hooks-check 1 <env bytes> <cwd bytes> <stdin bytes>\n`, then the
 * environment (`NAME=value` entries, each ended by a NUL), the cwd and stdin. Undefined while
 * the bytes are incomplete or malformed (the checker then declines).
 */
export function parseCheckRequest(data: Buffer): CheckRequest | undefined {
  const eol = data.indexOf(0x0a);
  if (eol < 0 || eol > 100) return undefined;
  const m = HEADER.exec(data.toString('latin1', 0, eol + 1));
  if (!m) return undefined;
  const [envBytes, cwdBytes, stdinBytes] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const start = eol + 1;
  if (data.length !== start + envBytes + cwdBytes + stdinBytes) return undefined;
  const env: NodeJS.ProcessEnv = {};
  for (const entry of data.subarray(start, start + envBytes).toString('utf8').split('\0')) {
    const at = entry.indexOf('=');
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return { env, cwd: data.toString('utf8', start + envBytes, start + envBytes + cwdBytes), stdin: data.subarray(start + envBytes + cwdBytes) };
}

/** The answer: `<exit code> <bytes>\n` and the text for the pusher's stderr, or `declined\n`. */
export function formatCheckResponse(result: { lines: string[]; exitCode: number } | 'declined'): Buffer {
  if (result === 'declined') return Buffer.from('declined\n');
  const text = Buffer.from(result.lines.length > 0 ? `${result.lines.join('\n')}\n` : '');
  return Buffer.concat([Buffer.from(`${result.exitCode} ${text.length}\n`), text]);
}
