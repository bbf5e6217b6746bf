// File-system steps of the installer: atomic writes, shell quoting, executability.
import { accessSync, chmodSync, constants, lstatSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/**
 * Writes a file atomically: a temp file in the same directory, then rename(2), so a hook that
 * runs meanwhile sees the old file or the new one, never half of one. `mode` is applied first.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o644): void {
  const temp = `${path}.agent-hooks-tmp-${process.pid}`;
  writeFileSync(temp, content, { mode });
  chmodSync(temp, mode);
  renameSync(temp, path);
}

/** The file's content, or undefined when it does not exist. */
export function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether the current user may execute the file. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Quotes a word for POSIX sh: `'...'`, with `'` written as `'\''`. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Whether something is at `path`, a dangling symlink included (existsSync follows links). */
export function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
