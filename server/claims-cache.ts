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

/**
 * The key of the entry at `path`, with its value parsed only on demand (a cache of 1,000 claims
 * is ~250 kB of JSON: a caller that only needs to know which tip it holds skips parsing it), or
 * undefined (no file, unreadable). {@link writeCache} writes the key first.
 */
export function readCacheEntry<T>(path: string): { key: string; value: () => T | undefined } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^\{"key":("(?:[^"\\]|\\.)*")/.exec(text);
  if (!m) return undefined;
  const value = () => {
    try {
      return (JSON.parse(text) as { value?: T }).value;
    } catch {
      return undefined;
    }
  };
  try {
    return { key: JSON.parse(m[1]!) as string, value };
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
