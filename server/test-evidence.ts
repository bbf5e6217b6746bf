// The readers behind affected-first selection (DESIGN.md "Which tests a change runs"): the
// import graph of a tree (blobs read with `git cat-file --batch`, so it works in pre-receive with
// quarantined objects and no work tree; parsed edges cached by blob oid in the repository's
// state dir), the claims ref's recent history (one bounded `git log`), and the failures seen
// before. `readTestSelection` gathers them and calls the pure selectTestFiles.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { importKey, initImportParser, lazyImporters, isSourcePath, makeResolver, MAX_PARSE_BYTES, parseImports, parseTsconfigAliases, type Importers, type PathAliases } from '../core/imports.js';
import { compilePattern } from '../core/glob.js';
import { countCoChanges, selectTestFiles, type Selection, type SelectionPolicy } from '../core/selection.js';
import { isAncestor, readObjects, runGit, type GitOptions } from '../git/git.js';

/** One file of a tree, as `git ls-tree -r` gives it (no size: `-l` costs a lookup per blob). */
export interface TreeFile {
  path: string;
  mode: string;
  oid: string;
}

/** Every file of a tree-ish with its mode and oid (`git ls-tree -r -z --full-tree`; submodules left out). @throws GitError */
export function readTreeFiles(treeish: string, git: GitOptions): TreeFile[] {
  const out = runGit(['ls-tree', '-r', '-z', '--full-tree', treeish], git).stdout.toString('utf8');
  const files: TreeFile[] = [];
  for (const record of out.split('\0')) {
    if (record === '') continue;
    const tab = record.indexOf('\t');
    const head = record.slice(0, tab);
    if (!head.includes(' blob ')) continue;
    const [mode, , oid] = head.split(' ') as [string, string, string];
    files.push({ mode, oid, path: record.slice(tab + 1) });
  }
  return files;
}

/** The cache of parsed imports: `<dir>/imports-index`, one line per JS/TS file of the last tree read. */
export const IMPORTS_INDEX = 'imports-index';
const INDEX_HEADER = 'agent-hooks imports-index 1';

/** What the cache knows of one file: the blob it was read from, its specifiers and their lookup keys. */
export interface IndexedFile {
  oid: string;
  specifiers: string[];
  keys: string[];
  /** Why the lexer rejected the blob (its specifiers then come from a text scan). */
  error?: string;
  /** Over {@link MAX_PARSE_BYTES}: never parsed. */
  large?: boolean;
}

/**
 * Reads the cache: a header line, then per file `<oid> TAB <path> TAB <flag> (TAB <specifier>
 * TAB <key>)...`, flag `-`, `L` (too large) or `!<lexer error>`. Keyed by path and blob oid, so
 * a push reads only the blobs whose path or content changed, and no key is computed twice. A
 * missing, unreadable or corrupt file is an empty cache (it is only a cache); a corrupt line is
 * skipped.
 */
export function readImportsIndex(file: string): Map<string, IndexedFile> {
  const index = new Map<string, IndexedFile>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return index;
  }
  const lines = text.split('\n');
  if (lines[0] !== INDEX_HEADER) return index;
  for (let i = 1; i < lines.length; i++) {
    const parts = lines[i]!.split('\t');
    if (parts.length < 3 || parts.length % 2 === 0) continue;
    const [oid, path, flag] = parts as [string, string, string];
    if (oid.length !== 40 && oid.length !== 64) continue;
    const specifiers: string[] = [];
    const keys: string[] = [];
    for (let k = 3; k < parts.length; k += 2) {
      specifiers.push(parts[k]!);
      keys.push(parts[k + 1]!);
    }
    index.set(path, { oid, specifiers, keys, ...(flag === 'L' ? { large: true } : flag.startsWith('!') ? { error: flag.slice(1) } : {}) });
  }
  return index;
}

