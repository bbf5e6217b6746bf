// A small JSON cache of parsed claims, keyed by what they were parsed from (the claims ref's oid,
// the policy, the version). Objects never change, so an entry for the same key is exact. Used by
// pre-receive (`<git-dir>/agent-hooks/claims-cache.json`: 1,000 claims cost two git calls and
// ~40 ms to read and parse) and by the Claude Code adapter (in the clone). A cache that cannot be
// read or written is ignored: it only ever saves work.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The value cached at `path` under `key`, or undefined (no file, another key, unreadable). */
export function readCache<T>(path: string, key: string): T | undefined {
  try {
    const entry = JSON.parse(readFileSync(path, 'utf8')) as { key?: unknown; value?: T };
    return entry.key === key ? entry.value : undefined;
  } catch {
    return undefined;
  }
}

/** The entry at `path`, whatever its key, or undefined (no file, unreadable). */
export function readCacheEntry<T>(path: string): { key: string; value: T } | undefined {
  try {
    const entry = JSON.parse(readFileSync(path, 'utf8')) as { key?: unknown; value?: T };
    return typeof entry.key === 'string' ? { key: entry.key, value: entry.value as T } : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `value` under `key` to `path` (temp file and rename, so readers never see half). */
export function writeCache(path: string, key: string, value: unknown): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ key, value }));
    renameSync(temp, path);
  } catch {
    // a read-only or full disk: no cache
  }
}
