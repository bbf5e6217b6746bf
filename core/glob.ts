// Lease patterns (DESIGN.md "Lock files": `files`): validating and compiling one glob. Pure.
//
// Glob rules (picomatch syntax, measured pitfalls):
// - A pattern with no `*`, `?`, `{` and no extglob (`@(`, `!(`, `+(`, `?(`, `*(`) is a literal
//   path: it matches that path and, if it is a directory, everything under it (as a git pathspec
//   does). Brackets in a literal are themselves: `app/[id]` leases the directory `app/[id]`.
// - Anything else is a picomatch glob, case-sensitive, with dot files matched (`src/**` covers
//   `src/.env`). In a glob `[...]` is a character class; write `\[` and `\]` for brackets.
// - In one claim's `files`, a pattern starting with `!` excludes paths from that claim's lease.
// - Exempt paths (the locks dir, the policy file, `leases.exempt`) are never leased.
import picomatch from 'picomatch';

const GLOB_SYNTAX = /[*?{]|[@!+](?=\()/;

/** Whether a pattern is a glob (else a literal path): any unescaped `*`, `?`, `{` or extglob. */
export function isGlobPattern(pattern: string): boolean {
  return GLOB_SYNTAX.test(pattern.replace(/\\./g, ''));
}

/** Removes backslash escapes: `app/\[id\]` -> `app/[id]`. */
export const unescapeGlob = (pattern: string) => pattern.replace(/\\(.)/g, '$1');

/**
 * Splits a comma-separated list of globs (the `.txt` lock format, `claim --files`) at top-level
 * commas only: a comma inside `{}`, `[]` or `()`, or escaped with `\`, belongs to its pattern
 * (`src/{parser,lexer}/**` stays one glob). Items are trimmed; empty ones dropped.
 */
export function splitGlobList(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c === '\\' && i + 1 < list.length) {
      current += c + list[++i]!;
      continue;
    }
    if (c === '{' || c === '[' || c === '(') depth++;
    else if ((c === '}' || c === ']' || c === ')') && depth > 0) depth--;
    if (c === ',' && depth === 0) {
      items.push(current);
      current = '';
    } else current += c;
  }
  items.push(current);
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Why the brackets of a glob cannot match: an unescaped `{`, `(` without its closing partner (or
 * a stray closing one), which picomatch would take literally, so the lease would protect only a
 * path with that odd name (`src/{parser` from a list cut at a comma). Undefined when balanced.
 * `[` is left alone: in a literal path it is itself (`app/[id]`).
 */
export function unbalancedProblem(pattern: string): string | undefined {
  const open: string[] = [];
  const pairs: Record<string, string> = { '}': '{', ')': '(' };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // A character class: skip to its end (a `]` right after `[` or `[!` is literal).
      let j = i + 1;
      if (pattern[j] === '!' || pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      if (j < pattern.length) i = j;
      continue;
    }
    if (c === '{' || c === '(') open.push(c);
    else if (c === '}' || c === ')') {
      if (open.pop() !== pairs[c]) return `has an unbalanced "${c}": it cannot match the paths it names (write "\\${c}" for the character itself)`;
    }
  }
  const left = open.pop();
  return left ? `has an unbalanced "${left}": it cannot match the paths it names (in a list, a comma inside braces belongs to the glob; write "\\${left}" for the character itself)` : undefined;
}

/**
 * Why a lease pattern is not acceptable, or undefined: a relative POSIX path or glob, no leading
 * `/` or `./`, no `.`, `..` or empty segments, `\` only to escape a glob character, balanced
 * braces and parentheses, and a bounded complexity ({@link complexityProblem}).
 */
export function globProblem(glob: string): string | undefined {
  const pattern = glob.startsWith('!') ? glob.slice(1) : glob;
  if (pattern === '') return 'is empty';
  if (pattern.startsWith('/')) return 'must be relative (no leading "/")';
  if (/\\(?![*?[\]{}()!+@\\])|\\$/.test(pattern)) return 'must use "/" as separator ("\\" only escapes a glob character)';
  const segments = pattern.split('/');
  if (segments.includes('..')) return 'must not contain ".."';
  if (segments.some((s) => s === '.' || s === '')) return 'must not contain "." or empty segments (no leading "./", no "//")';
  return unbalancedProblem(pattern) ?? complexityProblem(pattern);
}