/** Writes the cache atomically (a temporary file renamed over it); a failure to write is ignored. */
export function writeImportsIndex(file: string, index: ReadonlyMap<string, IndexedFile>): void {
  const bad = /[\t\n\r]/;
  const lines = [INDEX_HEADER];
  for (const [path, f] of index) {
    if (bad.test(path) || f.specifiers.some((s) => bad.test(s)) || f.keys.some((k) => bad.test(k))) continue; // read again next time
    const flag = f.large ? 'L' : f.error !== undefined ? `!${f.error.replace(/[\t\n\r]+/g, ' ')}` : '-';
    const row = [f.oid, path, flag];
    for (let k = 0; k < f.specifiers.length; k++) row.push(f.specifiers[k]!, f.keys[k]!);
    lines.push(row.join('\t'));
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, `${lines.join('\n')}\n`);
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/** The import graph of a tree: reverse edges, and what was parsed, reused or skipped. */
export interface ImportGraph {
  importers: Importers;
  /** Paths the lexer rejected (their imports come from a text scan), with its message. */
  unparsed: Map<string, string>;
  /** Sources over {@link MAX_PARSE_BYTES}, not parsed. */
  tooLarge: string[];
  parsed: number;
  cached: number;
}

/** The imports cache is rewritten when this many of a tree's files are not in it (or it holds this many others). */
export const REWRITE_STALE = 200;

/** Blobs are read from git in batches of this many. */
const BATCH = 2000;

/**
 * Reads the import graph of a tree's JS/TS files: each file's specifiers come from the cache
 * (`cacheDir`/imports-index, by path and blob oid) or are parsed now (the blobs read with `git
 * cat-file`, sizes first: a file over {@link MAX_PARSE_BYTES} is skipped); they resolve against
 * the tree's paths and the tsconfig.json files' aliases, on demand. A symlink counts as an import
 * of its target. Without `cacheDir` nothing is cached. The cache is rewritten (atomically,
 * holding this tree's files) when it lags the tree by more than {@link REWRITE_STALE} files. @throws GitError when git
 * cannot read the tree's objects.
 */
export async function readImportGraph(files: readonly TreeFile[], git: GitOptions, cacheDir?: string): Promise<ImportGraph> {
  const cacheFile = cacheDir ? join(cacheDir, IMPORTS_INDEX) : undefined;
  const index = cacheFile ? readImportsIndex(cacheFile) : new Map<string, IndexedFile>();
  const sources = files.filter((f) => isSourcePath(f.path));
  const stale = sources.filter((f) => index.get(f.path)?.oid !== f.oid);
  const wantedOids = [...new Set(stale.map((f) => f.oid))];
  const links = new Set(stale.filter((f) => f.mode === '120000').map((f) => f.oid));
  const read = new Map<string, { specifiers: string[]; error?: string; large?: boolean }>();
  if (wantedOids.length > 0) {
    await initImportParser();
    const sizes = runGit(['cat-file', '--batch-check=%(objectname) %(objectsize)'], { ...git, input: `${wantedOids.join('\n')}\n` }).stdout.toString('utf8').split('\n');
    const small: string[] = [];
    for (const line of sizes) {
      const [oid, size] = line.split(' ');
      if (!oid || size === undefined || size === 'missing') continue;
      if (Number(size) > MAX_PARSE_BYTES) read.set(oid, { specifiers: [], large: true });
      else small.push(oid);
    }
    for (let i = 0; i < small.length; i += BATCH) {
      for (const [oid, object] of readObjects(small.slice(i, i + BATCH), git)) {
        if (!object) continue;
        const text = object.content.toString('utf8');
        if (links.has(oid)) read.set(oid, { specifiers: text.startsWith('/') ? [] : [text.startsWith('.') ? text : `./${text}`] });
        else read.set(oid, parseImports(text));
      }
    }
    for (const f of stale) {
      const got = read.get(f.oid);
      if (!got) continue;
      index.set(f.path, { oid: f.oid, specifiers: got.specifiers, keys: got.specifiers.map((s) => importKey(f.path, s)), ...(got.error !== undefined ? { error: got.error } : {}), ...(got.large ? { large: true } : {}) });
    }
  }
  const configs = files.filter((f) => /(^|\/)tsconfig\.json$/.test(f.path) && !f.path.includes('node_modules/'));
  const aliases: PathAliases[] = [];
  if (configs.length > 0) {
    const texts = readObjects([...new Set(configs.map((c) => c.oid))], git);
    for (const config of configs) {
      const object = texts.get(config.oid);
      const found = object && object.content.length <= MAX_PARSE_BYTES ? parseTsconfigAliases(config.path, object.content.toString('utf8')) : undefined;
      if (found) aliases.push(found);
    }
  }
  const imports = new Map<string, string[]>();
  const keys = new Map<string, string[]>();
  const unparsed = new Map<string, string>();
  const tooLarge: string[] = [];
  for (const f of sources) {
    const known = index.get(f.path);
    if (!known || known.oid !== f.oid) continue;
    if (known.large) tooLarge.push(f.path);
    if (known.error !== undefined) unparsed.set(f.path, known.error);
    imports.set(f.path, known.specifiers);
    keys.set(f.path, known.keys);
  }
  const importers = lazyImporters(imports, makeResolver(new Set(files.map((f) => f.path)), aliases), keys);
  // Rewriting 20,000 lines costs more than parsing a few blobs again: the cache is rewritten
  // only when it is missing or lags this tree by more than REWRITE_STALE files.
  if (cacheFile && (index.size === stale.length || stale.length > REWRITE_STALE || index.size - imports.size > REWRITE_STALE)) {
    writeImportsIndex(cacheFile, new Map([...index].filter(([path]) => imports.has(path))));
  }
  return { importers, unparsed, tooLarge, parsed: wantedOids.length, cached: sources.length - stale.length };
}

/** `test.history` when the policy does not set it: commits of the claims ref read for co-changes. */
export const DEFAULT_HISTORY = 2000;

const logCommits = (revs: readonly string[], history: number, git: GitOptions): string[][] => {
  const out = runGit(['log', '-z', '--no-renames', '--no-merges', '--name-only', '--format=%x01', `--max-count=${history}`, ...revs, '--'], git).stdout.toString('utf8');
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
};

/** The recent history of the claims ref, kept between pushes: `<dir>/history-cache`. */
export const HISTORY_CACHE = 'history-cache';
const HISTORY_HEADER = 'agent-hooks history-cache 1';

function readHistoryCache(file: string): { tip: string; history: number; commits: string[][] } | undefined {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    const [magic, tip, history] = lines[0]!.split('\t');
    if (magic !== HISTORY_HEADER || !tip || !/^[0-9a-f]{40,64}$/.test(tip)) return undefined;
    const commits = lines.slice(1).filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
    if (!commits.every((c) => Array.isArray(c) && c.every((p) => typeof p === 'string'))) return undefined;
    return { tip, history: Number(history), commits: commits as string[][] };
  } catch {
    return undefined;
  }
}

