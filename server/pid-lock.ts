// A lock directory that a dead process does not hold: mkdir(2) is atomic, the holder's pid is
// written inside, and a lock whose pid is gone (or that never got a pid) is taken over.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** When a lock counts as abandoned (ms): no pid written after `orphanMs`, or older than `maxAgeMs` whatever its pid. */
export interface LockOptions {
  orphanMs: number;
  maxAgeMs?: number;
}

/**
 * Whether a process is running. A zombie (exited, not yet reaped) counts as gone: a detached
 * process whose parent ended is reaped by PID 1, and in a container whose PID 1 does not reap,
 * it stays a zombie forever and would hold its lock forever (found by test/faults). Linux /proc
 * tells; elsewhere signal 0 alone decides.
 */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
};

/** The pid of the live process that holds the lock directory `lock`, or undefined when none does. */
export function lockHolder(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    return pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

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
