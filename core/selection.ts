// Which tests a change runs (DESIGN.md "Which tests a change runs", "Fast test sampling"): one
// pure function from the tree's paths, the change and its evidence to an ordered list of test
// files, each with the reasons that chose it. Readers (server/test-evidence.ts) gather the
// evidence; pre-receive, `agent-hooks check --tests`, `agent-hooks test --fast [--list]` and the
// lander call {@link selectTestFiles} with it.
import { compilePattern } from './glob.js';
import { reachedByImports, type Importers } from './imports.js';
import { createHash } from 'node:crypto';

/** The policy keys selection reads (a `TestPolicy` fits). */
export interface SelectionPolicy {
  /** Globs of test files. */
  files: readonly string[];
  /** Fraction of the test files the selection fills up to with the hash sample (0 < sample <= 1). */
  sample: number;
  /** Globs of test files always run. */
  always: readonly string[];
  /** `{"src/parser/**": ["test/parser/**"]}`: a change to a path matching a key selects the tests matching its globs. */
  map?: Readonly<Record<string, readonly string[]>>;
  /** Affected tests beyond this fraction of all test files are cut, lowest evidence first (default {@link DEFAULT_MAX_AFFECTED}). */
  maxAffected?: number;
}

/** `test.maxAffected` when the policy does not set it. */
export const DEFAULT_MAX_AFFECTED = 0.5;

/** Co-changes below this count are noise, not evidence. */
export const MIN_CO_CHANGES = 2;

/** What selection is fed; every evidence map is optional (absent: that evidence is not used). */
export interface SelectionInput {
  /** Every file path of the tree under test; test files are those matching `policy.files`. */
  paths: readonly string[];
  /** Paths the change adds, modifies or deletes (against the claims ref tip). */
  changed: readonly string[];
  /** The hash sample's seed: the pusher's agent id. */
  seed: string;
  policy: SelectionPolicy;
  /** Reverse import edges: a path -> the files that import it. */
  importers?: Importers;
  /** A changed path -> test file -> how many recent commits of the claims ref changed both. */
  coChanges?: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** A path -> test file -> how many times that test failed on a push that changed the path. */
  failedBefore?: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Select every test file (`--all`); the reasons are still given. */
  all?: boolean;
}

/** One selected test file and why, strongest reason first: `changed`, `imports src/x.ts`, `name`, `co-changed 7x`, `failed before`, `map`, `always`, `sample`, `all`. */
export interface SelectedTest {
  path: string;
  reasons: string[];
}

/** The selection: `files` in run order (changed, affected by evidence rank, always, sample). */
export interface Selection {
  seed: string;
  /** How many test files the tree has. */
  total: number;
  files: SelectedTest[];
  changed: number;
  affected: number;
  always: number;
  sampled: number;
  /** Affected tests left out by `test.maxAffected` (they may still be sampled). */
  cut: number;
  /** `ceil(sample x total)`, at least 1 when there are tests: what the sample fills up to. */
  target: number;
}

/** Rank of a test file for a seed: hex SHA-256 of `seed NUL path`; the same on every machine. */
export const rankOf = (seed: string, path: string): string => createHash('sha256').update(`${seed}\0${path}`).digest('hex');

const matcher = (globs: readonly string[]) => {
  const tests = globs.map((g) => compilePattern(g));
  return (path: string) => tests.some((t) => t(path));
};

// Directories that say "source" or "test" rather than what a file is about.
const ROLE_DIRS = new Set(['src', 'lib', 'source', 'sources', 'test', 'tests', '__tests__', 'spec', 'specs', 'testing']);
// Stems so common that a match by name alone needs the directories to agree too.
const GENERIC_STEMS = new Set(['index', 'main', 'mod', 'lib', '__init__', 'utils', 'util', 'types', 'helpers', 'common', 'conftest', 'setup']);

/** The name a file is about: `b` for `src/a/b.ts`, `test/a/b.test.ts`, `b_test.go`, `test_b.py`, `tests/b.rs`. */
export function stemOf(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  let stem = base.replace(/\.[^.]*$/, '');
  stem = stem.replace(/[._-](test|spec|tests|specs)$/i, '').replace(/^test_/i, '');
  return stem.replace(/\.[^.]*$/, '') || stem;
}

