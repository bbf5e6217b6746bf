// The heartbeat (DESIGN.md "Agent sessions"): renew this agent's active claims every ttl/3 with
// one plumbing commit, like etcd's keepalive, so short ttls are safe and a crashed agent's claims
// lapse soon. One tick is `agent-hooks heartbeat --once --json` (sync git, like `renew`); the
// loop runs each tick as a child process with a timeout, so a hung push or a crash in a tick
// never blocks or ends the loop (`run` lives for hours and must keep forwarding signals).
import { spawn } from 'node:child_process';
import type { Claim } from '../core/claim.js';
import type { ClaimsOutcome } from '../core/result.js';
import { planRenewAll, type ClaimsState } from '../core/plans.js';
import { findLostClaims, formatLostClaim, HEARTBEAT_MAX_TICK_MS, type LostClaim } from '../core/session.js';
import { exitCodeOfOutcome, formatOutcome } from '../core/render.js';
import { formatTime } from '../core/text.js';
import { readCommonDir, readRememberedClaims, rememberClaim } from '../git/claim-memory.js';
import type { AgentRepo } from './agent-repo.js';
import { changeClaims } from './claims.js';

/**
 * What one tick did: `renewed` (one commit landed), `idle` (nothing due or no claims), `offline`
 * (the claims ref could not be reached: try again soon), `failed` (the server refused or git
 * failed). `lost` names the claims this agent lost; `nextTickMs` is when to look again; `lines`
 * are the renewal or warning lines (the lost claims are rendered by the caller).
 */
export interface HeartbeatTick {
  kind: 'renewed' | 'idle' | 'offline' | 'failed';
  renewed: { taskId: string; expiresAt: number }[];
  lost: LostClaim[];
  nextTickMs: number;
  lines: string[];
}

/** Time until the next look (ms): when the first active claim falls due, at most 20 s, at least 1 s. */
export function nextTickDelay(mine: readonly Claim[], now: number, everyMs?: number): number {
  let next = Math.min(HEARTBEAT_MAX_TICK_MS, everyMs ?? Infinity);
  for (const c of mine) {
    const last = Math.max(c.lock.started, c.lock.renewed ?? 0);
    next = Math.min(next, last + (everyMs ?? (c.expiresAt - last) / 3) - now);
  }
  return Math.max(1000, Math.round(next));
}

/**
 * One heartbeat tick in `repo` for its agent: fetch, renew every active claim of the agent when
 * one is due (or `force`), record the new expiries in the claim memory, and name the lost claims.
 * Never throws for an unreachable remote (kind `offline`).
 */
export async function heartbeatTick(repo: AgentRepo, options: { everyMs?: number; force?: boolean } = {}): Promise<HeartbeatTick> {
  const agent = repo.agent.id!;
  const commonDir = readCommonDir(repo.git);
  let seen: { state: ClaimsState; now: number } | undefined;
  let result: ClaimsOutcome;
  try {
    result = await changeClaims(repo, (state, now) => {
      seen = { state, now };
      return planRenewAll(state, agent, now, options);
    });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    return { kind: 'offline', renewed: [], lost: [], nextTickMs: 5000, lines: [`WARNING: heartbeat: could not reach the claims ref (${message}); the claims are not renewed, trying again`] };
  }
  const now = seen?.now ?? Date.now();
  const claims = seen?.state.claims ?? [];
  const mine = claims.filter((c) => c.lock.agent === agent && c.expiresAt > now);
  const renewed = result.kind === 'renewed' ? result.claims.map((c) => ({ taskId: c.task, expiresAt: c.expiresAt })) : [];
  for (const r of renewed) rememberClaim(commonDir, agent, r.taskId, r.expiresAt);
  // A claim of this agent on the ref that the memory lacks (taken from another clone, or before
  // this version) is remembered too, so losing it later is noticed.
  for (const c of mine) if (!renewed.some((r) => r.taskId === c.taskId)) rememberClaim(commonDir, agent, c.taskId, c.expiresAt);
  const lost = findLostClaims(readRememberedClaims(commonDir, agent, now), claims, agent, now);
  const exitCode = exitCodeOfOutcome(result);
  const kind = exitCode !== 0 ? 'failed' : result.kind === 'renewed' ? 'renewed' : 'idle';
  const lines = kind === 'failed' ? formatOutcome(result).map((l) => (l.startsWith('ERROR: ') ? `WARNING: heartbeat: ${l.slice(7)}` : l)) : kind === 'renewed' ? formatOutcome(result) : [];
  const nextTickMs = kind === 'failed' ? 5000 : nextTickDelay(kind === 'renewed' ? mine.map((c) => ({ ...c, lock: { ...c.lock, renewed: now } })) : mine, now, options.everyMs);
  return { kind, renewed, lost, nextTickMs, lines };
}

