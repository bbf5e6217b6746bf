// Gathers what pre-commit decides on: the agent, the freshest local view of the claims ref, its
// policy and claims, and the staged paths (honouring GIT_INDEX_FILE, which git sets for
// `commit -a` and partial commits and which every git call here inherits).
import { lockBlobsToRead, parseClaims } from '../core/claims-rules.js';
import type { CommitInput } from '../core/commit-rules.js';
import { POLICY_FILE } from '../core/policy.js';
import { resolveClientAgent } from '../core/identity.js';
import { gitText, listTree, readConfig, readIndexEntries, readObjects, runGit, type GitOptions } from './git.js';
import { readPolicyAt } from './read-policy.js';

/**
 * The claims branch and the ref holding its freshest local view: `agenthooks.claimsRef` (or the
 * branch `refs/remotes/origin/HEAD` points at, else `main`), seen through its remote-tracking
 * ref `refs/remotes/origin/<branch>` where there is one, else the local branch.
 * @throws GitError
 */
export function readClaimsView(configured: string | undefined, git: GitOptions): { branch: string; ref?: string; oid?: string } {
  const refs = (branch: string) => {
    const candidates = [`refs/remotes/origin/${branch}`, `refs/heads/${branch}`];
    const lines = gitText(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(symref)', 'refs/remotes/origin/HEAD', ...candidates], git).split('\n').filter(Boolean);
    const found = new Map(lines.map((line) => line.split('\0') as [string, string, string]).map(([name, oid, symref]) => [name, { oid, symref }]));
    const ref = candidates.find((c) => found.has(c));
    return { branch, ref, oid: ref ? found.get(ref)!.oid : undefined, originHead: found.get('refs/remotes/origin/HEAD')?.symref.replace(/^refs\/remotes\/origin\//, '') };
  };
  // One for-each-ref in the common case: guess main, and look again only when origin/HEAD says otherwise.
  const first = refs(configured ? configured.replace(/^refs\/heads\//, '') : 'main');
  const view = !configured && first.originHead && first.originHead !== first.branch ? refs(first.originHead) : first;
  return { branch: view.branch, ref: view.ref, oid: view.oid };
}

/** Gathers the inputs of `checkCommit` in the current repository or worktree. @throws GitError */
export function readCommitInput(env: NodeJS.ProcessEnv, now: number): CommitInput | undefined {
  const git: GitOptions = { env };
  const staged = runGit(['diff', '--cached', '--name-only', '--no-renames', '-z'], git).stdout.toString('utf8').split('\0').filter(Boolean);
  if (staged.length === 0) return undefined;

  const config = readConfig('^(agenthooks\\.|user\\.name$)', git);
  const last = (key: string) => config.get(key)?.at(-1);
  const agent = resolveClientAgent(env.AGENT_ID, last('agenthooks.agent'), last('user.name'));
  const view = readClaimsView(last('agenthooks.claimsref'), git);
  const refName = gitText(['symbolic-ref', '-q', 'HEAD'], { ...git, okExitCodes: [0, 1] }) || 'HEAD';

  const { policy, problems } = readPolicyAt(view.oid, git);
  const entries = view.oid ? listTree(view.oid, policy.locks.dir, git) : [];
  const stagedLocks = readIndexEntries(staged.filter((p) => p.startsWith(`${policy.locks.dir}/`)), git);
  const blobs = new Map<string, Uint8Array>();
  for (const [oid, object] of readObjects(lockBlobsToRead([...entries, ...stagedLocks]), git)) if (object) blobs.set(oid, object.content);
  // The staged policy file, judged as the server judges a pushed one (null: staged for deletion).
  let stagedPolicy: string | null | undefined;
  if (staged.includes(POLICY_FILE)) {
    const [entry] = readIndexEntries([POLICY_FILE], git);
    stagedPolicy = entry ? Buffer.from(readObjects([entry.oid], git).get(entry.oid)?.content ?? []).toString('utf8') : null;
  }

  return {
    refName,
    claimsRef: `refs/heads/${view.branch}`,
    agent,
    claimsView: view.ref,
    policy,
    policyProblems: problems,
    claims: parseClaims(entries, policy, blobs, now),
    staged,
    stagedLocks,
    blobs,
    stagedPolicy,
    paths: () => runGit(['ls-files', '-z'], git).stdout.toString('utf8').split('\0').filter(Boolean),
    guard: last('agenthooks.guard') === 'warn' ? 'warn' : 'reject',
    now,
  };
}