const roleFreeDirs = (path: string) => path.split('/').slice(0, -1).filter((d) => !ROLE_DIRS.has(d));

const isSuffix = (short: string[], long: string[]) => short.length <= long.length && short.every((d, i) => d === long[long.length - short.length + i]);

/**
 * Whether a test file is named for a source file: the same stem (see {@link stemOf}), and the
 * directories (without `src`, `test`, `tests`, ...) of one end those of the other. A generic
 * stem (`index`, `utils`, ...) needs at least one directory in common.
 */
export function namesMatch(source: string, test: string): boolean {
  const stem = stemOf(source);
  if (stem === '' || stem !== stemOf(test)) return false;
  const a = roleFreeDirs(source);
  const b = roleFreeDirs(test);
  const agree = a.length <= b.length ? isSuffix(a, b) : isSuffix(b, a);
  return agree && (!GENERIC_STEMS.has(stem.toLowerCase()) || Math.min(a.length, b.length) > 0);
}

// Evidence ranks: an import is the strongest evidence (nearer is stronger), then an explicit
// map, a name, a failure seen before, co-changes (more is stronger).
const IMPORT_RANK = 1_000_000;
const MAP_RANK = 900_000;
const NAME_RANK = 800_000;
const FAILED_RANK = 700_000;

interface Evidence {
  reasons: string[];
  rank: number;
}

/**
 * Selects the test files of a change, in run order, each with its reasons:
 * 1. test files the change adds or modifies (still in the tree): `changed`;
 * 2. affected test files: `imports <changed path>` (directly or transitively, through
 *    `importers`), `name` (see {@link namesMatch}), `co-changed Nx` (at least
 *    {@link MIN_CO_CHANGES} commits), `failed before`, `map` (`test.map`); ranked by evidence and
 *    cut at `maxAffected x total` (at least 1);
 * 3. `always`;
 * 4. `sample`: the remaining test files ranked by {@link rankOf}(seed, path) fill the selection
 *    up to `ceil(sample x total)` (at least one file when there are tests).
 * Deterministic: the same input gives the same output whatever the order of `paths`.
 */
export function selectTestFiles(input: SelectionInput): Selection {
  const { policy } = input;
  const isTest = matcher(policy.files);
  const tests = input.paths.filter(isTest).sort();
  const testSet = new Set(tests);
  const total = tests.length;
  const target = total === 0 ? 0 : input.all ? total : Math.min(total, Math.max(1, Math.ceil(policy.sample * total)));
  const changedSet = new Set(input.changed);
  const chosen = new Map<string, string[]>();

  const changedTests = tests.filter((t) => changedSet.has(t));
  for (const t of changedTests) chosen.set(t, ['changed']);

  const evidence = new Map<string, Evidence>();
  const add = (test: string, reason: string, rank: number) => {
    if (!testSet.has(test) || chosen.has(test)) return;
    const e = evidence.get(test);
    if (!e) evidence.set(test, { reasons: [reason], rank });
    else if (!e.reasons.includes(reason)) {
      e.reasons.push(reason);
      e.rank = Math.max(e.rank, rank) + 1; // more kinds of evidence break ties
    }
  };
  const sources = input.changed.filter((p) => !testSet.has(p));
  if (input.importers) {
    for (const [test, { source, depth }] of reachedByImports(input.changed, input.importers)) add(test, `imports ${source}`, IMPORT_RANK - depth * 1000);
  }
  if (policy.map) {
    for (const [from, to] of Object.entries(policy.map)) {
      const isFrom = compilePattern(from);
      if (!input.changed.some(isFrom)) continue;
      const isTo = matcher(to);
      for (const t of tests) if (isTo(t)) add(t, 'map', MAP_RANK);
    }
  }
  if (sources.length > 0) {
    const byStem = new Map<string, string[]>();
    for (const t of tests) byStem.set(stemOf(t), [...(byStem.get(stemOf(t)) ?? []), t]);
    for (const s of sources) for (const t of byStem.get(stemOf(s)) ?? []) if (namesMatch(s, t)) add(t, 'name', NAME_RANK);
  }
  for (const s of input.changed) {
    for (const [t, n] of input.failedBefore?.get(s) ?? []) if (n > 0) add(t, 'failed before', FAILED_RANK + Math.min(n, 999));
  }
  const coCounts = new Map<string, number>();
  for (const s of input.changed) {
    for (const [t, n] of input.coChanges?.get(s) ?? []) coCounts.set(t, Math.max(coCounts.get(t) ?? 0, n));
  }
  for (const [t, n] of coCounts) if (n >= MIN_CO_CHANGES) add(t, `co-changed ${n}x`, Math.min(n, 100_000));

  const ranked = [...evidence.entries()].sort(([a, x], [b, y]) => y.rank - x.rank || (a < b ? -1 : a > b ? 1 : 0));
  const limit = input.all ? total : Math.max(1, Math.floor((policy.maxAffected ?? DEFAULT_MAX_AFFECTED) * total));
  const kept = ranked.slice(0, limit);
  for (const [t, e] of kept) chosen.set(t, e.reasons);
  const cutOff = new Map(ranked.slice(limit));

  const isAlways = matcher(policy.always);
  let always = 0;
  for (const t of tests) {
    if (!isAlways(t)) continue;
    const reasons = chosen.get(t);
    if (reasons) reasons.push('always');
    else {
      chosen.set(t, ['always']);
      always++;
    }
  }

  let sampled = 0;
  const order = tests.map((path) => ({ path, rank: rankOf(input.seed, path) })).sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  for (const { path } of order) {
    if (chosen.size >= target) break;
    if (chosen.has(path)) continue;
    chosen.set(path, [...(cutOff.get(path)?.reasons ?? []), input.all ? 'all' : 'sample']);
    sampled++;
  }
  return {
    seed: input.seed,
    total,
    files: [...chosen].map(([path, reasons]) => ({ path, reasons })),
    changed: changedTests.length,
    affected: kept.length,
    always,
    sampled,
    cut: Math.max(0, ranked.length - limit),
    target,
  };
}