/**
 * The path lists of the last `history` commits reachable from `tip` (a commit oid when
 * `cacheDir` is given), newest first, merges skipped (they repeat their parents' changes),
 * `--no-renames`. Bounded by `history` however long the history is, in one `git log`. With
 * `cacheDir`, the lists are kept in `history-cache` (written atomically; a corrupt one is
 * ignored) and a later tip that descends from the cached one reads only its new commits.
 * @throws GitError
 */
export function readRecentCommits(tip: string, history: number, git: GitOptions, cacheDir?: string): string[][] {
  if (history <= 0) return [];
  const file = cacheDir ? join(cacheDir, HISTORY_CACHE) : undefined;
  const cached = file ? readHistoryCache(file) : undefined;
  if (cached && cached.history === history && cached.tip === tip) return cached.commits;
  const incremental = cached && cached.history === history && isAncestor(cached.tip, tip, git);
  const commits = incremental ? [...logCommits([tip, '--not', cached.tip], history, git), ...cached.commits].slice(0, history) : logCommits([tip], history, git);
  if (file && /^[0-9a-f]{40,64}$/.test(tip)) {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(tmp, `${[`${HISTORY_HEADER}\t${tip}\t${history}`, ...commits.map((c) => JSON.stringify(c))].join('\n')}\n`);
      renameSync(tmp, file);
    } catch {
      rmSync(tmp, { force: true });
    }
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
  const isTest = ((globs) => (p: string) => globs.some((g) => g(p)))(request.policy.files.map((g) => compilePattern(g)));
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
  const coChanges = request.claimsTip && history > 0 ? countCoChanges(readRecentCommits(request.claimsTip, history, request.git, request.stateDir), request.changed, isTest) : undefined;
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
