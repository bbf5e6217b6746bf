// Lock files: `<locks-dir>/<task-id>.json` or `.txt`, one schema for both formats
// (DESIGN.md "Lock files"). Pure: bytes in, a LockFile or problems out.
import { parseJson } from './json.js';
import { globProblem, splitGlobList } from './glob.js';
import { TTL_MAX, TTL_MIN } from './policy.js';
import { formatTime, parseRfc3339, quote, showJson, suggest } from './text.js';

/** An agent id (DESIGN.md "Words"). */
export const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** A task id: the lock file's name without extension. */
export const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Larger lock files are rejected unread, in bytes. */
export const LOCK_FILE_MAX_BYTES = 64 * 1024;
/** Files in the locks dir that are not lock files. */
export const NOT_LOCK_FILES = ['.gitkeep', 'README.md'];

/** A valid lock file. Times are epoch milliseconds; `ttl` seconds, absent when the policy default applies. */
export interface LockFile {
  agent: string;
  started: number;
  description?: string;
  files: string[];
  ttl?: number;
  renewed?: number;
}

/** One schema problem: the text line (text format) or field it is about, what is wrong, what to do. */
export interface LockProblem {
  line?: number;
  field?: string;
  message: string;
  fix: string;
}

export type LockFileFormat = 'json' | 'txt';
export type LockFileResult = { ok: true; lock: LockFile } | { ok: false; problems: LockProblem[] };

/** What a path inside the locks dir is: a lock file of a task, an ignored file, or a stray. */
export type LocksDirEntry =
  | { kind: 'lock'; taskId: string; format: LockFileFormat }
  | { kind: 'ignored' }
  | { kind: 'stray'; reason: string };

/**
 * Classifies a path relative to the locks dir (`parser.json`, `sub/x.txt`). Strays are files
 * that are not lock files and are not allowed there: a typo like `parser.jsn` must not silently
 * fail to claim anything.
 */
export function classifyLocksDirEntry(name: string): LocksDirEntry {
  if (NOT_LOCK_FILES.includes(name)) return { kind: 'ignored' };
  if (name.includes('/')) return { kind: 'stray', reason: 'lock files live directly in the locks dir, not in subdirectories' };
  const m = /^(.*)\.(json|txt)$/.exec(name);
  if (!m) return { kind: 'stray', reason: 'not a lock file: name it <task-id>.json or <task-id>.txt' };
  if (!TASK_ID.test(m[1]!)) return { kind: 'stray', reason: `task id ${quote(m[1]!)} must match ${TASK_ID.source}` };
  return { kind: 'lock', taskId: m[1]!, format: m[2] as LockFileFormat };
}

const FIELDS = ['agent', 'started', 'description', 'files', 'ttl', 'renewed'] as const;
const EXAMPLE_TIME = '2026-11-21T16:04:05Z';

/** Options for judging a lock file: the server's clock (epoch ms) and the allowed skew (s). */
export interface LockCheckOptions {
  now: number;
  skew: number;
}

/**
 * Parses and validates one lock file. Every problem says which line (text format) or field,
 * and how to fix it. Also rejects a `started` or `renewed` more than `skew` seconds ahead of `now`.
 */
export function parseLockFile(bytes: Uint8Array, format: LockFileFormat, options: LockCheckOptions): LockFileResult {
  if (bytes.length > LOCK_FILE_MAX_BYTES) {
    return fail({ message: `is ${bytes.length} bytes; the limit is ${LOCK_FILE_MAX_BYTES}`, fix: 'keep only the lock fields in the file' });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail({ message: 'is not UTF-8 text', fix: `write it as text, e.g. "agent: <id>" and "started: ${EXAMPLE_TIME}" lines` });
  }
  if (text.includes('\0')) return fail({ message: 'is binary (contains NUL bytes)', fix: 'write it as UTF-8 text' });
  text = text.replace(/^\uFEFF/, '');
  const raw = format === 'json' ? readJsonFields(text) : readTextFields(text);
  if ('problems' in raw) return { ok: false, problems: raw.problems };
  return validateFields(raw.fields, format, options);
}

