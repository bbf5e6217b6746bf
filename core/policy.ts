// The policy: `agent-hooks.json` at the root of the claims ref's tree (DESIGN.md "Settings").
// Pure: text in, a Policy or readable problems out.
import { compilePattern, globProblem } from './glob.js';
import { parseJson } from './json.js';
import { showJson, suggest } from './text.js';

export const POLICY_FILE = 'agent-hooks.json';

/** Settings for sampled tests (DESIGN.md "Fast test sampling"); times in seconds. */
export interface TestPolicy {
  command: string[];
  files: string[];
  sample: number;
  always: string[];
  timeout: number;
  setup?: string[];
  setupInputs?: string[];
  refs?: string[];
  /** Whether tests may use the network (sandboxed runs; default false: only the sandbox's own loopback). */
  network?: boolean;
  /** Whether `setup` may use the network (sandboxed runs; default true, e.g. for `npm ci`). */
  setupNetwork?: boolean;
  /** A JUnit XML report the command writes, relative to the checkout: names failing tests and shows which files ran. */
  junit?: string;
  /** `{"src/parser/**": ["test/parser/**"]}`: a change to a path matching a key selects the test files matching its globs. */
  map?: Record<string, string[]>;
  /** Affected tests beyond this fraction of all test files are cut by evidence rank (default 0.5). */
  maxAffected?: number;
  /** How many recent commits of the claims ref are read for co-changes (default 2000; 0: none). */
  history?: number;
  /** A test that fails on the claims ref's old tip too: `accept` the push with a WARNING (the default) or `reject` it. */
  preexisting?: 'accept' | 'reject';
}

/** The landing queue's settings (DESIGN.md "The landing queue"); `wait` in seconds, `batch` entries. */
export interface QueuePolicy {
  enabled: boolean;
  required: boolean;
  batch: number;
  retries: number;
  wait: number;
}

export const QUEUE_DEFAULTS: QueuePolicy = { enabled: false, required: false, batch: 8, retries: 1, wait: 1800 };

/** The whole policy with defaults filled in. `locks.ttl` and `locks.skew` are seconds. */
export interface Policy {
  locks: { dir: string; ttl: number; skew: number };
  leases: { exempt: string[] };
  test?: TestPolicy;
  notify: { rejections: boolean };
  /** The landing queue (DESIGN.md "The landing queue"). */
  queue: QueuePolicy;
}

const DEFAULTS = {
  locks: { dir: 'current_tasks', ttl: 7200, skew: 300 },
  notify: { rejections: false },
} as const;

/** Bounds of a lock file's `ttl`, in seconds (DESIGN.md "Lock files"). */
export const TTL_MIN = 60;
export const TTL_MAX = 604800;

export type PolicyResult = { ok: true; policy: Policy } | { ok: false; problems: string[] };

type Check = (value: unknown) => string | undefined;

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');
const stringArray: Check = (v) => (isStringArray(v) ? undefined : 'must be an array of non-empty strings');
const argv: Check = (v) => (isStringArray(v) && v.length > 0 ? undefined : 'must be a non-empty array of strings (an argv, no shell)');
const wholeSeconds = (min: number, max: number): Check => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `must be whole seconds from ${min} to ${max}`;
const wholeNumber = (min: number, max: number): Check => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `must be a whole number from ${min} to ${max}`;
const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');
/** Why a glob of `test.*` is not acceptable (the lease rules, and picomatch must compile it). */
function testGlobProblem(glob: string): string | undefined {
  const problem = globProblem(glob);
  if (problem) return problem;
  try {
    compilePattern(glob)('x');
    return undefined;
  } catch (error) {
    return `is not a valid glob (${(error as Error).message})`;
  }
}

const testMap: Check = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be an object of globs to arrays of test globs, e.g. {"src/parser/**": ["test/parser/**"]}';
  for (const [from, to] of Object.entries(v)) {
    const keyProblem = testGlobProblem(from);
    if (keyProblem) return `key ${showJson(from)} ${keyProblem}`;
    if (!isStringArray(to) || to.length === 0) return `${showJson(from)} must map to a non-empty array of test globs`;
    for (const glob of to) {
      const problem = testGlobProblem(glob);
      if (problem) return `glob ${showJson(glob)} of ${showJson(from)} ${problem}`;
    }
  }
  return undefined;
};

const oneOf = (values: readonly string[]): Check => (v) => {
  if (typeof v === 'string' && values.includes(v)) return undefined;
  const guess = typeof v === 'string' ? suggest(v, [...values]) : undefined;
  return `must be ${values.map((x) => JSON.stringify(x)).join(' or ')}, not ${showJson(v)}${guess ? ` (did you mean "${guess}"?)` : ''}`;
};
const fraction: Check = (v) => (typeof v === 'number' && v > 0 && v <= 1 ? undefined : 'must be a number greater than 0 and at most 1');

