// A lock directory that a dead process does not hold: mkdir(2) is atomic, the holder's pid is
// written inside, and a lock whose pid is gone (or that never got a pid) is taken over.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** When a lock counts as abandoned (ms): no pid written after `orphanMs`, or older than `maxAgeMs` whatever its pid. */
export interface LockOptions {
  orphanMs: number;
  maxAgeMs?: number;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Tries once to take the lock directory `lock` (its parent must exist), taking over an abandoned
 * one. Returns the function that releases it, or undefined when a live process holds it.
 */
export function tryLock(lock: string, options: LockOptions): (() => void) | undefined {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch {
      let pid = 0;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
        pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // released meanwhile, or no pid yet
      }
      const abandoned = (pid > 0 && !alive(pid)) || (!pid && age > options.orphanMs) || (options.maxAgeMs !== undefined && age > options.maxAgeMs);
      if (!abandoned) return undefined;
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return undefined;
}
