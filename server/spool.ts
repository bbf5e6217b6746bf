// The notification spool in the bare repo: `<git-dir>/agent-hooks/spool/`. A message is written
// durably before anything tries to send it (temp file, fsync, rename), so no message is lost
// when the sender, Slack or the machine fails.
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Notification } from '../core/notification.js';
import { statePaths } from './state.js';
import { startWorker } from './worker.js';

/** Where the spool lives, and where messages Slack refused for good are set aside. */
export const spoolDir = (gitDir: string): string => statePaths(gitDir).spool;
export const failedDir = (gitDir: string): string => statePaths(gitDir).failed;

/**
 * Where the post-receive stub keeps a push event it could not spool (disk full, spool not
 * writable), one raw file each. `doctor` reports them and `notify --flush` spools them again.
 */
export const unspooledDir = (gitDir: string): string => statePaths(gitDir).unspooled;

const unspooledNames = (gitDir: string): string[] => (existsSync(unspooledDir(gitDir)) ? readdirSync(unspooledDir(gitDir)).filter((f) => f.endsWith('.raw')).sort() : []);

/** How many events wait in {@link unspooledDir}. */
export function unspooledCount(gitDir: string): number {
  return unspooledNames(gitDir).length;
}

/**
 * Moves the events of {@link unspooledDir} into the spool, oldest first (names sort by time).
 * Returns how many were moved. @throws when the spool cannot be written.
 */
export function respoolUnspooled(gitDir: string): number {
  const names = unspooledNames(gitDir);
  if (names.length > 0) mkdirSync(spoolDir(gitDir), { recursive: true });
  for (const name of names) {
    const from = join(unspooledDir(gitDir), name);
    const to = join(spoolDir(gitDir), name);
    try {
      renameSync(from, to);
    } catch (error) {
      // The spool on its own filesystem (a mount that was full, say): copy, then remove.
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      copyFileSync(from, to);
      rmSync(from);
    }
  }
  return names.length;
}

/** Why the spool cannot be written (a probe file is created and removed), or undefined when it can. */
export function spoolProblem(gitDir: string): string | undefined {
  const probe = join(spoolDir(gitDir), `.probe-${process.pid}`);
  try {
    mkdirSync(spoolDir(gitDir), { recursive: true });
    writeFileSync(probe, 'probe');
    rmSync(probe);
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

/**
 * The webhook URL: `git config agenthooks.slack.webhookUrl`, else `AGENT_HOOKS_SLACK_WEBHOOK_URL`.
 * A secret: never print it; use {@link redact} on anything that might contain it.
 */
export function webhookUrlFrom(configured: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return configured || env.AGENT_HOOKS_SLACK_WEBHOOK_URL || undefined;
}

/** Replaces every occurrence of the URL (and of its path, which holds the token) with `<webhook>`. */
export function redact(text: string, url: string | undefined): string {
  if (!url) return text;
  let out = text.split(url).join('<webhook>');
  try {
    const path = new URL(url).pathname;
    if (path.length > 1) out = out.split(path).join('/<redacted>');
  } catch {
    // not a URL: the literal replacement above is all we can do
  }
  return out;
}

/**
 * The name of a spool file written at `now` (epoch ms): the same shape as the post-receive stub's
 * names (installer/stub.ts), from one clock reading, so every event sorts by time whoever wrote
 * it: `<YYYYMMDDTHHMMSSZ>-<ns in the second, 9 digits>-<pid>.<ext>`.
 */
export function spoolName(now: number, ext: 'json' | 'raw'): string {
  return `${new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')}-${String((now % 1000) * 1_000_000).padStart(9, '0')}-${process.pid}.${ext}`;
}

/**
 * Writes a ready notification (a refused push, from pre-receive) into the spool: temp file,
 * fsync, rename; named so that names sort by time. Landed pushes are spooled by the post-receive
 * stub in sh, as raw events.
 */
export function spoolEvent(gitDir: string, n: Notification): string {
  const dir = spoolDir(gitDir);
  mkdirSync(dir, { recursive: true });
  const name = spoolName(Date.now(), 'json');
  const temp = join(dir, `.${name}.tmp`);
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, JSON.stringify(n));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(dir, name));
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return name;
}

/** Starts the Slack sender (`notify-sender.mjs`, beside the hook bundles) as a detached worker ({@link startWorker}). */
export function startSender(gitDir: string): void {
  startWorker('notify-sender', gitDir);
}

/** The short name of a repository for messages: the last component of its git dir. */
export const repoName = (gitDir: string): string => basename(gitDir);
