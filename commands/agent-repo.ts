// The agent's side of the claims ref: which repository, remote and branch, its state at a
// commit, and publishing a change to it with plumbing (never the agent's working tree or index).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findInvalidLockFiles, parseClaims, lockBlobsToRead, type InvalidLockFile } from '../core/claims-rules.js';
import type { ClaimsState } from '../core/plans.js';
import { resolveClientAgent, type ClientAgentSource } from '../core/identity.js';
import { GitError, gitText, listPaths, listTree, readConfig, readObjects, runGit, type GitOptions } from '../git/git.js';
import { readClaimsView } from '../git/read-commit.js';
import { readPolicyAt } from '../git/read-policy.js';

/**
 * git's words for a push that lost a race after the hooks accepted it: another push moved the
 * ref first, so receive-pack's compare-and-swap of the ref failed (`[remote rejected] ... (failed
 * to update ref)` or `cannot lock ref`). Retrying on a fresh fetch is the answer, as for a
 * non-fast-forward.
 */
export const LOST_RACE = /failed to update ref|cannot lock ref|stale info/;

/**
 * git's answer when the receiving repository does not advertise push options: agent-hooks'
 * install sets `receive.advertisePushOptions`, so its hooks are not installed there.
 */
export const NO_PUSH_OPTIONS = /does not support push options/;

/** The error for a remote without the hooks (see {@link NO_PUSH_OPTIONS}), with the install command. */
export function hooksMissingLine(repo: AgentRepo): string {
  const url = gitText(['config', '--get', `remote.${repo.remote ?? 'origin'}.url`], { ...repo.git, okExitCodes: [0, 1] }) || '<upstream.git>';
  return `ERROR: ${url}: agent-hooks is not installed in this remote (it does not accept push options, which install turns on); fix: agent-hooks install ${url.replace(/^file:\/\//, '')} (on the machine that holds the bare repo), then run the command again`;
}

/**
 * An agent's repository as the commands see it. With a remote (`origin`), the claims ref is the
 * remote's branch, read through `refs/remotes/origin/<branch>` after a fetch; without one (agents
 * sharing linked worktrees of one clone) it is the local `refs/heads/<branch>`.
 */
export interface AgentRepo {
  git: GitOptions;
  remote?: string;
  branch: string;
  agent: { id?: string; source: ClientAgentSource };
  email?: string;
  /** The oid of the local view of the claims branch when the repository was opened. */
  openedAt?: string;
}

/** The ref whose tip is the freshest local view of the claims branch. */
export const viewRef = (repo: AgentRepo): string => (repo.remote ? `refs/remotes/${repo.remote}/${repo.branch}` : `refs/heads/${repo.branch}`);

/** The agent commands ran outside a git repository: a usage error (exit 2), with the fix. */
export class NotARepositoryError extends Error {
  constructor(readonly cwd: string, options?: { cause?: unknown }) {
    super(`${cwd} is not in a git repository; fix: cd into your clone (or worktree) of the shared repository`, options);
    this.name = 'NotARepositoryError';
  }
}

/** Reads the repository in `cwd`. @throws NotARepositoryError outside a repository; GitError when git fails otherwise. */
export function openAgentRepo(cwd: string, env: NodeJS.ProcessEnv): AgentRepo {
  const git: GitOptions = { cwd, env };
  const config = readConfig('^(agenthooks\\.|user\\.(name|email)$|remote\\.origin\\.url$)', git);
  const last = (key: string) => config.get(key)?.at(-1);
  const remote = last('remote.origin.url') ? 'origin' : undefined;
  let view: ReturnType<typeof readClaimsView>;
  try {
    view = readClaimsView(last('agenthooks.claimsref'), git);
  } catch (error) {
    if (error instanceof GitError && /not a git repository/.test(error.stderr)) throw new NotARepositoryError(cwd, { cause: error });
    throw error;
  }
  const { branch, oid } = view;
  return { git, remote, branch, agent: resolveClientAgent(env.AGENT_ID, last('agenthooks.agent'), last('user.name')), email: last('user.email'), openedAt: oid };
}

/** Fetches the claims branch into its remote-tracking ref (no-op without a remote). @throws GitError */
export function fetchClaims(repo: AgentRepo): void {
  if (!repo.remote) return;
  runGit(['fetch', '--quiet', '--no-tags', repo.remote, `+refs/heads/${repo.branch}:${viewRef(repo)}`], { ...repo.git, okExitCodes: [0] });
}

/** The oid of the local view of the claims ref, or undefined when there is none yet. */
export function readViewOid(repo: AgentRepo): string | undefined {
  return gitText(['rev-parse', '-q', '--verify', `${viewRef(repo)}^{commit}`], { ...repo.git, okExitCodes: [0, 1] }) || undefined;
}

