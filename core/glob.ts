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
 * Why a lease pattern is not acceptable, or undefined: a relative POSIX path or glob, no leading
 * `/` or `./`, no `.`, `..` or empty segments, and `\` only to escape a glob character.
 */
export function globProblem(glob: string): string | undefined {
  const pattern = glob.startsWith('!') ? glob.slice(1) : glob;
  if (pattern === '') return 'is empty';
  if (pattern.startsWith('/')) return 'must be relative (no leading "/")';
  if (/\\(?![*?[\]{}()!+@\\])|\\$/.test(pattern)) return 'must use "/" as separator ("\\" only escapes a glob character)';
  const segments = pattern.split('/');
  if (segments.includes('..')) return 'must not contain ".."';
  if (segments.some((s) => s === '.' || s === '')) return 'must not contain "." or empty segments (no leading "./", no "//")';
  return undefined;
}

/** A matcher for one pattern: literal paths by equality or directory prefix, globs by picomatch. */
export function compilePattern(pattern: string): (path: string) => boolean {
  if (!isGlobPattern(pattern)) {
    const literal = unescapeGlob(pattern);
    return (path) => path === literal || path.startsWith(`${literal}/`);
  }
  // flags 's': git allows newlines in paths, and without dotAll a `.` in picomatch's regex would
  // not match one, so `leased/**` would miss `leased/a<LF>b` (found by test/hostile-inputs).
  return picomatch(pattern, { dot: true, flags: 's' });
}
