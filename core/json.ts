// JSON parsing with a line and column for the first syntax error. JSON.parse decides what is
// valid; jsonc-parser (in strict mode) only locates the error, since V8's messages carry no
// position on Node 20.
import { parse as parseLoose, printParseErrorCode, visit, type ParseError } from 'jsonc-parser';

/** A JSON value, or where (1-based line and column) and why the text is not JSON. */
export type JsonResult = { ok: true; value: unknown } | { ok: false; line: number; column: number; reason: string };

/** Nesting deeper than this is refused before parsing: no lock file or policy needs more than 4. */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses JSON text (a leading BOM is ignored). Nesting deeper than {@link MAX_JSON_DEPTH} is an
 * error (the duplicate-key and error-locating passes recurse, and a hostile file could exhaust
 * the stack). A key given twice in one object is an error:
 * JSON.parse would silently keep the last, so a reader and the hook could see different values
 * (RFC 8259 section 4: names "SHOULD be unique").
 */
export function parseJson(text: string): JsonResult {
  const source = text.replace(/^\uFEFF/, '');
  const deep = depthProblem(source);
  if (deep) return { ok: false, ...deep };
  try {
    const value: unknown = JSON.parse(source);
    const duplicate = firstDuplicateKey(source);
    return duplicate ? { ok: false, ...duplicate } : { ok: true, value };
  } catch (error) {
    const errors: ParseError[] = [];
    parseLoose(source, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    const offset = first?.offset ?? 0;
    const before = source.slice(0, offset);
    const reason = first
      ? printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()
      : ((error as Error).message.split('\n')[0] ?? 'invalid JSON');
    return { ok: false, line: before.split('\n').length, column: offset - before.lastIndexOf('\n'), reason };
  }
}

/** The first key that appears twice in one object, with its 1-based line and column. */
function firstDuplicateKey(source: string): { line: number; column: number; reason: string } | undefined {
  if (!source.includes('{')) return undefined;
  const open: Set<string>[] = [];
  let found: { line: number; column: number; reason: string } | undefined;
  visit(source, {
    onObjectBegin: () => {
      open.push(new Set());
    },
    onObjectEnd: () => {
      open.pop();
    },
    onObjectProperty: (key, _offset, _length, line, column) => {
      const keys = open.at(-1);
      if (!keys || found) return;
      if (keys.has(key)) found = { line: line + 1, column: column + 1, reason: `duplicate key ${JSON.stringify(key)}` };
      keys.add(key);
    },
  });
  return found;
}

/** Where the nesting first goes deeper than {@link MAX_JSON_DEPTH}, scanning once and skipping strings. */
function depthProblem(source: string): { line: number; column: number; reason: string } | undefined {
  let depth = 0;
  let inString = false;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x0a) {
      line++;
      lineStart = i + 1;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) return { line, column: i - lineStart + 1, reason: `nested deeper than ${MAX_JSON_DEPTH} levels` };
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

/**
 * `text` as a JSON object (not an array), or undefined when it is not valid JSON or not an
 * object: for reading records written by agent-hooks itself (notes, logs, state files) defensively,
 * where a torn or foreign record is skipped rather than reported.
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
