// Red tests of the claims ref, kept in the bare repo's state dir (server/state.ts `red/`), and
// the cache of one test file's result on one tree (`test/results/`). Every write is atomic (a
// temp file renamed over the old), so the bisector may be killed at any moment and start again.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nextBisectStep, parseRedRecord, type Culprit, type FileResult, type RedRecord } from '../core/preexisting.js';
import { runGit, type GitOptions } from '../git/git.js';
import { statePaths } from './state.js';

/** At most this many first-parent commits of the claims ref are searched for the culprit. */
export const BISECT_WINDOW = 2000;

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);

function writeAtomic(path: string, text: string): void {
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

/** The file of the record of `test` on `ref`. */
const recordPath = (gitDir: string, ref: string, test: string) => join(statePaths(gitDir).red, `${hash(ref, test)}.json`);

/** The record of a red test, or undefined (none, or unreadable or malformed: treated as none; core/preexisting.ts parseRedRecord). */
export function readRedRecord(gitDir: string, ref: string, test: string): RedRecord | undefined {
  try {
    return parseRedRecord(readFileSync(recordPath(gitDir, ref, test), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Every red record of the repo (`statePaths(gitDir).red`), or only those of `ref` when given,
 * oldest first by `seen`. Unreadable or malformed files are skipped (parseRedRecord).
 */
export function listRedRecords(gitDir: string, ref?: string): RedRecord[] {
  const dir = statePaths(gitDir).red;
  if (!existsSync(dir)) return [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return names
    .flatMap((f) => {
      try {
        const r = parseRedRecord(readFileSync(join(dir, f), 'utf8'));
        return r && (ref === undefined || r.ref === ref) ? [r] : [];
      } catch {
        return [];
      }
    })
    .sort((a, b) => (a.seen < b.seen ? -1 : a.seen > b.seen ? 1 : 0));
}

/** Writes a record (atomically), replacing the one of the same ref and test. */
export function writeRedRecord(gitDir: string, record: RedRecord): void {
  mkdirSync(statePaths(gitDir).red, { recursive: true });
  writeAtomic(recordPath(gitDir, record.ref, record.test), JSON.stringify(record));
}

/**
 * Notes that `record.test` is red at `record.redAt` unless a record of that ref and test exists
 * already (the first sighting is bisected; later ones add nothing). Returns whether it was new.
 */
export function noteRed(gitDir: string, record: RedRecord): boolean {
  if (readRedRecord(gitDir, record.ref, record.test)) return false;
  writeRedRecord(gitDir, record);
  return true;
}

/**
 * Forgets the records of tests that passed on a tree pushed to `ref` (the claims ref): green
 * again, so a later failure is a new red with its own culprit. Returns the tests forgotten.
 */
export function clearRed(gitDir: string, ref: string, passed: readonly string[]): string[] {
  const cleared = passed.filter((test) => readRedRecord(gitDir, ref, test));
  for (const test of cleared) rmSync(recordPath(gitDir, ref, test), { force: true });
  return cleared;
}

/** The key of one file's result on one tree with one command (the result cache). */
const resultPath = (gitDir: string, tree: string, file: string, command: readonly string[]) => join(statePaths(gitDir).testResults, hash(tree, file, JSON.stringify(command)));

/** A cached result of `file` on `tree`, or undefined. */
export function readFileResult(gitDir: string, tree: string, file: string, command: readonly string[]): FileResult | undefined {
  try {
    const text = readFileSync(resultPath(gitDir, tree, file, command), 'utf8');
    return text === 'pass' || text === 'fail' ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Caches a result of `file` on `tree`. */
export function writeFileResult(gitDir: string, tree: string, file: string, command: readonly string[], result: FileResult): void {
  mkdirSync(statePaths(gitDir).testResults, { recursive: true });
  writeAtomic(resultPath(gitDir, tree, file, command), result);
}

/** Runs one test file on the tree of a commit: `pass` or `fail`. Given by the caller (it owns the test slots). */
export type RunFileOnTree = (tree: string, file: string) => Promise<FileResult>;

/** The commit as announced: full oid, committer name (the agent), subject. */
export function readCulprit(oid: string, git: GitOptions): Culprit {
  const [full, agent, subject] = runGit(['log', '-1', '--format=%H%x00%cn%x00%s', oid], git).stdout.toString('utf8').replace(/\n$/, '').split('\0');
  return { oid: full!, agent: agent ?? '', subject: subject ?? '' };
}

/**
 * Finds the commit that turned `record.test` red: a bisect of the first-parent history of
 * `record.redAt` (at most {@link BISECT_WINDOW} commits), running the one test on each tree it
 * probes (a tree without the test passes). Returns the record with `state` `found` (and the
 * culprit) or `unknown` (red as far back as the window goes; `since` is its oldest commit).
 */
export async function bisectRed(record: RedRecord, git: GitOptions, runFile: RunFileOnTree): Promise<RedRecord> {
  const lines = runGit(['rev-list', '--first-parent', `--max-count=${BISECT_WINDOW}`, '--format=%H %T', record.redAt], git).stdout.toString('utf8').split('\n');
  const commits = lines.filter((l) => /^[0-9a-f]+ [0-9a-f]+$/.test(l)).map((l) => ({ oid: l.split(' ')[0]!, tree: l.split(' ')[1]! }));
  const results = new Map<number, FileResult>([[0, 'fail']]);
  for (;;) {
    const step = nextBisectStep(commits.length, results);
    if (step.kind === 'found') return { ...record, state: 'found', culprit: readCulprit(commits[step.index]!.oid, git) };
    if (step.kind === 'unknown') return { ...record, state: 'unknown', since: commits.at(-1)?.oid ?? record.redAt };
    const { oid, tree } = commits[step.index]!;
    const present = runGit(['ls-tree', '--name-only', oid, '--', record.test], git).stdout.toString('utf8').trim() !== '';
    results.set(step.index, present ? await runFile(tree, record.test) : 'pass');
  }
}
