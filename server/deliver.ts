// Delivering the spool to a Slack incoming webhook: oldest first, one message at a time, at most
// one per second (Slack: "1 per second" for incoming webhooks), honouring 429 Retry-After,
// retrying 5xx and network errors with backoff, setting aside what Slack refuses for good.
// HTTP through Node's fetch (undici inside Node), with a deadline per request.
import { parseRawPushEvent, pushEventOfRaw } from './raw-event.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tryLock } from './pid-lock.js';
import { join } from 'node:path';
import { buildSlackMessage, withDeliveryMetadata, type Notification, type SlackMessage } from '../core/notification.js';
import { readNotification } from '../git/read-notification.js';
import { failedDir, redact, spoolDir } from './spool.js';

/** Tuning, in ms; the defaults follow Slack's limits. Tests shorten them through the environment. */
export interface DeliveryOptions {
  /** Pause between two messages (Slack: about one per second per webhook). */
  intervalMs: number;
  /** Deadline of one HTTP request. */
  timeoutMs: number;
  /** How long this sender keeps retrying transient failures before leaving the rest spooled. */
  budgetMs: number;
  /** First backoff after a 5xx or network error; it doubles up to 32x. */
  backoffMs: number;
  commitUrl?: string;
  log: (line: string) => void;
}

/** Reads the tuning from `AGENT_HOOKS_NOTIFY_INTERVAL_MS`, `..._TIMEOUT_MS`, `..._BUDGET_MS`, `..._BACKOFF_MS`. */
export function deliveryOptions(env: NodeJS.ProcessEnv, log: (line: string) => void, commitUrl?: string): DeliveryOptions {
  const ms = (name: string, fallback: number) => Number(env[`AGENT_HOOKS_NOTIFY_${name}_MS`]) || fallback;
  return { intervalMs: ms('INTERVAL', 1000), timeoutMs: ms('TIMEOUT', 10_000), budgetMs: ms('BUDGET', 10 * 60_000), backoffMs: ms('BACKOFF', 1000), commitUrl, log };
}

/** How one POST ended: sent (200 ok), refused for good (4xx but 429), or worth retrying (after `waitMs`). */
export type PostResult = { kind: 'sent' } | { kind: 'refused'; reason: string } | { kind: 'retry'; waitMs: number; reason: string };

const PERMANENT = new Set([400, 401, 403, 404, 410]);

/** One POST of a message to the webhook. Never throws; the URL never appears in a reason. */
export async function postMessage(url: string, message: SlackMessage, timeoutMs: number, attempt: number, backoffMs = 1000): Promise<PostResult> {
  const backoff = backoffMs * 2 ** Math.min(attempt, 5);
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message), signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).slice(0, 200);
    if (res.status === 200) return { kind: 'sent' };
    if (res.status === 429) return { kind: 'retry', waitMs: (Number(res.headers.get('retry-after')) || 1) * 1000, reason: `429 ${body}` };
    if (PERMANENT.has(res.status)) return { kind: 'refused', reason: redact(`${res.status} ${body}`, url) };
    return { kind: 'retry', waitMs: backoff, reason: redact(`${res.status} ${body}`, url) };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { kind: 'retry', waitMs: backoff, reason: redact(`${(error as Error).name}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`, url) };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** This sender process, in attempt ids: pid and start time, so two senders never share one. */
const SENDER = `${process.pid}.${Date.now().toString(36)}`;

/** A lock on the spool older than this without a live process is taken over (ms). */
export const STALE_LOCK_MS = 10 * 60_000;

/** What a flush did: messages sent, set aside, still spooled; `busy` when another sender holds the spool. */
export interface FlushReport {
  sent: number;
  setAside: number;
  left: number;
  busy: boolean;
}

/**
 * Sends the spooled messages, oldest first, one at a time. Only one sender works on a spool at a
 * time (a lock directory that a crashed sender does not hold: dead pid, or older than
 * {@link STALE_LOCK_MS}); a spool file is removed only after Slack answered 200. After releasing
 * the lock it looks again, so a message spooled meanwhile is not left behind.
 */
