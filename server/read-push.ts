// Gathers everything pre-receive decides on, from the environment and git: the I/O edge in
// front of the pure `checkPush`.
import { isAbsolute, resolve } from 'node:path';
import type { Claim, TreeEntry } from '../core/claim.js';
import { VERSION } from '../core/version.js';
import { readCache, readCacheEntry, writeCache } from './claims-cache.js';
import { statePaths } from './state.js';
import { diffLocksDir, lockBlobsToRead, parseClaims } from '../core/claims-rules.js';
import { leasesOf } from '../core/lease.js';
import { withNetChange, type RefChanges, type TreePaths } from '../core/lease-rules.js';
import { isUnderAny } from '../core/glob.js';
import { needsCommitterName, parsePushOptions, resolvePusher, trustedIdentityEnv } from '../core/identity.js';
import { POLICY_FILE, policyFromText } from '../core/policy.js';
import type { PushInput } from '../core/push-rules.js';
import { isCreate, isDelete, isZeroOid, refNameProblem, type RefUpdate } from '../core/ref-update.js';
import { gitText, identityNameOf, readRef, isAncestor, isTrue, listPaths, listTree, readChangedPaths, readConfig, readHeadRef, readNetChangedPaths, readObjects, readObjectsAndInfo, peeledTypesOf, peelSpecs, type GitObject, type GitOptions, type ObjectInfo } from '../git/git.js';

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
    : (git.env?.GIT_DIR && isAbsolute(git.env.GIT_DIR) ? readHeadRef(git.env.GIT_DIR, git) : gitText(['symbolic-ref', '-q', 'HEAD'], { ...git, okExitCodes: [0, 1] })) || 'refs/heads/main';
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
 * The claims and the locks dir's entries at one tip of the claims ref, for the claims cache
 * (claims-cache.json, lock-entries-cache.json under the same key: the claims' own format is
 * unchanged, and a claim push diffs against the entries).
 */
export interface ClaimsCacheEntry {
  key: string;
  claims: Claim[];
  entries: TreeEntry[];
}

/** The claims cache's key: what the claims were parsed from and how (the policy's locks dir and ttl). */
function claimsCacheKey(tip: string, locksDir: string, ttl: number): string {
  return `${VERSION} ${tip} ${locksDir} ${ttl}`;
}

/** Writes both files of the claims cache of the bare repo at `gitDir` (a failure only costs the cache). */
export function writeClaimsCache(gitDir: string, entry: ClaimsCacheEntry): void {
  const paths = statePaths(gitDir);
  writeCache(paths.lockEntriesCache, entry.key, entry.entries);
  writeCache(paths.claimsCache, entry.key, entry.claims);
}

/**
 * The files of `tip` plus the `pushed` paths (a deleted path counts too), for the claims rules:
 * one `git ls-tree` per question, restricted to the subtrees asked for; the whole listing is
 * kept, and later questions are answered from it. @throws GitError
 */
export function treePathsAt(tip: string, pushed: readonly string[], git: GitOptions): TreePaths {
  let all: string[] | undefined;
  return (under) => {
    if (under === undefined || under.includes('')) return (all ??= [...new Set([...listPaths(tip, git), ...pushed])]);
    if (all) return all.filter((p) => isUnderAny(p, under));
    return [...new Set([...listPaths(tip, git, under), ...pushed.filter((p) => isUnderAny(p, under))])];
  };
}

/**
 * The claims ref's tip (peeled to a commit; undefined when there is none) with the policy file
 * at it, keyed `<tip>:agent-hooks.json`, and the objects `specs` name, all in one
 * `git cat-file --batch-command` (a hook's git processes are most of its time, issue 18). The tip is
 * asked for before and after the policy; when another push moved the ref in between, the tip and
 * the objects are read again one after the other, so the policy is always the tip's. `infoSpecs`
 * are answered in the same process with headers only (readObjectsAndInfo).
 * @throws GitError
 */