/** A relative POSIX path inside the repository: no leading `/`, no `.` or `..` segment, no `\`. */
export function relativePathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return 'must be relative (no leading "/")';
  if (path.includes('\\')) return 'must use "/" as separator (no "\\")';
  if (path.split('/').some((s) => s === '..')) return 'must not contain ".."';
  if (path.split('/').some((s) => s === '.' || s === '')) return 'must not contain "." or empty segments (no leading "./", no "//")';
  return undefined;
}

const locksDir: Check = (v) => {
  if (typeof v !== 'string') return 'must be a string';
  const problem = relativePathProblem(v);
  if (problem) return problem;
  return /[*?[\]{}!]/.test(v) ? 'must be a plain directory name, not a glob' : undefined;
};

const SCHEMA: Record<string, Record<string, Check>> = {
  locks: { dir: locksDir, ttl: wholeSeconds(TTL_MIN, TTL_MAX), skew: wholeSeconds(0, 86400) },
  leases: { exempt: stringArray },
  test: {
    command: argv,
    files: stringArray,
    sample: fraction,
    always: stringArray,
    timeout: wholeSeconds(1, 86400),
    setup: argv,
    setupInputs: stringArray,
    refs: stringArray,
    network: boolean,
    setupNetwork: boolean,
    junit: (v) => (typeof v === 'string' ? relativePathProblem(v) : 'must be a relative path'),
    map: testMap,
    maxAffected: fraction,
    history: (v) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100000 ? undefined : 'must be a whole number of commits from 0 to 100000'),
    preexisting: oneOf(['accept', 'reject']),
  },
  notify: { rejections: boolean },
  queue: { enabled: boolean, required: boolean, batch: wholeNumber(1, 100), retries: wholeNumber(0, 5), wait: wholeSeconds(1, 86400) },
};

/**
 * Validates the text of `agent-hooks.json`. Every problem is one readable string naming the key,
 * e.g. `locks.ttl: must be whole seconds from 60 to 604800`; unknown keys are problems too, with
 * the key that was probably meant. `test.command` and `test.files` are required when `test` is set.
 */
export function parsePolicy(text: string): PolicyResult {
  const parsed = parseJson(text);
  if (!parsed.ok) return { ok: false, problems: [`line ${parsed.line}: not valid JSON: ${parsed.reason} at column ${parsed.column}`] };
  const json = parsed.value;
  if (!isObject(json)) return { ok: false, problems: ['must be a JSON object'] };
  const problems: string[] = [];
  for (const [section, value] of Object.entries(json)) {
    // Own keys only: SCHEMA['__proto__'] would be Object.prototype.
    const fields = Object.hasOwn(SCHEMA, section) ? SCHEMA[section] : undefined;
    if (!fields) {
      problems.push(unknownKey(section, Object.keys(SCHEMA)));
      continue;
    }
    if (!isObject(value)) {
      problems.push(`${section}: must be an object`);
      continue;
    }
    for (const [key, fieldValue] of Object.entries(value)) {
      const check = Object.hasOwn(fields, key) ? fields[key] : undefined;
      const problem = check ? check(fieldValue) : unknownKey(`${section}.${key}`, Object.keys(fields).map((k) => `${section}.${k}`));
      if (problem) problems.push(check ? `${section}.${key}: ${problem}` : problem);
    }
    if (section === 'test') {
      for (const required of ['command', 'files']) {
        if (!(required in value)) problems.push(`test.${required}: required when "test" is set`);
      }
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const p = json as Record<string, Record<string, unknown>>;
  const locks = { ...DEFAULTS.locks, ...p.locks } as Policy['locks'];
  const policy: Policy = {
    locks,
    // The locks dir and the policy file can never be leased (DESIGN.md "Settings").
    leases: { exempt: [...new Set([`${locks.dir}/**`, POLICY_FILE, ...((p.leases?.exempt as string[] | undefined) ?? [])])] },
    notify: { ...DEFAULTS.notify, ...p.notify } as Policy['notify'],
    queue: { ...QUEUE_DEFAULTS, ...p.queue } as QueuePolicy,
  };
  if (p.test) policy.test = { sample: 0.1, always: [], timeout: 300, ...p.test } as unknown as TestPolicy;
  return { ok: true, policy };
}

/** The defaults with the exempt paths filled in, as used when there is no policy file. */
export function defaultPolicy(): Policy {
  const result = parsePolicy('{}');
  if (!result.ok) throw new Error('the default policy does not validate');
  return result.policy;
}

function unknownKey(key: string, known: string[]): string {
  const guess = suggest(key, known);
  return `${showJson(key)}: unknown key${guess ? ` (did you mean "${guess}"?)` : ''}; known: ${known.join(', ')}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The policy of a commit (defaults when it has none) and the problems of an invalid file. */
export function policyFromText(text: string | undefined): { policy: Policy; problems: string[] } {
  if (text === undefined) return { policy: defaultPolicy(), problems: [] };
  const result = parsePolicy(text);
  return result.ok ? { policy: result.policy, problems: [] } : { policy: defaultPolicy(), problems: result.problems };
}