export async function flushSpool(gitDir: string, url: string, options: DeliveryOptions): Promise<FlushReport> {
  const dir = spoolDir(gitDir);
  mkdirSync(dir, { recursive: true });
  const report: FlushReport = { sent: 0, setAside: 0, left: 0, busy: false };
  const deadline = Date.now() + options.budgetMs;
  // .raw: push events the post-receive stub wrote in sh; .json: refused pushes from pre-receive.
  const pending = () => readdirSync(dir).filter((f) => f.endsWith('.json') || f.endsWith('.raw')).sort();
  for (;;) {
    const release = tryLock(join(dir, '.lock'), { orphanMs: 5000, maxAgeMs: STALE_LOCK_MS });
    if (!release) return { ...report, busy: true, left: pending().length };
    let gaveUp = false;
    try {
      for (let files = pending(); files.length > 0 && !gaveUp; files = pending()) {
        const file = files[0]!;
        const path = join(dir, file);
        let message: SlackMessage;
        try {
          const git = { env: { ...process.env, GIT_DIR: gitDir } };
          const text = readFileSync(path, 'utf8');
          const notification = file.endsWith('.raw') ? readNotification(pushEventOfRaw(parseRawPushEvent(text), gitDir, git), git, Date.now()) : (JSON.parse(text) as Notification);
          message = buildSlackMessage(notification, options.commitUrl);
        } catch (error) {
          setAside(gitDir, file, `unreadable spool file: ${(error as Error).message}`);
          report.setAside++;
          continue;
        }
        for (let attempt = 0; ; attempt++) {
          utimesSync(join(dir, '.lock'), new Date(), new Date());
          // At least once: a POST Slack took but answered late (or a sender killed after it) is
          // sent again; the metadata's message_id names the repeat (README "Notifications").
          const result = await postMessage(url, withDeliveryMetadata(message, file.replace(/\.(json|raw)$/, ''), attempt + 1, SENDER), options.timeoutMs, attempt, options.backoffMs);
          if (result.kind === 'sent') {
            rmSync(path, { force: true });
            report.sent++;
            options.log(`sent ${file}`);
            await sleep(options.intervalMs);
            break;
          }
          if (result.kind === 'refused') {
            setAside(gitDir, file, result.reason);
            report.setAside++;
            options.log(`set aside ${file}: ${result.reason}`);
            break;
          }
          options.log(`retry ${file} in ${result.waitMs} ms: ${result.reason}`);
          if (Date.now() + result.waitMs > deadline) {
            gaveUp = true;
            break;
          }
          await sleep(result.waitMs);
        }
      }
    } finally {
      release();
    }
    report.left = pending().length;
    if (gaveUp || report.left === 0) return report;
  }
}

function setAside(gitDir: string, file: string, reason: string): void {
  const dir = failedDir(gitDir);
  mkdirSync(dir, { recursive: true });
  renameSync(join(spoolDir(gitDir), file), join(dir, file));
  writeFileSync(join(dir, `${file}.reason`), `${reason}\n`);
}

/** Spool health for doctor: pending count, the oldest pending file's age (ms), messages set aside. */
export function spoolHealth(gitDir: string, now: number): { pending: number; oldestMs: number; setAside: number } {
  const dir = spoolDir(gitDir);
  // A spool that is not a directory is doctor's spoolProblem to report, not a crash here.
  const isDir = (d: string) => existsSync(d) && statSync(d).isDirectory();
  const files = isDir(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json') || f.endsWith('.raw')) : [];
  const oldest = files.reduce((min, f) => Math.min(min, statSync(join(dir, f)).mtimeMs), now);
  const failed = isDir(failedDir(gitDir)) ? readdirSync(failedDir(gitDir)).filter((f) => f.endsWith('.json') || f.endsWith('.raw')).length : 0;
  return { pending: files.length, oldestMs: now - oldest, setAside: failed };
}