/**
 * Wildcards that make picomatch's regex backtrack, counted: each `**` segment (a run of them
 * counts once) and each run of `*` inside another segment. Matching time grows roughly as the
 * path length to this power (measured, issue 13 item 11: `gen/**\/` then ten `*?` took 4.5 s on a
 * 34-character path; `**\/a*\/**\/a*\/**\/a*\/x` 112 s). A quantified extglob (`*(…)`, `+(…)`)
 * holding a wildcard nests quantifiers and is Infinity.
 */
export function globCost(pattern: string): number {
  const plain = pattern.replace(/\\./g, 'x');
  if (/[*+]\([^)]*[*?]/.test(plain)) return Infinity;
  let cost = 0;
  let afterGlobstar = false;
  for (const segment of plain.split('/')) {
    if (segment === '**') {
      if (!afterGlobstar) cost++;
      afterGlobstar = true;
      continue;
    }
    afterGlobstar = false;
    cost += (segment.match(/\*+/g) ?? []).length;
  }
  return cost;
}

/** The most {@link globCost} a lease glob may have: `src/**\/*.test.*` and `**\/test/**\/*.ts` are 3. */
export const MAX_GLOB_COST = 3;
/** The longest lease glob, in characters. */
export const MAX_GLOB_LENGTH = 1024;
/**
 * Paths longer than this (characters) are not run through a glob's regex: they count as matched
 * when they lie under the glob's literal base directory (fail closed), which bounds matching time.
 */
export const MAX_MATCHED_PATH = 1024;

/** Why a glob is too costly to match (ReDoS), or undefined. */
export function complexityProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_GLOB_LENGTH) return `is ${pattern.length} characters; the limit is ${MAX_GLOB_LENGTH}`;
  const cost = globCost(pattern);
  if (cost > MAX_GLOB_COST) {
    return cost === Infinity
      ? 'nests a wildcard inside a repeated extglob ("*(" or "+("), which can stall matching; use a simpler glob'
      : `has ${cost} wildcard runs ("**" segments and "*" runs); at most ${MAX_GLOB_COST} are allowed, since each one multiplies matching time; split it into simpler globs`;
  }
  return undefined;
}

/** The literal directory a glob can only match under ('' for `**` or `*.ts`), unescaped. */
export function globBase(pattern: string): string {
  if (!isGlobPattern(pattern)) return unescapeGlob(pattern);
  const literal: string[] = [];
  for (const segment of pattern.split('/')) {
    if (/[*?[\]{}()!+@]/.test(segment.replace(/\\./g, ''))) break;
    literal.push(unescapeGlob(segment));
  }
  return literal.join('/');
}

/**
 * Whether `path` is one of `bases` or lies under one, component by component (`src/parser` holds
 * `src/parser` and `src/parser/a.ts`, not `src/parser-x`), as git matches a literal pathspec;
 * the base '' holds every path. With {@link globBase}: a glob can only match under its base.
 */
export function isUnderAny(path: string, bases: readonly string[]): boolean {
  return bases.some((b) => b === '' || path === b || (path.startsWith(b) && path.charCodeAt(b.length) === 47));
}

/**
 * A matcher for one pattern: literal paths by equality or directory prefix, globs by picomatch.
 * Bounded time: a glob over {@link complexityProblem}'s limits (one already on the claims ref
 * from before the limit) and a path longer than {@link MAX_MATCHED_PATH} are judged by the
 * glob's literal base alone (`whenCostly` 'match', for leases: errs on the side of the lease),
 * or match nothing ('miss', for exempt globs and a lease's `!` exclusions: the same side).
 * `nocase` ignores case (for case-variant collisions, core/lease.ts).
 */
export function compilePattern(pattern: string, whenCostly: 'match' | 'miss' = 'match', nocase = false): (path: string) => boolean {
  const fold = nocase ? (text: string) => text.toLowerCase() : (text: string) => text;
  if (!isGlobPattern(pattern)) {
    const literal = fold(unescapeGlob(pattern));
    return (path) => fold(path) === literal || fold(path).startsWith(`${literal}/`);
  }
  const base = fold(globBase(pattern));
  const underBase = whenCostly === 'miss' ? () => false : (path: string) => isUnderAny(fold(path), [base]);
  if (complexityProblem(pattern)) return underBase;
  // flags 's': git allows newlines in paths, and without dotAll a `.` in picomatch's regex would
  // not match one, so `leased/**` would miss `leased/a<LF>b` (found by test/hostile-inputs).
  // picomatch takes `flags` over `nocase`, so case-insensitive is the `i` flag here.
  const regex = picomatch(pattern, { dot: true, flags: nocase ? 'si' : 's' });
  return (path) => (path.length > MAX_MATCHED_PATH ? underBase(path) : regex(path));
}
