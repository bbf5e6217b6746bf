// The git CLI through child_process, synchronously: the runner of hooks and short commands.
// Hooks run one step after another, so synchronous calls keep them simple and lean (long-lived
// processes use git/git-async.ts, which shares GitError and the options); each call
// inherits the environment, which is how a pre-receive hook sees the quarantined objects
// (GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES; githooks(5), "pre-receive").
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TreeEntry } from '../core/claim.js';

/**
 * Options for one git call. `okExitCodes` lists exit codes that are answers, not failures
 * (default [0]); `null` in it makes a git killed by a signal an answer too.
 */
export interface GitOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Uint8Array;
  okExitCodes?: (number | null)[];
  /** Kill git after this many ms (default: no limit). */
  timeoutMs?: number;
}

/**
 * The process environment without inherited `GIT_*` variables: for git commands aimed at another
 * repository than the one a hook runs in, and for processes a hook starts (the Slack sender).
 */
export function cleanGitEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('GIT_')));
}

/** A git command failed: the arguments, exit code (or signal) and git's own message. */
export class GitError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    const detail = stderr.trim().split('\n').pop() ?? '';
    super(`git ${args.join(' ')} failed${exitCode === null ? '' : ` with exit code ${exitCode}`}${detail ? `: ${detail}` : ''}`, options);
    this.name = 'GitError';
  }
}

/** The result of a git call: raw stdout and stderr, and the exit code (one of `okExitCodes`). */
export interface GitResult {
  stdout: Buffer;
  stderr: Buffer;
  /** null: killed by a signal (only when `okExitCodes` allows it). */
  exitCode: number | null;
}

/**
 * Runs `git <args>` and returns its output.
 * @throws GitError when git cannot start, is killed, or exits with a code not in `okExitCodes`.
 */
export function runGit(args: readonly string[], options: GitOptions = {}): GitResult {
  const result = spawnSync('git', args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    input: options.input,
    maxBuffer: 1 << 30,
    timeout: options.timeoutMs,
  });
  if (result.error) throw new GitError(args, null, result.error.message, { cause: result.error });
  const exitCode = result.status;
  if (!(options.okExitCodes ?? [0]).includes(exitCode)) {
    throw new GitError(args, exitCode, exitCode === null ? `${result.stderr.toString()}\nkilled by ${result.signal ?? 'a signal'}` : result.stderr.toString());
  }
  return { stdout: result.stdout, stderr: result.stderr, exitCode };
}

/** `git <args>` with stdout as text, the trailing newline removed. @throws GitError */
export function gitText(args: readonly string[], options: GitOptions = {}): string {
  return runGit(args, options).stdout.toString('utf8').replace(/\n$/, '');
}

/** One object read by `git cat-file --batch`: its oid, type, and content bytes. */
export interface GitObject {
  oid: string;
  type: string;
  content: Buffer;
}

/** The `git cat-file --batch` input for these specs. @throws GitError when a spec holds a newline. */
export function batchInput(specs: readonly string[]): string {
  for (const spec of specs) {
    if (spec.includes('\n')) throw new GitError(['cat-file', '--batch'], null, `object name contains a newline: ${JSON.stringify(spec)}`);
  }
  return `${specs.join('\n')}\n`;
}

/**
 * Parses the output of `git cat-file --batch` for these specs, in order. Missing objects map to
 * undefined. @throws GitError when the output is cut short.
 */
export function parseBatchOutput(out: Buffer, specs: readonly string[]): Map<string, GitObject | undefined> {
  return parseBatchAnswers(out, specs, [], ['cat-file', '--batch']).objects;
}

/**
 * Parses `git cat-file` answers in order: for each of `specs` a header and the content (`--batch`,
 * or `contents` of `--batch-command`), then for each of `infoSpecs` a header only (`info`).
 * Missing objects ("<spec> missing", "ambiguous") map to undefined.
 * @throws GitError (naming `args`) when the output is cut short.
 */
