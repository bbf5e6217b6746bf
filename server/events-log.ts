// The bare repo's events log: `<git-dir>/agent-hooks/events.log`, one JSON object per line,
// appended by pre-receive (a refused push, with its ERROR lines) and read by the dashboard. The
// refs say what landed; only this log remembers what was refused. It is bounded: past
// MAX_LOG_BYTES the file is renamed to `events.log.1` (the previous one is dropped).
import { parseJsonObject } from '../core/json.js';
import { appendFileSync, closeSync, mkdirSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { statePaths } from './state.js';

/** Where the log lives, and its one older generation. */
export const eventsLogPath = (gitDir: string): string => statePaths(gitDir).eventsLog;

/** The log is rotated past this many bytes (1 MiB: thousands of events). */
export const MAX_LOG_BYTES = 1 << 20;
/** One line is cut to at most this many bytes of ERROR lines (a push can name many paths). */
export const MAX_EVENT_BYTES = 16 * 1024;

/**
 * One event: `rejected`, a push pre-receive refused (pusher, refs, its ERROR lines); time RFC
 * 3339. A union, so other kinds can be added; readers skip kinds they do not know.
 */
export type RepoEvent = { kind: 'rejected'; time: string; pusher: string; refs: string[]; errors: string[] };

/**
 * Appends one event as one line (a single `write` with O_APPEND, so lines from concurrent hooks
 * never interleave), cutting its ERROR lines to {@link MAX_EVENT_BYTES}. Rotates a log grown past
 * {@link MAX_LOG_BYTES} first. @throws on a disk error (callers in hooks ignore it: the push's
 * verdict never depends on the log).
 */
export function appendEvent(gitDir: string, event: RepoEvent): void {
  const path = eventsLogPath(gitDir);
  mkdirSync(dirname(path), { recursive: true });
  try {
    if (statSync(path).size > MAX_LOG_BYTES) renameSync(path, `${path}.1`);
  } catch {
    // no log yet
  }
  let line = JSON.stringify(event);
  if (event.kind === 'rejected') {
    const errors = [...event.errors];
    while (Buffer.byteLength(line) > MAX_EVENT_BYTES && errors.length > 1) {
      errors.pop();
      line = JSON.stringify({ ...event, errors: [...errors, `... ${event.errors.length - errors.length} more`] });
    }
    if (Buffer.byteLength(line) > MAX_EVENT_BYTES) line = JSON.stringify({ ...event, errors: [`${(errors[0] ?? '').slice(0, 1000)} ...`] });
  }
  appendFileSync(path, `${line}\n`);
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** The event of one log line, or undefined for a line that is not one (a torn or foreign line). */
export function parseEvent(line: string): RepoEvent | undefined {
  const e = parseJsonObject(line);
  if (!e || !isString(e.time)) return undefined;
  if (e.kind === 'rejected' && isString(e.pusher) && Array.isArray(e.refs) && e.refs.every(isString) && Array.isArray(e.errors) && e.errors.every(isString)) {
    return { kind: 'rejected', time: e.time, pusher: e.pusher, refs: e.refs, errors: e.errors };
  }
  return undefined;
}

/**
 * The last `limit` events, oldest first, reading at most the last 256 KiB of the log (and of
 * `events.log.1` when the current one holds fewer). A missing log is no events.
 */
export function readRecentEvents(gitDir: string, limit: number): RepoEvent[] {
  const path = eventsLogPath(gitDir);
  const events = tailEvents(path);
  return (events.length < limit ? [...tailEvents(`${path}.1`), ...events] : events).slice(-limit);
}

const TAIL_BYTES = 256 * 1024;

function tailEvents(path: string): RepoEvent[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = statSync(path).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    const read = readSync(fd, buffer, 0, buffer.length, start);
    const lines = buffer.subarray(0, read).toString('utf8').split('\n');
    if (start > 0) lines.shift(); // a partial first line
    return lines.map(parseEvent).filter((e): e is RepoEvent => e !== undefined);
  } finally {
    closeSync(fd);
  }
}
