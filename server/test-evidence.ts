// The readers behind affected-first selection (DESIGN.md "Which tests a change runs"): the
// import graph of a tree (blobs read with `git cat-file --batch`, so it works in pre-receive with
// quarantined objects and no work tree; parsed edges cached by blob oid in the repository's
// state dir), the claims ref's recent history (one bounded `git log`), and the failures seen
// before. `readTestSelection` gathers them and calls the pure selectTestFiles.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildImporters, initImportParser, isSourcePath, makeResolver, MAX_PARSE_BYTES, parseImports, parseTsconfigAliases, type PathAliases } from '../core/imports.js';
import { compilePattern } from '../core/glob.js';
import { countCoChanges, selectTestFiles, type Selection, type SelectionPolicy } from '../core/selection.js';
import { readObjects, runGit, type GitOptions } from '../git/git.js';

/** One file of a tree, as `git ls-tree -r -l` gives it. */
export interface TreeFile {
  path: string;
  mode: string;
  oid: string;
  /** Bytes; undefined for a submodule. */
  size?: number;
}

/** Every file of a tree-ish with its mode, oid and size (`git ls-tree -r -l -z --full-tree`). @throws GitError */
export function readTreeFiles(treeish: string, git: GitOptions): TreeFile[] {
  const out = runGit(['ls-tree', '-r', '-l', '-z', '--full-tree', treeish], git).stdout.toString('utf8');
  const files: TreeFile[] = [];
  for (const record of out.split('\0')) {
    if (record === '') continue;
    const tab = record.indexOf('\t');
    const [mode, type, oid, size] = record.slice(0, tab).split(/ +/) as [string, string, string, string];
    if (type !== 'blob') continue;
    files.push({ mode, oid, path: record.slice(tab + 1), ...(size === '-' ? {} : { size: Number(size) }) });
  }
  return files;
}

/** The cache of parsed imports, by blob oid: `<dir>/imports-cache.json`. */
export const IMPORTS_CACHE = 'imports-cache.json';
const CACHE_VERSION = 1;

interface ImportsCache {
  /** Blob oid -> raw specifiers. */
  specifiers: Map<string, string[]>;
  /** Blob oid -> why the lexer rejected it (its specifiers then come from a text scan). */
  errors: Map<string, string>;
}

/** Reads the cache; a missing, unreadable or corrupt file is an empty cache (it is only a cache). */
export function readImportsCache(file: string): ImportsCache {
  const empty = { specifiers: new Map<string, string[]>(), errors: new Map<string, string>() };
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown; specifiers?: unknown; errors?: unknown };
    if (json.version !== CACHE_VERSION || typeof json.specifiers !== 'object' || json.specifiers === null) return empty;
    const specifiers = new Map<string, string[]>();
    for (const [oid, specs] of Object.entries(json.specifiers as Record<string, unknown>)) {
      if (Array.isArray(specs) && specs.every((s) => typeof s === 'string')) specifiers.set(oid, specs as string[]);
    }
    const errors = new Map<string, string>();
    for (const [oid, e] of Object.entries((json.errors ?? {}) as Record<string, unknown>)) if (typeof e === 'string') errors.set(oid, e);
    return { specifiers, errors };
  } catch {
    return empty;
  }
}

/** Writes the cache atomically (a temporary file renamed over it); a failure to write is ignored. */
export function writeImportsCache(file: string, cache: ImportsCache): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, JSON.stringify({ version: CACHE_VERSION, specifiers: Object.fromEntries(cache.specifiers), errors: Object.fromEntries(cache.errors) }));
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** The import graph of a tree: reverse edges, and what was parsed, reused or skipped. */
export interface ImportGraph {
  importers: Map<string, string[]>;
  /** Paths the lexer rejected (their imports come from a text scan), with its message. */
  unparsed: Map<string, string>;
  /** Sources over {@link MAX_PARSE_BYTES}, not parsed. */
  tooLarge: string[];
  parsed: number;
  cached: number;
}

/** Blobs are read from git in batches of this many. */
const BATCH = 2000;

/**
 * Reads the import graph of a tree's JS/TS files: each blob's specifiers come from the cache
 * (`cacheDir`/imports-cache.json, by blob oid) or are parsed now; then they are resolved
 * against the tree's paths and the tsconfig.json files' aliases. A symlink counts as an import
 * of its target. Files over {@link MAX_PARSE_BYTES} are skipped. Without `cacheDir` nothing is
 * cached. The cache is rewritten (atomically, holding only this tree's blobs) when anything new
 * was parsed. @throws GitError when git cannot read the tree's objects.
 */