/**
 * Co-change counts from recent history: for each changed path, the test files that changed in
 * the same commit, with how many such commits. `commits` are the path lists of the claims ref's
 * recent commits (newest first, bounded by `test.history`); a commit of more than `maxFiles`
 * paths (a sweeping rename, a reformat) says nothing about which test covers what and is skipped.
 */
export function countCoChanges(commits: readonly (readonly string[])[], changed: readonly string[], isTest: (path: string) => boolean, maxFiles = 100): Map<string, Map<string, number>> {
  const wanted = new Set(changed.filter((p) => !isTest(p)));
  const counts = new Map<string, Map<string, number>>();
  for (const files of commits) {
    if (files.length > maxFiles) continue;
    const hits = files.filter((f) => wanted.has(f));
    if (hits.length === 0) continue;
    const testsHere = files.filter(isTest);
    for (const h of hits) {
      const row = counts.get(h) ?? new Map<string, number>();
      for (const t of testsHere) row.set(t, (row.get(t) ?? 0) + 1);
      counts.set(h, row);
    }
  }
  return counts;
}

/** `--list` lines: `<path>  <reason>, <reason>`, one per selected file, then one summary line. */
export function formatSelection(selection: Selection): string[] {
  const width = Math.min(60, Math.max(0, ...selection.files.map((f) => f.path.length)));
  return [...selection.files.map((f) => `${f.path.padEnd(width)}  ${f.reasons.join(', ')}`), formatSelectionCounts(selection)];
}

/** `7 affected, 5 sampled of 140 files, seed agent-3` (changed and always counted when present). */
export function formatSelectionCounts(selection: Selection): string {
  const parts = [
    ...(selection.changed > 0 ? [`${selection.changed} changed`] : []),
    `${selection.affected} affected`,
    ...(selection.always > 0 ? [`${selection.always} always`] : []),
    `${selection.sampled} sampled of ${selection.total} files`,
  ];
  return `${parts.join(', ')}, seed ${selection.seed}`;
}

/** The `--list --json` shape: `{"seed", "total", "files": [{"path", "reasons"}]}`. */
export function selectionJson(selection: Selection): { seed: string; total: number; files: SelectedTest[] } {
  return { seed: selection.seed, total: selection.total, files: selection.files };
}