function parseBatchAnswers(out: Buffer, specs: readonly string[], infoSpecs: readonly string[], args: string[]): { objects: Map<string, GitObject | undefined>; info: Map<string, ObjectInfo | undefined> } {
  const objects = new Map<string, GitObject | undefined>();
  const info = new Map<string, ObjectInfo | undefined>();
  let at = 0;
  const header = (spec: string): ObjectInfo | undefined => {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) throw new GitError(args, 0, `output ended before the answer for ${spec}`);
    const m = /^([0-9a-f]+) (\S+) (\d+)$/.exec(out.toString('utf8', at, eol));
    at = eol + 1;
    return m ? { oid: m[1]!, type: m[2]!, size: Number(m[3]) } : undefined;
  };
  for (const spec of specs) {
    const h = header(spec);
    if (h && at + h.size > out.length) throw new GitError(args, 0, `output ended inside the content of ${spec}`);
    objects.set(spec, h ? { oid: h.oid, type: h.type, content: out.subarray(at, at + h.size) } : undefined);
    if (h) at += h.size + 1;
  }
  for (const spec of infoSpecs) info.set(spec, header(spec));
  return { objects, info };
}

/**
 * Reads many objects in one `git cat-file --batch` process. Each spec is anything
 * `git cat-file` accepts (`<oid>`, `<rev>:<path>`). Missing objects map to undefined.
 * @throws GitError when git fails, or its output is cut short.
 */
export function readObjects(specs: readonly string[], options: GitOptions = {}): Map<string, GitObject | undefined> {
  if (specs.length === 0) return new Map();
  const input = batchInput(specs);
  return parseBatchOutput(runGit(['cat-file', '--batch'], { ...options, input }).stdout, specs);
}

/** An object's header from `git cat-file` `info`: its oid, type and size in bytes, never its content. */
export interface ObjectInfo {
  oid: string;
  type: string;
  size: number;
}

/**
 * Objects and object headers in one `git cat-file --batch-command` process (git >= 2.36,
 * git-cat-file(1)): `contents` of each of `specs` (as {@link readObjects}), and `info` of each of
 * `infoSpecs` (oid, type and size only: a pushed tag of a large blob is never read into memory).
 * Missing objects map to undefined. One process instead of a `--batch` and a `--batch-check`
 * (a hook's git processes are most of its time, issue 18).
 * @throws GitError when git fails, or its output is cut short.
 */
export function readObjectsAndInfo(specs: readonly string[], infoSpecs: readonly string[], options: GitOptions = {}): { objects: Map<string, GitObject | undefined>; info: Map<string, ObjectInfo | undefined> } {
  if (specs.length === 0 && infoSpecs.length === 0) return { objects: new Map(), info: new Map() };
  batchInput([...specs, ...infoSpecs]); // refuses a newline in any spec
  const input = [...specs.map((s) => `contents ${s}\n`), ...infoSpecs.map((s) => `info ${s}\n`)].join('');
  const args = ['cat-file', '--batch-command'];
  return parseBatchAnswers(runGit(args, { ...options, input }).stdout, specs, infoSpecs, args);
}

/**
 * Lists the files under `dir` in a tree-ish, recursively, with sizes
 * (`git ls-tree -r -l -z --full-tree`; `dir` is a literal path, never a pathspec pattern).
 * @throws GitError
 */
export function listTree(treeish: string, dir: string, options: GitOptions = {}): TreeEntry[] {
  return parseTreeListing(runGit(listTreeArgs(treeish, dir), options).stdout.toString('utf8'));
}

/** The arguments of {@link listTree}'s `git ls-tree`. */
export const listTreeArgs = (treeish: string, dir: string): string[] => ['--literal-pathspecs', 'ls-tree', '-r', '-l', '-z', '--full-tree', treeish, '--', `${dir}/`];

/** Parses `git ls-tree -r -l -z` output into tree entries. */
export function parseTreeListing(out: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of out.split('\0')) {
    if (record === '') continue;
    const tab = record.indexOf('\t');
    const [mode, type, oid, size] = record.slice(0, tab).split(/ +/) as [string, TreeEntry['type'], string, string];
    entries.push({ mode, type, oid, size: size === '-' ? undefined : Number(size), path: record.slice(tab + 1) });
  }
  return entries;
}

/**
 * The index entries of these paths (`git ls-files --stage`, honouring `GIT_INDEX_FILE`) as
 * tree entries, with sizes from `git cat-file --batch-check`. A path not in the index (a staged
 * deletion) is left out. @throws GitError
 */