/** The claims ref's state at `oid` (the defaults and no claims when undefined), with the policy's problems and the locks dir's invalid files. `now` in epoch ms. */
export function readClaimsState(repo: AgentRepo, oid: string | undefined, now: number, withPaths = false): ClaimsState & { problems: string[]; invalid: InvalidLockFile[] } {
  const refName = `refs/heads/${repo.branch}`;
  const { policy, problems } = readPolicyAt(oid, repo.git);
  const entries = oid ? listTree(oid, policy.locks.dir, repo.git) : [];
  const blobs = new Map<string, Uint8Array>();
  for (const [id, object] of readObjects(lockBlobsToRead(entries), repo.git)) if (object) blobs.set(id, object.content);
  return { refName, policy, entries, claims: parseClaims(entries, policy, blobs, now), paths: oid && withPaths ? listPaths(oid, repo.git) : [], problems, invalid: findInvalidLockFiles(entries, policy, blobs, now) };
}

/** How publishing a change ended: landed, lost a race (try again on a fresh state), or refused with the server's lines. */
export type PublishResult = { kind: 'landed'; oid: string } | { kind: 'raced' } | { kind: 'refused'; lines: string[] };

/**
 * Builds a commit on `base` that writes or deletes the given files (null deletes), in a
 * temporary index, so the working tree and the agent's index are never touched; then pushes it
 * to the claims branch with `-o agent=<id>` or, without a remote, moves the local branch with a
 * compare-and-swap (`git update-ref <ref> <new> <old>`).
 * @throws GitError when git fails for another reason than a lost race or a refusal.
 */
export function publishChange(repo: AgentRepo, base: string | undefined, writes: ReadonlyMap<string, string | null>, message: string): PublishResult {
  const agent = repo.agent.id!;
  const dir = mkdtempSync(join(tmpdir(), 'agent-hooks-index-'));
  const env: NodeJS.ProcessEnv = {
    ...repo.git.env,
    GIT_INDEX_FILE: join(dir, 'index'),
    GIT_AUTHOR_NAME: agent,
    GIT_AUTHOR_EMAIL: repo.email ?? `${agent}@agent-hooks`,
    GIT_COMMITTER_NAME: agent,
    GIT_COMMITTER_EMAIL: repo.email ?? `${agent}@agent-hooks`,
  };
  const git = { ...repo.git, env };
  try {
    if (base) runGit(['read-tree', base], git);
    const info: string[] = [];
    for (const [path, content] of writes) {
      if (content === null) info.push(`0 ${'0'.repeat(base?.length ?? 40)}\t${path}`);
      else info.push(`100644 ${gitText(['hash-object', '-w', '--stdin'], { ...git, input: content })}\t${path}`);
    }
    runGit(['update-index', '--index-info'], { ...git, input: `${info.join('\n')}\n` });
    const tree = gitText(['write-tree'], git);
    const commit = gitText(['commit-tree', tree, ...(base ? ['-p', base] : []), '-m', message], git);
    const target = `refs/heads/${repo.branch}`;
    if (!repo.remote) {
      const moved = runGit(['update-ref', '-m', `agent-hooks: ${message}`, target, commit, base ?? ''], { ...git, okExitCodes: [0, 1, 128] });
      return moved.exitCode === 0 ? { kind: 'landed', oid: commit } : { kind: 'raced' };
    }
    // null: killed by a signal (SIGPIPE when the other end hung up under load, seen with 10
    // claims at once): as transient as a lost race; the caller fetches and plans again.
    const push = runGit(['push', '--porcelain', '-o', `agent=${agent}`, repo.remote, `${commit}:${target}`], { ...git, okExitCodes: [0, 1, 128, null] });
    if (push.exitCode === null) return { kind: 'raced' };
    if (push.exitCode === 0) {
      runGit(['update-ref', viewRef(repo), commit], git);
      return { kind: 'landed', oid: commit };
    }
    const out = `${push.stdout.toString('utf8')}\n${push.stderr.toString('utf8')}`;
    if (NO_PUSH_OPTIONS.test(out)) return { kind: 'refused', lines: [hooksMissingLine(repo)] };
    if (/\[rejected\]/.test(out) || LOST_RACE.test(out)) return { kind: 'raced' };
    const lines = out.split('\n').filter((l) => /^remote: (ERROR|WARNING): /.test(l)).map((l) => l.replace(/^remote: /, '').trimEnd());
    return { kind: 'refused', lines: lines.length > 0 ? lines : [`ERROR: git push failed: ${out.trim().split('\n').slice(-2).join(' | ')}`] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
