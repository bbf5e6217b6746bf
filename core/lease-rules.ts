// Rules 4 and 5 of DESIGN.md "What pre-receive rejects": overlapping leases, and changes to paths
// leased by another agent. Pure: claims, paths and changes in, verdicts out.
import type { Claim } from './claim.js';
import { compilePattern, globBase, isUnderAny } from './glob.js';
import { LeaseTable, leasesOf, type Lease } from './lease.js';
import { formatTime, quote } from './text.js';
import { heldFix, type Verdict } from './verdict.js';

/**
 * The paths one ref update changes, each with the first (oldest) pushed commit that changed it;
 * an empty commit means staged for the next commit (pre-commit).
 */
export interface RefChanges {
  refName: string;
  paths: ReadonlyMap<string, string>;
  /**
   * Rule 5 (b), on the claims ref: the old and new tip, when some of `paths` come only from the
   * net change `git diff <from> <to>` (a merge that takes an old version of a path); those paths
   * map to `to` and are listed in `netOnly`.
   */
  net?: { from: string; to: string; netOnly: ReadonlySet<string> };
}

/**
 * The changes of one ref update with rule 5 (b) added: the paths of the net change from `from`
 * to `to` that the commits' own changes (a) miss, mapped to `to` and marked as net-only.
 */
export function withNetChange(changes: RefChanges, from: string, to: string, netPaths: readonly string[]): RefChanges {
  const netOnly = new Set(netPaths.filter((p) => !changes.paths.has(p)));
  if (netOnly.size === 0) return changes;
  const paths = new Map(changes.paths);
  for (const p of netOnly) paths.set(p, to);
  return { ...changes, paths, net: { from, to, netOnly } };
}

/**
 * A tree's files, listed only when asked: those under `under` (literal directories or files, as
 * git's literal pathspecs match them; '' is the root), or all when `under` is omitted. Listing a
 * large tree costs more than the rest of a claim push (20,000 files: ~15 ms of `git ls-tree` and
 * ~30 ms of matching; issue 18), so rules ask for the subtrees their globs can match
 * ({@link globBase}).
 */
export type TreePaths = (under?: readonly string[]) => readonly string[];

/** {@link TreePaths} over a list already in memory. */
export function treePathsOf(paths: readonly string[]): TreePaths {
  return (under) => (under === undefined ? paths : paths.filter((p) => isUnderAny(p, under)));
}

/** At most this many lines per ref for rule 5; the rest is counted in one more line. */
export const MAX_PATH_LINES = 20;
/** A lease covering at least this share of the tree's files is flagged as too broad. */
export const BROAD_LEASE_SHARE = 0.9;

const holderOf = (claim: Claim) => `${claim.lock.agent} (task ${claim.taskId}`;
const statusFix = (claim: Claim) => `${heldFix(claim.lock.agent)}; agent-hooks status ${claim.taskId}`;

/**
 * Rule 5: every changed path covered by an active lease of another agent is an error, naming
 * the path, the commit, the holder, the task, the glob and the expiry. A path that differs from a
 * leased one only in case counts as leased (one file on a case-insensitive checkout). `pusher` undefined means
 * nobody's lease is the pusher's own.
 */
