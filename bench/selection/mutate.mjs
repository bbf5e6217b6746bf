// Planting single-line bugs (mutants) in source files, deterministically: the same files, seed
// and count give the same bugs on every machine. Pure (node:crypto for a stable hash only).
import { createHash } from 'node:crypto';

/**
 * The mutation operators: each turns one token on a line into another, the classic mutation
 * testing set (flip a comparison, a boolean, an arithmetic or logical operator, change a
 * constant, drop a return value). `pattern` must be global; every match on a line is one
 * candidate bug.
 */
export const OPERATORS = [
  { name: 'flip ===', pattern: / === /g, to: ' !== ' },
  { name: 'flip !==', pattern: / !== /g, to: ' === ' },
  { name: 'flip <', pattern: / < /g, to: ' >= ' },
  { name: 'flip >', pattern: / > /g, to: ' <= ' },
  { name: 'shift <=', pattern: / <= /g, to: ' < ' },
  { name: 'shift >=', pattern: / >= /g, to: ' > ' },
  { name: 'swap &&', pattern: / && /g, to: ' || ' },
  { name: 'swap ||', pattern: / \|\| /g, to: ' && ' },
  { name: 'swap true', pattern: /\btrue\b/g, to: 'false' },
  { name: 'swap false', pattern: /\bfalse\b/g, to: 'true' },
  { name: 'plus to minus', pattern: / \+ /g, to: ' - ' },
  { name: 'minus to plus', pattern: / - /g, to: ' + ' },
  { name: 'constant 0 to 1', pattern: /(?<![\w.])0(?![\w.])/g, to: '1' },
  { name: 'constant 1 to 0', pattern: /(?<![\w.])1(?![\w.])/g, to: '0' },
  { name: 'negate if', pattern: /\bif \(/g, to: 'if (!' },
  { name: 'drop return value', pattern: /\breturn (?=[^;\s])/g, to: 'return undefined && ' },
];

/** Whether a line is worth mutating: code, not a comment, an import or a type-only line. */
const isCodeLine = (line) => {
  const t = line.trim();
  return t !== '' && !/^(\/\/|\/\*|\*|import\b|export \{|export \* |type |interface |declare )/.test(t) && !/require\(/.test(t) && t.length < 200;
};

/**
 * Every candidate bug of one file: `{ path, line (1-based), operator, column, before, after }`,
 * where `after` is the line with that one match replaced.
 */
export function candidatesOf(path, text) {
  const found = [];
  const lines = text.split('\n');
  let inBlockComment = false;
  for (const [i, line] of lines.entries()) {
    const t = line.trim();
    if (inBlockComment) {
      if (t.includes('*/')) inBlockComment = false;
      continue;
    }
    if (t.startsWith('/*') && !t.includes('*/')) {
      inBlockComment = true;
      continue;
    }
    if (!isCodeLine(line)) continue;
    // Only the code before a trailing comment, and never inside a string literal (roughly).
    const code = line.replace(/\s\/\/.*$/, '');
    for (const op of OPERATORS) {
      for (const m of code.matchAll(op.pattern)) {
        const before = code.slice(0, m.index);
        if ((before.match(/['"`]/g) ?? []).length % 2 === 1) continue;
        const after = line.slice(0, m.index) + op.to + line.slice(m.index + m[0].length);
        found.push({ path, line: i + 1, operator: op.name, column: m.index, before: line, after });
      }
    }
  }
  return found;
}

/** A stable rank of a candidate for a seed: hex SHA-256 of seed, path, line, column, operator. */
const rank = (seed, c) => createHash('sha256').update(`${seed}\0${c.path}\0${c.line}\0${c.column}\0${c.operator}`).digest('hex');

/**
 * Chooses `count` bugs from the candidates of `files` (`[{ path, text }]`): candidates ranked by
 * {@link rank} with the seed, at most one per line, at most `perFile` per file (so one big file
 * does not take the whole sample). Returns them with an `id` (`path:line:operator`), sorted by id.
 */
export function plantBugs(files, seed, count, perFile = 4) {
  const all = files.flatMap(({ path, text }) => candidatesOf(path, text)).map((c) => ({ ...c, rank: rank(seed, c) }));
  all.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  const lines = new Set();
  const perFileCount = new Map();
  const chosen = [];
  for (const c of all) {
    if (chosen.length >= count) break;
    const key = `${c.path}:${c.line}`;
    if (lines.has(key) || (perFileCount.get(c.path) ?? 0) >= perFile) continue;
    lines.add(key);
    perFileCount.set(c.path, (perFileCount.get(c.path) ?? 0) + 1);
    const { rank: _rank, ...bug } = c;
    chosen.push({ id: `${c.path}:${c.line}:${c.operator}`, ...bug });
  }
  return chosen.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The text of a file with one bug planted (the line replaced by `after`). */
export function applyBug(text, bug) {
  const lines = text.split('\n');
  if (lines[bug.line - 1] !== bug.before) throw new Error(`${bug.id}: line ${bug.line} is not what was planned`);
  lines[bug.line - 1] = bug.after;
  return lines.join('\n');
}