export async function readImportGraph(files: readonly TreeFile[], git: GitOptions, cacheDir?: string): Promise<ImportGraph> {
  const cacheFile = cacheDir ? join(cacheDir, IMPORTS_CACHE) : undefined;
  const cache = cacheFile ? readImportsCache(cacheFile) : { specifiers: new Map<string, string[]>(), errors: new Map<string, string>() };
  const sources = files.filter((f) => isSourcePath(f.path));
  const tooLarge = sources.filter((f) => f.mode !== '120000' && (f.size ?? 0) > MAX_PARSE_BYTES).map((f) => f.path);
  const wanted = sources.filter((f) => f.mode === '120000' || (f.size ?? 0) <= MAX_PARSE_BYTES);
  const missing = [...new Set(wanted.filter((f) => !cache.specifiers.has(f.oid)).map((f) => f.oid))];
  const links = new Set(wanted.filter((f) => f.mode === '120000').map((f) => f.oid));
  if (missing.length > 0) {
    await initImportParser();
    for (let i = 0; i < missing.length; i += BATCH) {
      for (const [oid, object] of readObjects(missing.slice(i, i + BATCH), git)) {
        if (!object) continue;
        const text = object.content.toString('utf8');
        if (links.has(oid)) {
          cache.specifiers.set(oid, text.startsWith('/') ? [] : [text.startsWith('.') ? text : `./${text}`]);
          continue;
        }
        const parsed = parseImports(text);
        cache.specifiers.set(oid, parsed.specifiers);
        if (parsed.error) cache.errors.set(oid, parsed.error);
      }
    }
  }
  const configs = files.filter((f) => /(^|\/)tsconfig\.json$/.test(f.path) && !f.path.includes('node_modules/') && (f.size ?? 0) <= MAX_PARSE_BYTES);
  const aliases: PathAliases[] = [];
  if (configs.length > 0) {
    const texts = readObjects([...new Set(configs.map((c) => c.oid))], git);
    for (const config of configs) {
      const object = texts.get(config.oid);
      const found = object ? parseTsconfigAliases(config.path, object.content.toString('utf8')) : undefined;
      if (found) aliases.push(found);
    }
  }
  const imports = new Map<string, string[]>();
  const unparsed = new Map<string, string>();
  for (const f of wanted) {
    imports.set(f.path, cache.specifiers.get(f.oid) ?? []);
    const error = cache.errors.get(f.oid);
    if (error) unparsed.set(f.path, error);
  }
  const importers = buildImporters(imports, makeResolver(new Set(files.map((f) => f.path)), aliases));
  if (cacheFile && missing.length > 0) {
    const keep = new Set(wanted.map((f) => f.oid));
    writeImportsCache(cacheFile, {
      specifiers: new Map([...cache.specifiers].filter(([oid]) => keep.has(oid))),
      errors: new Map([...cache.errors].filter(([oid]) => keep.has(oid))),
    });
  }
  return { importers, unparsed, tooLarge, parsed: missing.length, cached: wanted.length - missing.length };
}

/** `test.history` when the policy does not set it: commits of the claims ref read for co-changes. */
export const DEFAULT_HISTORY = 2000;

/**
 * The path lists of the last `history` commits reachable from `tip`, newest first, in one
 * `git log` (`--no-renames`, merges skipped: they repeat their parents' changes). Bounded by
 * `history` however long the history is. @throws GitError
 */
export function readRecentCommits(tip: string, history: number, git: GitOptions): string[][] {
  if (history <= 0) return [];
  const out = runGit(['log', '-z', '--no-renames', '--no-merges', '--name-only', '--format=%x01', `--max-count=${history}`, tip, '--'], git).stdout.toString('utf8');
  const commits: string[][] = [];
  for (const token of out.split('\0')) {
    const path = token.replace(/^\n/, '');
    if (path.startsWith('\x01')) {
      commits.push([]);
      const rest = path.slice(1).replace(/^\n+/, '');
      if (rest) commits.at(-1)!.push(rest);
    } else if (path !== '' && commits.length > 0) commits.at(-1)!.push(path);
  }
  return commits;
}

/** The failures seen before: `<dir>/failed-before.json`, path -> test file -> count. */
export const FAILED_BEFORE = 'failed-before.json';
/** At most this many changed paths are recorded per failing run, and this many paths kept in all. */
const RECORD_PATHS = 200;
const KEEP_PATHS = 5000;

