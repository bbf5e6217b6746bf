// Finding the repository and its hooks dir, the way git itself resolves them.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { cleanGitEnv, gitText, GitError } from './git.js';

/**
 * The path is not something agent-hooks can install into; the message says what to do.
 * `usage`: the user named a wrong path (missing, not a repository): a usage error, exit 2.
 */
export class RepoError extends Error {
  readonly usage: boolean;
  constructor(message: string, options: { usage?: boolean } = {}) {
    super(message);
    this.name = 'RepoError';
    this.usage = options.usage ?? false;
  }
}

/** A repository as the installer sees it: absolute git dir and common dir (they differ in a linked worktree), whether it is bare, its hooks dir. */
export interface Repo {
  path: string;
  gitDir: string;
  commonDir: string;
  bare: boolean;
  hooksDir: string;
}

/**
 * Resolves a repository path. The hooks dir comes from
 * `git rev-parse --path-format=absolute --git-path hooks`, which honours `core.hooksPath`.
 * @throws RepoError when the path does not exist or is not a git repository.
 */
export function readRepo(path: string): Repo {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new RepoError(`${abs} does not exist; fix: check the path`, { usage: true });
  // A caller's GIT_DIR must not redirect us to another repository.
  const env = cleanGitEnv();
  try {
    const [gitDir, commonDir, bare, hooksDir] = gitText(
      ['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir', '--is-bare-repository', '--git-path', 'hooks'],
      { cwd: abs, env },
    ).split('\n') as [string, string, string, string];
    return { path: abs, gitDir, commonDir, bare: bare === 'true', hooksDir };
  } catch (error) {
    if (error instanceof GitError) throw new RepoError(`${abs} is not a git repository (${error.stderr.trim().split('\n').pop()}); fix: check the path`, { usage: true });
    throw error;
  }
}