export function checkLeasedChanges(allChanges: readonly RefChanges[], claims: readonly Claim[], exempt: readonly string[], pusher: string | undefined, now: number): Verdict[] {
  const table = new LeaseTable(leasesOf(claims.filter((c) => c.lock.agent !== pusher), now), exempt);
  if (table.leases.length === 0) return [];
  const verdicts: Verdict[] = [];
  for (const changes of allChanges) {
    const { refName, paths } = changes;
    let hidden = 0;
    let shown = 0;
    for (const [path, commit] of paths) {
      const exact = table.match(path);
      const [hit] = exact.length > 0 ? exact : table.matchCaseVariants(path);
      if (!hit) continue;
      if (shown === MAX_PATH_LINES) {
        hidden++;
        continue;
      }
      shown++;
      const { claim } = hit.lease;
      const how = changes.net?.netOnly.has(path)
        ? `changed by the push as a whole, git diff ${changes.net.from.slice(0, 10)} ${changes.net.to.slice(0, 10)}: a merge took another version of it`
        : commit ? `changed in ${commit.slice(0, 10)}` : 'staged';
      // A case-variant collides with the leased path on case-insensitive checkouts (macOS, Windows).
      const variant = hit.caseVariant ? ', and differs only in case from paths it covers, which are one file on a case-insensitive checkout' : '';
      verdicts.push({
        severity: 'error',
        rule: 'lease',
        where: refName,
        what: `${quote(path)} (${how}) is leased by ${holderOf(claim)}, glob ${quote(hit.glob)}${variant}) until ${formatTime(claim.expiresAt)}`,
        fix: statusFix(claim),
        overridable: true,
      });
    }
    if (hidden > 0) {
      verdicts.push({ severity: 'error', rule: 'lease', where: refName, what: `and ${hidden} more changed paths leased by other agents`, fix: 'agent-hooks status', overridable: true });
    }
  }
  return verdicts;
}

/** Inputs of {@link checkLeaseOverlaps}. */
export interface LeaseOverlapInput {
  /** Where to report: the claims ref. */
  refName: string;
  /** The pusher's new or widened leases. */
  leases: readonly Lease[];
  /** Every claim at the claims ref's old tip. */
  claims: readonly Claim[];
  /** The claims ref's files after the push plus the pushed paths. */
  paths: TreePaths;
  exempt: readonly string[];
  now: number;
}

/**
 * Rule 4: a new or widened lease may not overlap an active lease of another agent. Globs cannot
 * be intersected in general, so overlap is decided on real paths (some path matches both) and on
 * literal containment (one pattern, read as a path, matches the other lease). A pattern inside an
 * exempt path is an error; a lease covering almost the whole tree (`**`, `*`, or at least 90% of
 * the files) is accepted with a warning.
 *
 * Only the files under the new lease's literal bases are listed (a path outside them matches none
 * of its globs); the whole tree only for a glob based at the root, or to count the leasable files
 * when the lease covers at least 9 (fewer can never be 90% of at least 10).
 */
