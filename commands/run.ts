// `agent-hooks run -- <command...>` (DESIGN.md "Agent sessions"): the agent loop of a
// parallel-agents harness. Reruns the command until stopped, one session log per run under
// `<git-common-dir>/agent-hooks/logs/<agent>/`, exponential backoff on failing runs, signals
// forwarded to the run's process group, and the heartbeat renewing the agent's claims meanwhile.
// Long-lived, so everything is async: the child is spawned, never waited for synchronously.
import { spawn } from 'node:child_process';
import { closeSync, constants as fsConstants, mkdirSync, openSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { AGENT_ID } from '../core/lock-file.js';
import { exitCodeOf, formatRunSummary, nextRunDelay, sessionLogName } from '../core/session.js';
import { formatTime } from '../core/text.js';
import { startHeartbeat } from './heartbeat.js';

/** Options of {@link runLoop}. `maxRuns` undefined: until stopped; `once` is `maxRuns: 1`. */
export interface RunOptions {
  command: string[];
  agent: string;
  commonDir: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  maxRuns?: number;
  /** The built CLI, which runs the heartbeat's ticks; no heartbeat when undefined. */
  cliPath?: string;
  /** Heartbeat: renew every this many ms instead of ttl/3. */
  everyMs?: number;
  out: (line: string) => void;
}

/** How the loop ended: the exit code for `run` and, for a command that cannot start, the `ERROR:` line. */
export interface RunResult {
  exitCode: number;
  runs: number;
  error?: string;
}

/** The directory of an agent's session logs. */
export const sessionLogDir = (commonDir: string, agent: string): string => join(commonDir, 'agent-hooks', 'logs', agent);

/** Opens a new session log for a run that starts at `startMs` (a suffix when the name is taken). */
function openSessionLog(dir: string, startMs: number): { fd: number; path: string } {
  mkdirSync(dir, { recursive: true });
  const name = sessionLogName(startMs);
  for (let n = 0; ; n++) {
    const path = join(dir, n === 0 ? name : name.replace(/\.log$/, `-${n}.log`));
    try {
      return { fd: openSync(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o644), path };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n > 100) throw error;
    }
  }
}

const signalNumber = (signal: string | null) => (signal ? osConstants.signals[signal as keyof typeof osConstants.signals] : undefined);

/**
 * Runs the loop until stopped (SIGINT/SIGTERM: forwarded to the running command's process group;
 * a second one kills the group), `maxRuns` runs, or a command that cannot start (exit 2, no
 * retries: a missing or non-executable command would fail every time). Resolves with the last
 * run's exit code (128 + n for a signal).
 */
export async function runLoop(options: RunOptions): Promise<RunResult> {
  if (!AGENT_ID.test(options.agent)) return { exitCode: 2, runs: 0, error: `ERROR: run: ${JSON.stringify(options.agent)} is not an agent id; fix: agent-hooks run --agent <id> -- <command>` };
  const logDir = sessionLogDir(options.commonDir, options.agent);
  const env = { ...options.env, AGENT_ID: options.agent };
  const heartbeat = options.cliPath ? startHeartbeat({ cliPath: options.cliPath, cwd: options.cwd, env, everyMs: options.everyMs, out: options.out }) : undefined;
  let stopping = false;
  let signals = 0;
  let child: ReturnType<typeof spawn> | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    stopping = true;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const forward = signals === 1 ? signal : 'SIGKILL';
      options.out(`agent-hooks run: ${signals === 1 ? `${signal}: passed to the command; a second signal kills it` : `${signal} again: killing the command`}`);
      try {
        process.kill(-child.pid, forward);
      } catch {
        // the group is gone already
      }
    } else wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let failures = 0;
  let runs = 0;
  let exitCode = 0;
  try {
    while (!stopping && (options.maxRuns === undefined || runs < options.maxRuns)) {
      runs++;
      const start = Date.now();
      const log = openSessionLog(logDir, start);
      writeSync(log.fd, `# agent-hooks run ${runs} of agent ${options.agent} at ${formatTime(start)}: ${JSON.stringify(options.command)}\n`);
      const ended = await new Promise<{ code: number | null; signal: string | null; error?: NodeJS.ErrnoException }>((resolve) => {
        try {
          child = spawn(options.command[0]!, options.command.slice(1), { cwd: options.cwd, env: { ...env, AGENT_HOOKS_RUN: String(runs), AGENT_HOOKS_SESSION_LOG: log.path }, stdio: ['ignore', log.fd, log.fd], detached: true });
        } catch (error) {
          return resolve({ code: null, signal: null, error: error as NodeJS.ErrnoException });
        }
        child.on('error', (error) => resolve({ code: null, signal: null, error }));
        child.on('exit', (code, signal) => resolve({ code, signal }));
      });
      child = undefined;
      const durationMs = Date.now() - start;
      if (ended.error) {
        writeSync(log.fd, `# could not start: ${ended.error.message}\n`);
        closeSync(log.fd);
        const cmd = options.command[0]!;
        const what = ended.error.code === 'ENOENT' ? `${JSON.stringify(cmd)}: command not found (not on PATH, or no such file)` : ended.error.code === 'EACCES' ? `${JSON.stringify(cmd)} is not executable` : `${JSON.stringify(cmd)} could not start (${ended.error.message})`;
        const fix = ended.error.code === 'EACCES' ? `chmod +x ${cmd}, or agent-hooks run -- sh ${cmd}` : 'give an executable after --, e.g. agent-hooks run -- ./agent.sh';
        return { exitCode: 2, runs, error: `ERROR: run: ${what}; fix: ${fix}` };
      }
      exitCode = exitCodeOf(ended.code, signalNumber(ended.signal));
      failures = exitCode === 0 ? 0 : failures + 1;
      const last = stopping || (options.maxRuns !== undefined && runs >= options.maxRuns);
      const nextInMs = last ? undefined : nextRunDelay(failures, durationMs);
      writeSync(log.fd, `# ${ended.signal ? `killed by ${ended.signal}` : `exit ${ended.code}`} after ${durationMs} ms\n`);
      closeSync(log.fd);
      options.out(formatRunSummary({ run: runs, exitCode: ended.code, signal: ended.signal, durationMs, log: log.path, nextInMs }));
      if (nextInMs !== undefined && nextInMs > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, nextInMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
    return { exitCode, runs };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await heartbeat?.stop();
  }
}
