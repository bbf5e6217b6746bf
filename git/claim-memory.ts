// What an agent remembers of its own claims, so it can be told when it lost one (DESIGN.md
// "Agent sessions": the holder is told). Kept in the clone's git-common-dir, never in the tree:
// `<git-common-dir>/agent-hooks/claims/<agent>/<task>.json` = `{"taskId","expiresAt"}`.
//
// Why a file per claim here, and not the claims ref's history (`git log` of lock files authored
// by the agent): the notice is read by hooks that run before every commit and every tool call,
// where one directory read costs far less than a log walk; the history can be squashed or cut by
// a shallow clone, and a lock file's author is whoever pushed it (gc, an admin), not its holder.
// One file per task (written atomically) means a heartbeat and a `claim` running at once never
// lose each other's writes. What it cannot know: claims taken from another clone.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RememberedClaim } from '../core/session.js';
import { AGENT_ID, TASK_ID } from '../core/lock-file.js';
import { gitText, type GitOptions } from './git.js';

/** A lost claim is remembered (and warned about) for this long after it expired, unless released first (ms). */
export const REMEMBER_LOST_MS = 24 * 3600 * 1000;

/** The absolute git-common-dir of the repository in `git.cwd`. @throws GitError outside a repository. */
export function readCommonDir(git: GitOptions): string {
  return gitText(['rev-parse', '--path-format=absolute', '--git-common-dir'], git);
}

/**
 * The git-common-dir of the worktree whose top level is `top`, read from `.git` without starting
 * git (for the pre-commit hook, which git runs at the top level): a `.git` directory is the
 * common dir; a `.git` file (`gitdir: <path>`, a linked worktree) points to a dir whose
 * `commondir` file names the common dir (gitrepository-layout(5)). Falls back to `git rev-parse`
 * when `.git` is not there or not understood.
 */
export function readCommonDirAt(top: string, git: GitOptions): string {
  try {
    const dotGit = join(top, '.git');
    if (statSync(dotGit).isDirectory()) return dotGit;
    const gitDir = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
    if (gitDir) {
      const dir = resolve(top, gitDir);
      try {
        return resolve(dir, readFileSync(join(dir, 'commondir'), 'utf8').trim());
      } catch {
        return dir;
      }
    }
  } catch {
    // not at the top level, or no .git: ask git
  }
  return readCommonDir(git);
}

const dirOf = (commonDir: string, agent: string) => join(commonDir, 'agent-hooks', 'claims', agent);

/** Records that `agent` holds `taskId` until `expiresAt` (epoch ms). Ids are checked, so no path escapes the dir. */
export function rememberClaim(commonDir: string, agent: string, taskId: string, expiresAt: number): void {
  if (!AGENT_ID.test(agent) || !TASK_ID.test(taskId)) return;
  const dir = dirOf(commonDir, agent);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${taskId}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify({ taskId, expiresAt } satisfies RememberedClaim)}\n`);
  renameSync(tmp, join(dir, `${taskId}.json`));
}

/** Forgets a claim (released, or the agent acknowledged losing it). */
export function forgetClaim(commonDir: string, agent: string, taskId: string): void {
  if (!AGENT_ID.test(agent) || !TASK_ID.test(taskId)) return;
  rmSync(join(dirOf(commonDir, agent), `${taskId}.json`), { force: true });
}

/**
 * The claims `agent` remembers; unreadable files are skipped, and claims lapsed for longer than
 * {@link REMEMBER_LOST_MS} are forgotten (removed) on the way.
 */
export function readRememberedClaims(commonDir: string, agent: string, now: number): RememberedClaim[] {
  if (!AGENT_ID.test(agent)) return [];
  const dir = dirOf(commonDir, agent);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: RememberedClaim[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    try {
      const value = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Partial<RememberedClaim>;
      if (typeof value.taskId !== 'string' || !TASK_ID.test(value.taskId) || `${value.taskId}.json` !== name || typeof value.expiresAt !== 'number') continue;
      if (value.expiresAt + REMEMBER_LOST_MS < now) {
        rmSync(join(dir, name), { force: true });
        continue;
      }
      out.push({ taskId: value.taskId, expiresAt: value.expiresAt });
    } catch {
      continue;
    }
  }
  return out.sort((a, b) => a.taskId.localeCompare(b.taskId));
}