/** When the claim ends, in epoch ms: max(started, renewed) + ttl (the policy's when unset). */
export function lockExpiresAt(lock: LockFile, defaultTtl: number): number {
  return Math.max(lock.started, lock.renewed ?? 0) + (lock.ttl ?? defaultTtl) * 1000;
}

/** Formats a lock file in the given format (text: the seed `key: value` lines). */
export function formatLockFile(lock: LockFile, format: LockFileFormat = 'txt'): string {
  if (format === 'json') {
    const json: Record<string, unknown> = { agent: lock.agent, started: formatTime(lock.started) };
    if (lock.description !== undefined) json.description = lock.description;
    if (lock.files.length > 0) json.files = lock.files;
    if (lock.ttl !== undefined) json.ttl = lock.ttl;
    if (lock.renewed !== undefined) json.renewed = formatTime(lock.renewed);
    return `${JSON.stringify(json, null, 2)}\n`;
  }
  const lines = [`agent: ${lock.agent}`, `started: ${formatTime(lock.started)}`];
  if (lock.description !== undefined) lines.push(`description: ${lock.description}`);
  if (lock.files.length > 0) lines.push(`files: ${lock.files.join(', ')}`);
  if (lock.ttl !== undefined) lines.push(`ttl: ${lock.ttl}`);
  if (lock.renewed !== undefined) lines.push(`renewed: ${formatTime(lock.renewed)}`);
  return `${lines.join('\n')}\n`;
}

interface RawField {
  value: unknown;
  line?: number;
}
type RawFields = Map<string, RawField>;

const fail = (problem: LockProblem): LockFileResult => ({ ok: false, problems: [problem] });

function readTextFields(text: string): { fields: RawFields } | { problems: LockProblem[] } {
  const fields: RawFields = new Map();
  const problems: LockProblem[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const content = raw.replace(/\r$/, '');
    if (content.trim() === '' || content.trimStart().startsWith('#')) return;
    const m = /^\s*([^:\s][^:]*?)\s*:\s*(.*?)\s*$/.exec(content);
    if (!m) {
      problems.push({ line, message: `expected "key: value", got ${quote(content.slice(0, 80))}`, fix: `write line ${line} as "key: value" (keys: ${FIELDS.join(', ')})` });
      return;
    }
    const key = m[1]!;
    if (fields.has(key)) {
      problems.push({ line, field: key, message: `field "${key}" appears again (first on line ${fields.get(key)!.line})`, fix: `keep one "${key}" line` });
      return;
    }
    let value: unknown = m[2]!;
    if (key === 'files') value = splitGlobList(value as string);
    if (key === 'ttl' && /^\d+$/.test(value as string)) value = Number(value);
    fields.set(key, { value, line });
  });
  return problems.length > 0 ? { problems } : { fields };
}

function readJsonFields(text: string): { fields: RawFields } | { problems: LockProblem[] } {
  const json = parseJson(text);
  if (!json.ok) {
    return { problems: [{ line: json.line, message: `is not valid JSON: ${json.reason} at column ${json.column}`, fix: 'fix the JSON syntax, or use the text format ("key: value" lines) in a .txt file' }] };
  }
  const value = json.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { problems: [{ message: 'must be a JSON object', fix: `write {"agent": "<id>", "started": "${EXAMPLE_TIME}"}` }] };
  }
  return { fields: new Map(Object.entries(value).map(([key, v]) => [key, { value: v }])) };
}

