// Gathers everything pre-receive decides on, from the environment and git: the I/O edge in
// front of the pure `checkPush`.
import { resolve } from 'node:path';
import type { Claim, TreeEntry } from '../core/claim.js';
import { VERSION } from '../core/version.js';
import { readCache, writeCache } from './claims-cache.js';
import { statePaths } from './state.js';
import { diffLocksDir, lockBlobsToRead, parseClaims } from '../core/claims-rules.js';
import { leasesOf } from '../core/lease.js';
import { withNetChange, type RefChanges } from '../core/lease-rules.js';
import { needsCommitterName, parsePushOptions, resolvePusher, trustedIdentityEnv } from '../core/identity.js';
import { POLICY_FILE, policyFromText } from '../core/policy.js';
import type { PushInput } from '../core/push-rules.js';
import { isCreate, isDelete, isZeroOid, refNameProblem, type RefUpdate } from '../core/ref-update.js';
import { gitText, identityNameOf, readRef, isAncestor, isTrue, listPaths, listTree, readChangedPaths, readConfig, readNetChangedPaths, readObjects, readPeeledTypes, type GitOptions } from '../git/git.js';

/** The server's git config cannot be used; `fix` is the command that repairs it. */
export class ConfigError extends Error {
  constructor(message: string, readonly fix: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The server-side settings from `git config agenthooks.*` (DESIGN.md "Settings"). */
export interface ServerConfig {
  claimsRef: string;
  admins: string[];
  requireAuthenticated: boolean;
  /** `agenthooks.testConcurrency`: test runs at once (default 2). */
  testConcurrency: number;
}

/** The environment for git calls from a hook: `GIT_DIR` made absolute (git gives `.`). */
export function hookGitOptions(env: NodeJS.ProcessEnv): GitOptions {
  return { env: { ...env, GIT_DIR: resolve(env.GIT_DIR ?? '.') } };
}

/**
 * Reads `agenthooks.*` from git config. The claims ref is `agenthooks.claimsRef` (a short branch
 * name means `refs/heads/<name>`), else the ref HEAD points at, else `refs/heads/main`.
 * @throws GitError, or ConfigError for an invalid claims ref name.
 */
export function readServerConfig(git: GitOptions, config: Map<string, string[]> = readConfig('^agenthooks\\.', git)): ServerConfig {
  const configured = config.get('agenthooks.claimsref')?.at(-1);
  const claimsRef = configured
    ? configured.startsWith('refs/') ? configured : `refs/heads/${configured}`
    : gitText(['symbolic-ref', '-q', 'HEAD'], { ...git, okExitCodes: [0, 1] }) || 'refs/heads/main';
  const problem = refNameProblem(claimsRef);
  if (problem) {
    throw new ConfigError(`git config agenthooks.claimsRef ${JSON.stringify(configured)}: ${claimsRef} is not a valid ref name (${problem})`, 'git config agenthooks.claimsRef refs/heads/main');
  }
  return {
    claimsRef,
    admins: config.get('agenthooks.admin') ?? [],
    requireAuthenticated: isTrue(config.get('agenthooks.requireauthenticated')?.at(-1)),
    testConcurrency: Math.max(1, Number.parseInt(config.get('agenthooks.testconcurrency')?.at(-1) ?? '2', 10) || 2),
  };
}

/**
 * What a ref update's changes are measured against (DESIGN.md rule 5): its old value and the
 * claims ref's tip before the push; commits reachable from either are not the push's.
 */
export function changeExcludes(update: RefUpdate, claimsTip: string | undefined): string[] {
  return [...new Set([update.oldOid, claimsTip].filter((oid): oid is string => oid !== undefined && !isZeroOid(oid)))];
}

/**
 * For `agent-hooks check` outside a hook: the claims ref to judge against, and where its tip is
 * (a clone's view of it, which need not be the local branch).
 */
export interface PushInputOverrides {
  claimsRef?: string;
  claimsTip?: string;
}

/**
 * Gathers the inputs of `checkPush` for one push: config, pusher, the policy and the claims at
 * the claims ref's old tip, the paths each ref update changes (when another agent holds a lease),
 * and, when the push updates the claims ref, its changed lock files and the new tip's paths, and
 * its net change old tip -> new tip (`claimsNet`: rule 5 (b), and rule 7's lock-only check;
 * read when another agent holds a lease or the policy runs tests). Works in quarantine (objects
 * are read through the inherited environment) and for delete-only pushes.
 * @throws GitError when git fails.
 */
export function readPushInput(updates: RefUpdate[], env: NodeJS.ProcessEnv, now: number, overrides: PushInputOverrides = {}): PushInput & { testConcurrency: number; claimsTip?: string; claimsNet?: string[] } {
  const git = hookGitOptions(env);
  const config = { ...readServerConfig(git), ...(overrides.claimsRef ? { claimsRef: overrides.claimsRef } : {}) };
  const pushOptions = parsePushOptions(env);
  const claimsUpdate = updates.find((u) => u.refName === config.claimsRef);
  const oldTip = claimsUpdate ? (isCreate(claimsUpdate) ? undefined : claimsUpdate.oldOid) : 'claimsTip' in overrides ? overrides.claimsTip : readRef(config.claimsRef, git);
  const newTip = claimsUpdate && !isDelete(claimsUpdate) ? claimsUpdate.newOid : undefined;

  // One cat-file for the policy before and after, and the pushed tip for the committer's name.
  // Identity variables count only where an authenticating server set them (issue 13 item 12).
  const identity = trustedIdentityEnv(env, pushOptions);
  const needsCommitter = needsCommitterName(identity.env, pushOptions);
  const tip = newTip ?? updates.find((u) => !isDelete(u))?.newOid;
  const specs = [oldTip && `${oldTip}:${POLICY_FILE}`, newTip && `${newTip}:${POLICY_FILE}`, needsCommitter && tip].filter((s): s is string => !!s);
  const objects = readObjects(specs, git);
  const oldPolicy = oldTip ? objects.get(`${oldTip}:${POLICY_FILE}`) : undefined;
  const newPolicy = newTip ? objects.get(`${newTip}:${POLICY_FILE}`) : undefined;
  const tipObject = needsCommitter && tip ? objects.get(tip) : undefined;

  const { policy, problems } = policyFromText(oldPolicy?.content.toString('utf8'));
  const resolved = resolvePusher({
    env: identity.env,
    pushOptions,
    committerName: tipObject ? identityNameOf(tipObject) : undefined,
    requireAuthenticated: config.requireAuthenticated,
  });
  const pusher = { ...resolved, verdicts: [...identity.verdicts, ...resolved.verdicts] };

  // Claims at the old tip, and the changed lock files of the claims ref, in one more cat-file.
  // A push that leaves the claims ref alone reads them from the cache when the tip is the same.
  const locksDir = policy.locks.dir;
  const cachePath = statePaths(git.env!.GIT_DIR!).claimsCache;
  const cacheKey = `${VERSION} ${oldTip} ${locksDir} ${policy.locks.ttl}`;
  const cached = !claimsUpdate && oldTip ? readCache<Claim[]>(cachePath, cacheKey) : undefined;
  const oldEntries = oldTip && !cached ? listTree(oldTip, locksDir, git) : [];
  const diff = newTip ? diffLocksDir(locksDir, oldEntries, listTree(newTip, locksDir, git)) : undefined;
  const blobs = new Map<string, Uint8Array>();
  if (!cached) for (const [oid, object] of readObjects(lockBlobsToRead([...oldEntries, ...(diff?.changed ?? [])]), git)) if (object) blobs.set(oid, object.content);
  // Parsed without the clock (only "started in the future" depends on it), then judged by it.
  const timeless = cached ?? parseClaims(oldEntries, policy, blobs, Number.MAX_SAFE_INTEGER);
  if (!cached && !claimsUpdate && oldTip) writeCache(cachePath, cacheKey, timeless);
  const claims = timeless.filter((c) => Math.max(c.lock.started, c.lock.renewed ?? 0) <= now + policy.locks.skew * 1000);

  // Changed paths matter only when another agent holds a lease (rule 5) or leases change (rule 4).
  const othersHoldLeases = leasesOf(claims.filter((c) => c.lock.agent !== pusher.id), now).length > 0;
  // Rule 5 (b): on the claims ref the net change old tip -> new tip counts too; the lock-only
  // shortcut of rule 7 looks at it as well, so it is read when leases or tests need it.
  const claimsNet = claimsUpdate && oldTip && newTip && (othersHoldLeases || policy.test) ? readNetChangedPaths(oldTip, newTip, git) : undefined;
  const changes: RefChanges[] = [];
  const judged = updates.filter((u) => !isDelete(u) && (othersHoldLeases || (u === claimsUpdate && diff && diff.tasks.length > 0)));
  // A ref may point at a tag of a tree (never at a commit): `git log` lists none of its paths,
  // so the tree's difference from the claims ref's tip counts as its change (every path when
  // there is no tip). A blob has no path.
  const peeled = othersHoldLeases ? readPeeledTypes(judged.map((u) => u.newOid), git) : new Map<string, string | undefined>();
  for (const u of judged) {
    const type = peeled.get(u.newOid);
    let refChanges: RefChanges = {
      refName: u.refName,
      paths: type === 'tree' ? new Map((oldTip ? readNetChangedPaths(oldTip, u.newOid, git) : listPaths(u.newOid, git)).map((p) => [p, u.newOid])) : type === 'blob' ? new Map() : readChangedPaths(u.newOid, changeExcludes(u, oldTip), git),
    };
    if (u === claimsUpdate && claimsNet && oldTip) refChanges = withNetChange(refChanges, oldTip, u.newOid, claimsNet);
    changes.push(refChanges);
  }

  const input: PushInput & { testConcurrency: number; claimsTip?: string; claimsNet?: string[] } = { claimsRef: config.claimsRef, claimsTip: oldTip, claimsNet, admins: config.admins, testConcurrency: config.testConcurrency, updates, pusher, pushOptions, policy, policyProblems: problems, claims, changes, now };
  if (claimsUpdate && newTip && diff) {
    const pushed = [...(changes.find((c) => c.refName === claimsUpdate.refName)?.paths.keys() ?? [])];
    // A pushed policy that moves the locks dir: the new dir's lock files, to tell a moved claim from a voided one.
    const newText = newPolicy && newPolicy.oid !== oldPolicy?.oid ? newPolicy.content.toString('utf8') : undefined;
    const newDir = newText === undefined ? undefined : policyFromText(newText).policy.locks.dir;
    let movedLocks: TreeEntry[] | undefined;
    if (newDir !== undefined && newDir !== locksDir) {
      movedLocks = listTree(newTip, newDir, git);
      for (const [oid, object] of readObjects(lockBlobsToRead(movedLocks), git)) if (object) blobs.set(oid, object.content);
    }
    input.claimsUpdate = {
      movedLocks,
      fastForward: oldTip === undefined || isAncestor(oldTip, newTip, git),
      diff,
      blobs,
      paths: () => [...new Set([...listPaths(newTip, git), ...pushed])],
      newPolicyText: newPolicy?.oid === oldPolicy?.oid ? undefined : newPolicy ? newPolicy.content.toString('utf8') : null,
    };
  } else if (claimsUpdate) {
    input.claimsUpdate = { fastForward: false, diff: { tasks: [], changed: [] }, blobs, paths: () => [] };
  }
  return input;
}
