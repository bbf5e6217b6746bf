// `agent-hooks worktree add <agent>`: a linked worktree for one agent, identity configured and
// the pre-commit guard installed.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AGENT_ID } from '../core/lock-file.js';
import { EXIT, type CommandResult } from '../core/result.js';
import { gitText, runGit } from '../git/git.js';
import { fetchClaims, readViewOid, viewRef, type AgentRepo } from '../commands/agent-repo.js';
import { install, type InstallOptions } from './install.js';

/**
 * `worktree add <agent> [--base REF]`: a linked worktree `.worktrees/<agent>` beside the main
 * worktree, on a new branch `agent/<agent>` from the claims branch (or `base`), with
 * `agenthooks.agent` set for that worktree only (`extensions.worktreeConfig`), `.worktrees/` in
 * `info/exclude`, and the pre-commit guard installed. Prints the path.
 */
export function worktreeAdd(repo: AgentRepo, agent: string, base: string | undefined, installOptions: Omit<InstallOptions, 'dryRun' | 'force'>): CommandResult {
  if (!AGENT_ID.test(agent)) return { exitCode: EXIT.usage, lines: [`ERROR: ${JSON.stringify(agent)} is not an agent id (${AGENT_ID.source})`] };
  const commonDir = gitText(['rev-parse', '--path-format=absolute', '--git-common-dir'], repo.git);
  const top = dirname(commonDir);
  const path = join(top, '.worktrees', agent);
  if (existsSync(path)) return { exitCode: EXIT.failed, lines: [`ERROR: ${path} exists already; fix: use it, or git worktree remove ${path}`] };
  if (!base) {
    try {
      fetchClaims(repo);
    } catch {
      // offline: the local view will do
    }
  }
  const start = base ?? (readViewOid(repo) ? viewRef(repo) : 'HEAD');
  runGit(['worktree', 'add', '--quiet', '-b', `agent/${agent}`, path, start], repo.git);
  runGit(['config', 'extensions.worktreeConfig', 'true'], repo.git);
  runGit(['config', '--worktree', 'agenthooks.agent', agent], { ...repo.git, cwd: path });
  const exclude = join(commonDir, 'info', 'exclude');
  if (!(existsSync(exclude) && readFileSync(exclude, 'utf8').split('\n').includes('/.worktrees/'))) {
    mkdirSync(dirname(exclude), { recursive: true });
    appendFileSync(exclude, '/.worktrees/\n');
  }
  install(path, { ...installOptions, force: false });
  return { exitCode: EXIT.ok, lines: [path] };
}
