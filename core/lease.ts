// Leases: the `files` globs of active claims, and fast matching of many paths against many of
// them (DESIGN.md "Words": lease; rules 4 and 5). Pure.
//
// Glob rules: core/glob.ts.
import { compilePattern, globBase } from './glob.js';
import type { Claim } from './claim.js';

/** One active claim's lease, with the claim it comes from. */
export interface Lease {
  claim: Claim;
  /** Positive patterns (without `!`). */
  include: string[];
  /** Exclusions (the `!` patterns, without the `!`). */
  exclude: string[];
}

/** A path inside a lease: which lease and which of its patterns matched. */
export interface LeaseHit {
  lease: Lease;
  glob: string;
  /** The path matches only when case is ignored: a case-variant of a leased path. */
  caseVariant?: boolean;
}

// The literal directory a pattern can only match under: core/glob.ts globBase. A shorter base
// than picomatch.scan's would only mean a bigger bucket, never a missed match, and a split costs
// less than a scan (3,000 patterns of 1,000 claims: ~9 ms less).
const baseOf = globBase;

// Rule 4 builds one table per other lease, all with the same few exempt patterns: each is
// compiled once (1,000 claims: 3,000 picomatch compiles less; issue 18).
const exemptMatchers = new Map<string, (path: string) => boolean>();
// A costly exempt glob matches nothing (core/glob.ts): exemption never errs toward opening a path.
const compileExempt = (pattern: string) => exemptMatchers.get(pattern) ?? exemptMatchers.set(pattern, compilePattern(pattern, 'miss')).get(pattern)!;

/** The leases of the claims that are active at `now` (epoch ms), split into include and exclude. */
export function leasesOf(claims: readonly Claim[], now: number): Lease[] {
  return claims
    .filter((c) => c.expiresAt > now && c.lock.files.length > 0)
    .map((claim) => ({
      claim,
      include: claim.lock.files.filter((g) => !g.startsWith('!')),
      exclude: claim.lock.files.filter((g) => g.startsWith('!')).map((g) => g.slice(1)),
    }));
}

interface Entry {
  lease: Lease;
  glob: string;
  /** Compiled on first use: most buckets are never visited by a small set of paths. */
  test?: (path: string) => boolean;
  nocase?: (path: string) => boolean;
  /** The glob has no upper-case letter: against a lower-case path, ignoring case changes nothing. */
  lower: boolean;
}

/**
 * Many leases compiled once for many lookups. Patterns are bucketed by their literal base
 * directory (lower-cased), so a path is only tested against patterns whose base is one of its
 * ancestors, and a pattern is compiled the first time a path reaches its bucket; exempt paths
 * match nothing.
 *
 * Globs are case-sensitive ({@link match}); {@link matchCaseVariants} finds the paths that
 * differ from a leased one only in case (`SRC/parser/a.ts` under `src/parser/**`), which rule 5
 * treats as leased (issue 13 item 17): on a case-insensitive checkout (macOS, Windows) git writes
 * both entries to one file, so such a push rewrites the leased file for those agents.
 */
export class LeaseTable {
  private readonly buckets = new Map<string, Entry[]>();
  private readonly excluded = new Map<Lease, { exact: (path: string) => boolean; nocase: (path: string) => boolean }>();
  private readonly exempt: (path: string) => boolean;

  constructor(readonly leases: readonly Lease[], exempt: readonly string[]) {
    const exemptMatchers = exempt.map(compileExempt);
    this.exempt = (path) => exemptMatchers.some((m) => m(path));
    for (const lease of leases) {
      for (const glob of lease.include) {
        const base = baseOf(glob).toLowerCase();
        const entries = this.buckets.get(base) ?? [];
        entries.push({ lease, glob, lower: glob === glob.toLowerCase() });
        this.buckets.set(base, entries);
      }
      if (lease.exclude.length > 0) {
        const exact = lease.exclude.map((g) => compilePattern(g, 'miss'));
        const nocase = lease.exclude.map((g) => compilePattern(g, 'miss', true));
        this.excluded.set(lease, { exact: (path) => exact.some((m) => m(path)), nocase: (path) => nocase.some((m) => m(path)) });
      }
    }
  }

  /** The leases that cover `path`, at most one hit per lease (its first matching pattern). Case-sensitive. */
  match(path: string): LeaseHit[] {
    return this.lookup(path, false);
  }

  /**
   * The leases that cover `path` only when case is ignored (`SRC/parser/a.ts` under
   * `src/parser/**`): case-variants of leased paths, which rule 5 treats as leased.
   */
  matchCaseVariants(path: string): LeaseHit[] {
    return this.lookup(path, true);
  }

  private lookup(path: string, variants: boolean): LeaseHit[] {
    if (this.buckets.size === 0 || this.exempt(path)) return [];
    const hits: LeaseHit[] = [];
    const seen = new Set<Lease>();
    const found: LeaseHit[] = [];
    const key = path.toLowerCase();
    const lowerPath = key === path;
    const visit = (base: string) => {
      for (const entry of this.buckets.get(base) ?? []) {
        if (seen.has(entry.lease)) continue;
        // Most paths and globs are lower-case: then there is no case-variant to find.
        if (variants && lowerPath && entry.lower) continue;
        entry.test ??= compilePattern(entry.glob);
        if (entry.test(path) && !this.excluded.get(entry.lease)?.exact(path)) {
          seen.add(entry.lease);
          if (!variants) hits.push({ lease: entry.lease, glob: entry.glob });
          continue;
        }
        if (!variants) continue;
        entry.nocase ??= compilePattern(entry.glob, 'match', true);
        if (entry.nocase(path) && !this.excluded.get(entry.lease)?.nocase(path)) found.push({ lease: entry.lease, glob: entry.glob, caseVariant: true });
      }
    };
    visit('');
    for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) visit(key.slice(0, i));
    visit(key);
    for (const hit of found) {
      if (seen.has(hit.lease)) continue;
      seen.add(hit.lease);
      hits.push(hit);
    }
    return hits;
  }

  /** Whether `path` is exempt from every lease (the locks dir, the policy file, `leases.exempt`). */
  isExempt(path: string): boolean {
    return this.exempt(path);
  }
}