export function readTipAndObjects(ref: string, specs: readonly string[], git: GitOptions, infoSpecs: readonly string[] = []): { tip: string | undefined; objects: Map<string, GitObject | undefined>; info: Map<string, ObjectInfo | undefined> } {
  const [before, after, policy] = [`${ref}^{commit}`, `${ref}^0`, `${ref}^{commit}:${POLICY_FILE}`];
  const { objects, info } = readObjectsAndInfo([before, policy, after, ...specs], infoSpecs, git);
  const tip = objects.get(before)?.oid;
  if (tip !== objects.get(after)?.oid) {
    const again = readRef(ref, git);
    return { tip: again, ...readObjectsAndInfo(again ? [`${again}:${POLICY_FILE}`, ...specs] : specs, infoSpecs, git) };
  }
  if (tip) objects.set(`${tip}:${POLICY_FILE}`, objects.get(policy));
  for (const spec of [before, after, policy]) if (!specs.includes(spec)) objects.delete(spec);
  return { tip, objects, info };
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
export function readPushInput(updates: RefUpdate[], env: NodeJS.ProcessEnv, now: number, overrides: PushInputOverrides = {}): PushInput & { testConcurrency: number; claimsTip?: string; claimsNet?: string[]; claimsCacheAfter?: ClaimsCacheEntry } {
  const git = hookGitOptions(env);
  const config = { ...readServerConfig(git), ...(overrides.claimsRef ? { claimsRef: overrides.claimsRef } : {}) };
  const pushOptions = parsePushOptions(env);
  const claimsUpdate = updates.find((u) => u.refName === config.claimsRef);
  const readsTip = !claimsUpdate && !('claimsTip' in overrides);
  let oldTip = claimsUpdate ? (isCreate(claimsUpdate) ? undefined : claimsUpdate.oldOid) : overrides.claimsTip;
  const newTip = claimsUpdate && !isDelete(claimsUpdate) ? claimsUpdate.newOid : undefined;

  // One cat-file for the policy before and after, and the pushed tip for the committer's name.
  // Identity variables count only where an authenticating server set them (issue 13 item 12).
  const identity = trustedIdentityEnv(env, pushOptions);
  const needsCommitter = needsCommitterName(identity.env, pushOptions);
  const tip = newTip ?? updates.find((u) => !isDelete(u))?.newOid;
  const specs = [newTip && `${newTip}:${POLICY_FILE}`, needsCommitter && tip].filter((s): s is string => !!s);
  // The pushed objects' peeled types too (a tag of a tree has paths `git log` never lists): not
  // known yet whether rule 5 will ask, but one more line costs less than one more process.
  const pushedOids = [...new Set(updates.filter((u) => !isDelete(u)).map((u) => u.newOid))];
  let objects: Map<string, GitObject | undefined>;
  let info: Map<string, ObjectInfo | undefined>;
  if (readsTip) ({ tip: oldTip, objects, info } = readTipAndObjects(config.claimsRef, specs, git, peelSpecs(pushedOids)));
  else ({ objects, info } = readObjectsAndInfo(oldTip ? [`${oldTip}:${POLICY_FILE}`, ...specs] : specs, peelSpecs(pushedOids), git));
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
  // The claims and lock file entries at a tip are cached (a claim push needs the entries too).
  const locksDir = policy.locks.dir;
  const gitDir = git.env!.GIT_DIR!;
  const cacheKey = (tip: string) => claimsCacheKey(tip, locksDir, policy.locks.ttl);
  const stored = oldTip ? readCacheEntry<Claim[]>(statePaths(gitDir).claimsCache) : undefined;
  const cachedClaims = oldTip && stored?.key === cacheKey(oldTip) ? stored.value() : undefined;
  const cachedEntries = cachedClaims && claimsUpdate ? readCache<TreeEntry[]>(statePaths(gitDir).lockEntriesCache, cacheKey(oldTip!)) : undefined;
  const cached = claimsUpdate ? cachedEntries && cachedClaims : cachedClaims;
  const oldEntries = cachedEntries ?? (oldTip && !cached ? listTree(oldTip, locksDir, git) : []);
  const newEntries = newTip ? listTree(newTip, locksDir, git) : undefined;
  const diff = newEntries ? diffLocksDir(locksDir, oldEntries, newEntries) : undefined;
  const blobs = new Map<string, Uint8Array>();
  const toRead = lockBlobsToRead([...(cached ? [] : oldEntries), ...(diff?.changed ?? [])]);
  if (toRead.length > 0) for (const [oid, object] of readObjects(toRead, git)) if (object) blobs.set(oid, object.content);
  // Parsed without the clock (only "started in the future" depends on it), then judged by it.
  const timeless = cached ?? parseClaims(oldEntries, policy, blobs, Number.MAX_SAFE_INTEGER);
  if (!cached && oldTip && !claimsUpdate) writeClaimsCache(gitDir, { key: cacheKey(oldTip), claims: timeless, entries: oldEntries });
  // The claims at the new tip, for the cache once the push is accepted (the next push starts
  // there): the unchanged entries' claims, and the changed ones parsed; unless the policy changes.
  let claimsCacheAfter: ClaimsCacheEntry | undefined;
  if (newTip && newEntries && diff && newPolicy?.oid === oldPolicy?.oid && stored?.key !== cacheKey(newTip)) {
    const unchanged = new Map(timeless.map((c) => [c.path, c]));
    const changed = new Map(parseClaims(diff.changed, policy, blobs, Number.MAX_SAFE_INTEGER).map((c) => [c.path, c]));
    const isChanged = new Set(diff.changed.map((e) => e.path));
    const next = newEntries.flatMap((e) => (isChanged.has(e.path) ? changed.get(e.path) : unchanged.get(e.path)) ?? []);
    claimsCacheAfter = { key: cacheKey(newTip), claims: next, entries: newEntries };
  }
  const claims = timeless.filter((c) => Math.max(c.lock.started, c.lock.renewed ?? 0) <= now + policy.locks.skew * 1000);

  // Changed paths matter only when another agent holds a lease (rule 5) or leases change (rule 4).
  const othersHoldLeases = leasesOf(claims.filter((c) => c.lock.agent !== pusher.id), now).length > 0;
  const changes: RefChanges[] = [];
  const judged = updates.filter((u) => !isDelete(u) && (othersHoldLeases || (u === claimsUpdate && diff && diff.tasks.length > 0)));
  // A ref may point at a tag of a tree (never at a commit): `git log` lists none of its paths,
  // so the tree's difference from the claims ref's tip counts as its change (every path when
  // there is no tip). A blob has no path.
  const peeled = peeledTypesOf(judged.map((u) => u.newOid), info);
  // The commits walked for the claims ref, with their parents: they tell a fast-forward (rule 6),
  // and one commit on top of the old tip is its own net change.
  let claimsWalk: Map<string, string[]> | undefined;
  for (const u of judged) {
    const type = peeled.get(u.newOid);
    const walked = u === claimsUpdate && type !== 'tree' && type !== 'blob' ? (claimsWalk = new Map()) : undefined;
    changes.push({
      refName: u.refName,
      paths: type === 'tree' ? new Map((oldTip ? readNetChangedPaths(oldTip, u.newOid, git) : listPaths(u.newOid, git)).map((p) => [p, u.newOid])) : type === 'blob' ? new Map() : readChangedPaths(u.newOid, changeExcludes(u, oldTip), git, walked),
    });
  }
  const claimsParents = claimsWalk && new Set([...claimsWalk.values()].flat());
  // Rule 5 (b): on the claims ref the net change old tip -> new tip counts too; the lock-only
  // shortcut of rule 7 looks at it as well, so it is read when leases or tests need it. One
  // commit whose only parent is the old tip (a claim, a release) is its own net change, already
  // listed by the walk: `git diff-tree` runs only for anything else.
  let claimsNet: string[] | undefined;
  if (claimsUpdate && oldTip && newTip && (othersHoldLeases || policy.test)) {
    const at = judged.indexOf(claimsUpdate);
    const onlyChild = claimsWalk?.size === 1 && claimsWalk.get(newTip)?.length === 1 && claimsWalk.get(newTip)![0] === oldTip;
    claimsNet = onlyChild && at >= 0 ? [...changes[at]!.paths.keys()] : readNetChangedPaths(oldTip, newTip, git);
    if (at >= 0) changes[at] = withNetChange(changes[at]!, oldTip, newTip, claimsNet);
  }

  const input: PushInput & { testConcurrency: number; claimsTip?: string; claimsNet?: string[]; claimsCacheAfter?: ClaimsCacheEntry } = { claimsRef: config.claimsRef, claimsTip: oldTip, claimsNet, admins: config.admins, testConcurrency: config.testConcurrency, claimsCacheAfter, updates, pusher, pushOptions, policy, policyProblems: problems, claims, changes, now };
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
      fastForward: oldTip === undefined || (claimsParents ? claimsParents.has(oldTip) : isAncestor(oldTip, newTip, git)),
      diff,
      blobs,
      paths: treePathsAt(newTip, pushed, git),
      newPolicyText: newPolicy?.oid === oldPolicy?.oid ? undefined : newPolicy ? newPolicy.content.toString('utf8') : null,
    };
  } else if (claimsUpdate) {
    input.claimsUpdate = { fastForward: false, diff: { tasks: [], changed: [] }, blobs, paths: () => [] };
  }
  return input;
}