/** Options of {@link startHeartbeat}: the built CLI to run ticks with, the repository, and where lines go. */
export interface HeartbeatOptions {
  cliPath: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Renew every this many ms instead of a third of each claim's ttl (for tests and tighter margins). */
  everyMs?: number;
  /** A tick that takes longer is killed and counted as offline (ms; default 60 s). */
  tickTimeoutMs?: number;
  out: (line: string) => void;
}

/** A running heartbeat: `stop()` ends it (an unfinished tick is aborted) and resolves when it has ended. */
export interface Heartbeat {
  stop(): Promise<void>;
}

/**
 * Starts the heartbeat loop: a tick at once, then each after the delay the tick asked for (a
 * failing or offline tick: 5 s, doubling to 60 s). Renewals and notices are passed to `out`; a
 * notice is repeated only when it changes. Never throws: a tick that crashes prints a WARNING.
 */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let lastNotices = '';
  let failures = 0;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });
  const loop = (async () => {
    while (!controller.signal.aborted) {
      const tick = await runTick(options, controller.signal);
      if (controller.signal.aborted) break;
      for (const line of tick.lines) options.out(line.startsWith('WARNING: ') ? line : `agent-hooks heartbeat: ${line}`);
      const notices = tick.lost.map(formatLostClaim).join('\n');
      if (notices && notices !== lastNotices) options.out(notices);
      lastNotices = notices;
      failures = tick.kind === 'offline' || tick.kind === 'failed' ? failures + 1 : 0;
      await sleep(failures > 0 ? Math.min(60_000, tick.nextTickMs * 2 ** (failures - 1)) : tick.nextTickMs);
    }
  })();
  return {
    async stop() {
      controller.abort();
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}

/** Runs one tick as `node <cli> heartbeat --once --json` and reads its JSON answer. */
function runTick(options: HeartbeatOptions, signal: AbortSignal): Promise<HeartbeatTick> {
  const offline = (why: string): HeartbeatTick => ({ kind: 'offline', renewed: [], lost: [], nextTickMs: 5000, lines: [`WARNING: heartbeat: ${why}; trying again`] });
  return new Promise((resolve) => {
    const args = [options.cliPath, 'heartbeat', '--once', '--json', ...(options.everyMs !== undefined ? ['--every', String(options.everyMs / 1000)] : [])];
    const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], signal: AbortSignal.any([signal, AbortSignal.timeout(options.tickTimeoutMs ?? 60_000)]) });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', (error) => resolve(offline(error.name === 'AbortError' ? 'a renewal took too long and was stopped' : `could not start a renewal (${error.message})`)));
    child.on('close', (code) => {
      try {
        const tick = JSON.parse(Buffer.concat(stdout).toString('utf8')) as HeartbeatTick;
        if (typeof tick?.kind === 'string' && Array.isArray(tick.lines) && typeof tick.nextTickMs === 'number') return resolve(tick);
      } catch {
        // fall through: the tick crashed
      }
      const why = Buffer.concat(stderr).toString('utf8').trim().split('\n').pop() ?? '';
      resolve(offline(`a renewal ended with exit code ${code}${why ? ` (${why})` : ''}`));
    });
  });
}

/** The lines `agent-hooks heartbeat --once` prints for a tick in a terminal: what it did, then the lost claims. */
export function formatTick(tick: HeartbeatTick): string[] {
  const did = tick.lines.length > 0 ? tick.lines : [tick.kind === 'idle' ? `no renewal due; next look at ${formatTime(Date.now() + tick.nextTickMs)}` : tick.kind];
  return [...did, ...tick.lost.map(formatLostClaim)];
}