export function checkLeaseOverlaps(input: LeaseOverlapInput): Verdict[] {
  const verdicts: Verdict[] = [];
  const exempt = input.exempt.map((g) => compilePattern(g, 'miss'));
  const others = leasesOf(input.claims, input.now).filter((l) => !input.leases.some((n) => n.claim.lock.agent === l.claim.lock.agent));
  const othersTable = new LeaseTable(others, input.exempt);
  let leasableCount: number | undefined;
  for (const lease of input.leases) {
    const where = `${input.refName}: ${quote(lease.claim.path)}`;
    const mine = new LeaseTable([lease], input.exempt);
    for (const glob of lease.include) {
      if (exempt.some((m) => m(glob))) {
        verdicts.push({ severity: 'error', rule: 'lease', where, what: `${quote(glob)} is exempt from leases (the locks dir, the policy file, leases.exempt) and can never be leased`, fix: `remove ${quote(glob)} from "files"`, overridable: false });
      }
    }
    // An exempt path matches no lease (LeaseTable), so these are the leasable files it covers.
    const covered = input.paths(lease.include.map(globBase)).filter((p) => mine.match(p).length > 0);
    const shared = new Map<Lease, string[]>();
    for (const path of covered) {
      for (const hit of othersTable.match(path)) shared.set(hit.lease, [...(shared.get(hit.lease) ?? []), path]);
    }
    // Literal containment: a pattern of this lease, read as a path, inside another lease (one
    // lookup in the table of all others), or a pattern of another lease inside this one.
    const coveredPatterns = new Map<Lease, Set<string>>();
    for (const g of lease.include) {
      for (const hit of othersTable.match(g)) coveredPatterns.set(hit.lease, (coveredPatterns.get(hit.lease) ?? new Set()).add(g));
    }
    for (const other of others) {
      const inMine = new Set(other.include.filter((h) => mine.match(h).length > 0));
      const literal = coveredPatterns.has(other) || inMine.size > 0
        ? lease.include.flatMap((g) => other.include.filter((h) => coveredPatterns.get(other)?.has(g) || inMine.has(h)).map((h) => `${quote(g)} and ${quote(h)}`))
        : [];
      const paths = shared.get(other) ?? [];
      if (literal.length === 0 && paths.length === 0) continue;
      const example = paths.length > 0
        ? `${paths.slice(0, 3).map(quote).join(', ')}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''}`
        : `the patterns ${literal[0]} overlap`;
      verdicts.push({
        severity: 'error',
        rule: 'lease',
        where,
        what: `lease ${lease.claim.lock.files.map(quote).join(', ')} overlaps the lease of ${holderOf(other.claim)}, ${other.claim.lock.files.map(quote).join(', ')}) until ${formatTime(other.claim.expiresAt)}: ${example}`,
        fix: `narrow "files" (for example with !${other.include[0] ?? ''}), or ${statusFix(other.claim)}`,
        overridable: true,
      });
    }
    const broad = lease.include.find((g) => ['**', '*', '**/*'].includes(g));
    if (broad || covered.length >= 9) leasableCount ??= input.paths().filter((p) => !othersTable.isExempt(p)).length;
    const leasable = leasableCount ?? 0;
    if (broad || (leasable >= 10 && covered.length >= BROAD_LEASE_SHARE * leasable)) {
      verdicts.push({
        severity: 'warning',
        rule: 'lease',
        where,
        what: `lease ${lease.claim.lock.files.map(quote).join(', ')} is very broad: it covers ${covered.length} of the ${leasable} leasable files`,
        fix: 'lease only the paths the task needs',
        overridable: false,
      });
    }
  }
  return verdicts;
}

/** How a hand-written glob looks broken: quoted (`"src/**"`), commented (`src/** # note`) or a YAML list (`[src/**]`). */
export function brokenGlobLook(glob: string): string | undefined {
  const pattern = glob.startsWith('!') ? glob.slice(1) : glob;
  if (/^["'`]|["'`]$/.test(pattern)) return 'is quoted (quotes are part of a glob)';
  if (/(^|\s)#/.test(pattern)) return 'holds a comment ("#" is part of a glob)';
  if (/^\[.*\]$/.test(pattern)) return 'is written as a list ("[...]" is a character class)';
  return undefined;
}

/**
 * Issue 13 item 13: a glob of a claim that matches no path of the tree and looks quoted,
 * commented or bracketed protects nothing as written; one warning each (pre-commit and push).
 * `paths` lists the tree's files under the suspect globs' bases, only when some glob looks broken.
 */
export function checkBrokenGlobs(claim: Claim, paths: TreePaths, where: string): Verdict[] {
  const suspects = claim.lock.files.map((glob) => ({ glob, look: brokenGlobLook(glob) })).filter((s) => s.look !== undefined);
  if (suspects.length === 0) return [];
  const tree = paths(suspects.map(({ glob }) => globBase(glob.startsWith('!') ? glob.slice(1) : glob)));
  return suspects
    .filter(({ glob }) => {
      const matches = compilePattern(glob.startsWith('!') ? glob.slice(1) : glob);
      return !tree.some((p) => matches(p));
    })
    .map(({ glob, look }) => ({
      severity: 'warning' as const,
      rule: 'lease' as const,
      where,
      what: `glob ${quote(glob)} in "files" ${look} and matches no file: the lease protects nothing there`,
      fix: `write it bare, e.g. files: ${glob.replace(/^["'`[]+|["'`\]]+$/g, '').replace(/\s+#.*$/, '').trim() || 'src/parser/**'}`,
      overridable: false,
    }));
}