export function readIndexEntries(paths: readonly string[], options: GitOptions = {}): TreeEntry[] {
  if (paths.length === 0) return [];
  const staged = runGit(['--literal-pathspecs', 'ls-files', '--stage', '-z', '--', ...paths], options).stdout.toString('utf8').split('\0').filter(Boolean);
  const entries = staged.map((record) => {
    const tab = record.indexOf('\t');
    const [mode, oid] = record.slice(0, tab).split(' ') as [string, string];
    return { mode, oid, path: record.slice(tab + 1) };
  });
  const checks = runGit(['cat-file', '--batch-check'], { ...options, input: entries.map((e) => `${e.oid}\n`).join('') }).stdout.toString('utf8').split('\n');
  return entries.map((e, i) => {
    const [, type, size] = (checks[i] ?? '').split(' ');
    return { ...e, type: (type ?? 'blob') as TreeEntry['type'], size: size === undefined ? undefined : Number(size) };
  });
}

/** Whether `ancestor` is an ancestor of (or equal to) `descendant` (`git merge-base --is-ancestor`). @throws GitError */
export function isAncestor(ancestor: string, descendant: string, options: GitOptions = {}): boolean {
  return runGit(['merge-base', '--is-ancestor', ancestor, descendant], { ...options, okExitCodes: [0, 1] }).exitCode === 0;
}

/**
 * Every `git config` value whose key matches a regexp (as `git config --get-regexp` takes it,
 * e.g. `^agenthooks\.`): lower-cased key -> values in order. @throws GitError
 */
export function readConfig(keyPattern: string, options: GitOptions = {}): Map<string, string[]> {
  const out = runGit(['config', '-z', '--get-regexp', keyPattern], { ...options, okExitCodes: [0, 1] }).stdout.toString('utf8');
  const config = new Map<string, string[]>();
  for (const record of out.split('\0')) {
    if (record === '') continue;
    const nl = record.indexOf('\n');
    const key = (nl < 0 ? record : record.slice(0, nl)).toLowerCase();
    const value = nl < 0 ? 'true' : record.slice(nl + 1);
    config.set(key, [...(config.get(key) ?? []), value]);
  }
  return config;
}

/** The value of a `git config` boolean as git reads it (`true`, `yes`, `on`, `1`). */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(true|yes|on|1)$/i.test(value.trim());
}

/** The commit's committer name or the tag's tagger name, from a raw object (`cat-file` content). */
export function identityNameOf(object: GitObject): string | undefined {
  const header = object.content.toString('utf8', 0, Math.min(object.content.length, 64 * 1024)).split('\n\n')[0] ?? '';
  const line = header.split('\n').find((l) => l.startsWith(object.type === 'tag' ? 'tagger ' : 'committer '));
  const m = line ? /^\S+ (.*?) <[^>]*> \d+ [+-]\d{4}$/.exec(line) : null;
  return m?.[1];
}

/**
 * The file paths in a tree-ish (`git ls-tree -r --name-only -z --full-tree`): every one, or those
 * under `under` (literal directories or files, matched component by component as git's literal
 * pathspecs are; '' is the root). Every path when `under` is omitted, none when it is empty.
 * @throws GitError
 */
export function listPaths(treeish: string, options: GitOptions = {}, under?: readonly string[]): string[] {
  const all = under === undefined || under.includes('');
  if (!all && under.length === 0) return [];
  const pathspecs = all ? [] : ['--', ...new Set(under)];
  return runGit([...(all ? [] : ['--literal-pathspecs']), 'ls-tree', '-r', '--name-only', '-z', '--full-tree', treeish, ...pathspecs], options).stdout.toString('utf8').split('\0').filter((p) => p !== '');
}

const COMMIT_HEADER = /^\x01([0-9a-f]{40}|[0-9a-f]{64})((?: [0-9a-f]{40}| [0-9a-f]{64})*) ?$/;

