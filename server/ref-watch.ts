// Watches a bare repo's refs for changes without polling git: inotify (fs.watch) on `refs/`
// (recursive: `refs/land/<agent>/` directories come and go) and on the git dir itself for
// `packed-refs` and `HEAD` (both are replaced by a rename, so the directory is watched, not the
// file). Bursts are debounced into one call.
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

/** The git dir's own files whose change moves a ref. */
const TOP_LEVEL = new Set(['packed-refs', 'HEAD']);

/**
 * Calls `onChange` once per burst of ref changes: `debounceMs` after the last change of a burst,
 * and at least every `maxWaitMs` while changes keep coming (so a busy repo still updates).
 * Returns `close`, which stops watching and cancels a pending call.
 * @throws when `refs/` cannot be watched (not a git dir, or out of inotify watches).
 */
export function watchRefs(gitDir: string, onChange: () => void, options: { debounceMs?: number; maxWaitMs?: number } = {}): () => void {
  const debounceMs = options.debounceMs ?? 150;
  const maxWaitMs = options.maxWaitMs ?? 500;
  let timer: NodeJS.Timeout | undefined;
  let firstAt = 0;
  let closed = false;
  const fire = () => {
    timer = undefined;
    firstAt = 0;
    if (!closed) onChange();
  };
  const changed = () => {
    if (closed) return;
    const now = Date.now();
    if (firstAt === 0) firstAt = now;
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, Math.max(0, Math.min(debounceMs, firstAt + maxWaitMs - now)));
  };
  const watchers: FSWatcher[] = [];
  const ignoreErrors = (w: FSWatcher) => w.on('error', () => undefined);
  // `*.lock` files are git's own intermediate steps; the rename that follows is the change.
  watchers.push(ignoreErrors(watch(join(gitDir, 'refs'), { recursive: true, persistent: false }, (_event, name) => {
    if (!name || !String(name).endsWith('.lock')) changed();
  })));
  watchers.push(ignoreErrors(watch(gitDir, { persistent: false }, (_event, name) => {
    if (name && TOP_LEVEL.has(String(name))) changed();
  })));
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