/** Reads the failures seen before; a missing or corrupt file is none. */
export function readFailedBefore(dir: string): Map<string, Map<string, number>> {
  try {
    const json = JSON.parse(readFileSync(join(dir, FAILED_BEFORE), 'utf8')) as Record<string, Record<string, number>>;
    const out = new Map<string, Map<string, number>>();
    for (const [path, row] of Object.entries(json)) {
      if (typeof row !== 'object' || row === null) continue;
      out.set(path, new Map(Object.entries(row).filter(([, n]) => Number.isInteger(n) && n > 0)));
    }
    return out;
  } catch {
    return new Map();
  }
}

/**
 * Records that `failedTests` failed on a change of `changed` (the non-test paths, at most 200),
 * so the next change of those paths selects them (`failed before`). Written atomically; the
 * oldest paths are dropped beyond 5,000. A failure to write is ignored.
 */
export function recordFailures(dir: string, changed: readonly string[], failedTests: readonly string[]): void {
  if (failedTests.length === 0) return;
  const all = readFailedBefore(dir);
  const tests = new Set(failedTests);
  for (const path of changed.filter((p) => !tests.has(p)).slice(0, RECORD_PATHS)) {
    const row = all.get(path) ?? new Map<string, number>();
    for (const t of failedTests) row.set(t, (row.get(t) ?? 0) + 1);
    all.delete(path);
    all.set(path, row);
  }
  const kept = [...all].slice(-KEEP_PATHS);
  const file = join(dir, FAILED_BEFORE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(kept.map(([p, row]) => [p, Object.fromEntries(row)]))));
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** What {@link readTestSelection} needs. */
export interface TestSelectionRequest {
  git: GitOptions;
  /** The tree under test (a commit or tree oid, or `HEAD`). */
  treeish: string;
  /** The files of that tree, when the caller has them already. */
  files?: readonly TreeFile[];
  /** The claims ref's tip: its recent history gives co-changes (none when undefined). */
  claimsTip?: string;
  /** Paths the change adds, modifies or deletes against the claims ref tip. */
  changed: readonly string[];
  policy: SelectionPolicy & { history?: number };
  seed: string;
  /** Where the imports cache and the failures seen before live (`<git-dir>/agent-hooks`); none: no cache. */
  stateDir?: string;
  all?: boolean;
}

/** A selection and the notes to show with it (files that could not be parsed, skipped ones). */
export interface TestSelectionResult {
  selection: Selection;
  notes: string[];
  graph: { parsed: number; cached: number };
}

/**
 * Gathers the evidence for a change and selects its tests (the pure selectTestFiles): the import
 * graph of the tree, co-changes in the last `test.history` commits of the claims ref (default
 * 2000), the failures seen before. Notes name test files or changed files the lexer could not
 * read, once each, and sources skipped for size. @throws GitError when git cannot read the tree.
 */
export async function readTestSelection(request: TestSelectionRequest): Promise<TestSelectionResult> {
  const files = request.files ?? readTreeFiles(request.treeish, request.git);
  const paths = files.map((f) => f.path);
  const isTest = ((globs) => (p: string) => globs.some((g) => g(p)))(request.policy.files.map(compilePattern));
  const hasTests = paths.some(isTest);
  const notes: string[] = [];
  if (!hasTests) return { selection: selectTestFiles({ paths, changed: request.changed, seed: request.seed, policy: request.policy }), notes, graph: { parsed: 0, cached: 0 } };
  const graph = await readImportGraph(files, request.git, request.stateDir);
  const changedSet = new Set(request.changed);
  const worth = [...graph.unparsed].filter(([p]) => isTest(p) || changedSet.has(p));
  for (const [p, error] of worth.slice(0, 3)) notes.push(`NOTE: ${p}: cannot parse (${error}); its imports come from a text scan, with name and history as evidence`);
  if (worth.length > 3) notes.push(`NOTE: and ${worth.length - 3} more files that cannot be parsed`);
  const large = graph.tooLarge.filter((p) => changedSet.has(p));
  if (large.length > 0) notes.push(`NOTE: ${large.length} changed file(s) over ${MAX_PARSE_BYTES} bytes not parsed for imports (${large.slice(0, 3).join(', ')})`);
  const history = request.policy.history ?? DEFAULT_HISTORY;
  const coChanges = request.claimsTip && history > 0 ? countCoChanges(readRecentCommits(request.claimsTip, history, request.git), request.changed, isTest) : undefined;
  const failedBefore = request.stateDir ? readFailedBefore(request.stateDir) : undefined;
  const selection = selectTestFiles({
    paths,
    changed: request.changed,
    seed: request.seed,
    policy: request.policy,
    importers: graph.importers,
    ...(coChanges ? { coChanges } : {}),
    ...(failedBefore ? { failedBefore } : {}),
    ...(request.all ? { all: true } : {}),
  });
  return { selection, notes, graph: { parsed: graph.parsed, cached: graph.cached } };
}