/**
 * The paths changed by every commit reachable from `tip` and from none of `excludes`, each
 * with the oldest such commit that changed it. Renames count as deletion plus addition
 * (`--no-renames`); a merge counts only the paths it changes beyond all its parents
 * (`-c`, combined diff); mode changes, symlinks and submodule entries count like files.
 * `walked`, when given, receives every commit walked with its parents: an excluded commit is an
 * ancestor of `tip` exactly when it is one of their parents (or is `tip`), which spares a
 * `git merge-base --is-ancestor`; and when the only commit walked is `tip` with the single
 * parent `from`, the paths are exactly `git diff-tree <from> <tip>`'s (issue 18).
 * @throws GitError
 */
export function readChangedPaths(tip: string, excludes: readonly string[], options: GitOptions = {}, walked?: Map<string, string[]>): Map<string, string> {
  const args = ['log', '-z', '--no-renames', '-c', '--name-only', '--format=%x01%H %P', tip, '--not', ...excludes, '--'];
  const paths = new Map<string, string>();
  let commit = '';
  for (const token of runGit(args, options).stdout.toString('utf8').split('\0')) {
    const header = COMMIT_HEADER.exec(token);
    if (header) {
      commit = header[1]!;
      walked?.set(commit, header[2]!.split(' ').filter((p) => p !== ''));
      continue;
    }
    const path = token.replace(/^\n/, '');
    // git log lists newest first; keep overwriting so the oldest commit wins.
    if (path !== '') paths.set(path, commit);
  }
  return paths;
}

/** The oid a ref points at now, or undefined when it does not exist. @throws GitError */
export function readRef(refName: string, git: GitOptions): string | undefined {
  return gitText(['rev-parse', '-q', '--verify', `${refName}^{commit}`], { ...git, okExitCodes: [0, 1] }) || undefined;
}

/**
 * The net change between two tree-ishes (DESIGN.md rule 5 (b)): every path whose entry differs
 * (`git diff-tree -r --no-renames --name-only -z <from> <to>`), so both sides of a rename,
 * deletions, mode and type changes count, and a merge that resolves a path back to an old
 * version shows where `git log -c` would hide it. @throws GitError
 */
export function readNetChangedPaths(from: string, to: string, options: GitOptions = {}): string[] {
  return runGit(['diff-tree', '-r', '--no-renames', '--name-only', '-z', from, to, '--'], options).stdout.toString('utf8').split('\0').filter((p) => p !== '');
}

/** The `info` specs that peel these oids (`<oid>^{}`), for {@link readObjectsAndInfo}. */
export const peelSpecs = (oids: readonly string[]): string[] => oids.map((o) => `${o}^{}`);

/**
 * What each object finally is once tags are peeled, from the answers to {@link peelSpecs} given
 * by {@link readObjectsAndInfo}: `commit`, `tree` or `blob`, or undefined when missing. A ref may
 * point at a tag of a tree, whose paths `git log` never lists.
 */
export function peeledTypesOf(oids: readonly string[], info: ReadonlyMap<string, ObjectInfo | undefined>): Map<string, string | undefined> {
  const types = new Map<string, string | undefined>();
  for (const oid of oids) {
    const type = info.get(`${oid}^{}`)?.type;
    types.set(oid, type === 'commit' || type === 'tree' || type === 'blob' ? type : undefined);
  }
  return types;
}

/**
 * The ref HEAD points at in `gitDir` (absolute), as `git symbolic-ref -q HEAD` gives it, or ''
 * when HEAD is detached. Read from the file `<gitDir>/HEAD` when it holds `ref: refs/...` (the
 * files backend's format, gitrepository-layout(5)), which saves a git process per hook; anything
 * else (a detached oid, a symlink HEAD pointing at a ref file, reftable's placeholder
 * `refs/heads/.invalid`, an unreadable file) is left to git. @throws GitError
 */
export function readHeadRef(gitDir: string, options: GitOptions = {}): string {
  let text: string | undefined;
  try {
    text = readFileSync(join(gitDir, 'HEAD'), 'utf8');
  } catch {
    text = undefined;
  }
  const m = text === undefined ? null : /^ref: (refs\/[^\s]+)\n?$/.exec(text);
  if (m && !m[1]!.endsWith('/.invalid')) return m[1]!;
  return gitText(['symbolic-ref', '-q', 'HEAD'], { ...options, okExitCodes: [0, 1] });
}
