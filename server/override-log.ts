// The audit trail of admin overrides: one JSON line per accepted override, in the bare repo.
import { appendFileSync, mkdirSync } from 'node:fs';
import { statePaths } from './state.js';

/** One accepted override: when (RFC 3339), who, why, which refs, and the errors it turned into warnings. */
export interface OverrideRecord {
  time: string;
  admin: string;
  reason: string;
  refs: string[];
  overridden: string[];
}

/** Where overrides are logged: `<git-dir>/agent-hooks/overrides.log` (JSON lines). */
export const overrideLogPath = (gitDir: string): string => statePaths(gitDir).overrideLog;

/**
 * Appends one record. Writing outside `refs/` is allowed in quarantine.
 * @throws the file system's error: an override that cannot be logged must not be accepted.
 */
export function appendOverrideLog(gitDir: string, record: OverrideRecord): void {
  const path = overrideLogPath(gitDir);
  mkdirSync(statePaths(gitDir).home, { recursive: true });
  appendFileSync(path, `${JSON.stringify(record)}\n`);
}