function validateFields(fields: RawFields, format: LockFileFormat, options: LockCheckOptions): LockFileResult {
  const problems: LockProblem[] = [];
  const at = (field: string) => ({ field, line: fields.get(field)?.line });
  const show = (field: string, value: unknown) => (format === 'txt' ? `${field}: ${value}` : `"${field}": ${JSON.stringify(value)}`);

  for (const [key, { line }] of fields) {
    if ((FIELDS as readonly string[]).includes(key)) continue;
    const guess = suggest(key, FIELDS);
    problems.push({
      line,
      field: key,
      message: `unknown field ${showJson(key)}${guess ? ` (did you mean "${guess}"?)` : ''}`,
      fix: guess ? `rename "${key}" to "${guess}"` : `remove "${key}" (fields: ${FIELDS.join(', ')})`,
    });
  }

  const lock: Partial<LockFile> = { files: [] };
  const agent = fields.get('agent')?.value;
  if (agent === undefined) problems.push({ field: 'agent', message: 'missing required field "agent"', fix: `add ${show('agent', '<your-agent-id>')}` });
  else if (typeof agent !== 'string' || !AGENT_ID.test(agent)) {
    problems.push({ ...at('agent'), message: `"agent" must be an agent id matching ${AGENT_ID.source}, got ${showJson(agent)}`, fix: `set ${show('agent', '<your-agent-id>')}` });
  } else lock.agent = agent;

  for (const field of ['started', 'renewed'] as const) {
    const value = fields.get(field)?.value;
    if (value === undefined) {
      if (field === 'started') problems.push({ field, message: 'missing required field "started"', fix: `add ${show('started', EXAMPLE_TIME)}` });
      continue;
    }
    const ms = typeof value === 'string' ? parseRfc3339(value) : undefined;
    if (ms === undefined) {
      problems.push({ ...at(field), message: `"${field}" must be an RFC 3339 timestamp with a zone, got ${showJson(value)}`, fix: `write it like ${show(field, EXAMPLE_TIME)}` });
    } else if (ms > options.now + options.skew * 1000) {
      problems.push({
        ...at(field),
        message: `"${field}" ${formatTime(ms)} is in the future (server time ${formatTime(options.now)}, allowed skew ${options.skew}s)`,
        fix: `set ${field} to the current UTC time and check the agent's clock`,
      });
    } else lock[field] = ms;
  }

  const description = fields.get('description')?.value;
  if (description !== undefined) {
    if (typeof description !== 'string' || /[\r\n]/.test(description)) {
      problems.push({ ...at('description'), message: '"description" must be one line of text', fix: 'put the description on one line' });
    } else if (description.length > 1000) {
      problems.push({ ...at('description'), message: `"description" is ${description.length} characters; the limit is 1000`, fix: 'shorten the description' });
    } else lock.description = description;
  }

  const files = fields.get('files')?.value;
  if (files !== undefined) {
    if (!Array.isArray(files) || !files.every((f) => typeof f === 'string')) {
      problems.push({ ...at('files'), message: `"files" must be ${format === 'txt' ? 'a comma-separated list of globs' : 'an array of glob strings'}`, fix: `write it like ${show('files', format === 'txt' ? 'src/parser/**, test/parser/**' : ['src/parser/**'])}` });
    } else {
      for (const glob of files as string[]) {
        const problem = globProblem(glob);
        if (problem) {
          problems.push({ ...at('files'), message: `glob ${showJson(glob)} in "files" ${problem}`, fix: 'use globs relative to the repository root, e.g. src/parser/**' });
        }
      }
      lock.files = files as string[];
    }
  }

  const ttl = fields.get('ttl')?.value;
  if (ttl !== undefined) {
    if (!Number.isInteger(ttl) || (ttl as number) < TTL_MIN || (ttl as number) > TTL_MAX) {
      problems.push({ ...at('ttl'), message: `"ttl" must be whole seconds from ${TTL_MIN} to ${TTL_MAX}, got ${showJson(ttl)}`, fix: `set ${show('ttl', 7200)}` });
    } else lock.ttl = ttl as number;
  }

  return problems.length > 0 ? { ok: false, problems } : { ok: true, lock: lock as LockFile };
}
