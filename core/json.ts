// JSON parsing with a line and column for the first syntax error. JSON.parse decides what is
// valid; jsonc-parser (in strict mode) only locates the error, since V8's messages carry no
// position on Node 20.
import { parse as parseLoose, printParseErrorCode, type ParseError } from 'jsonc-parser';

/** A JSON value, or where (1-based line and column) and why the text is not JSON. */
export type JsonResult = { ok: true; value: unknown } | { ok: false; line: number; column: number; reason: string };

/** Parses JSON text (a leading BOM is ignored). */
export function parseJson(text: string): JsonResult {
  const source = text.replace(/^\uFEFF/, '');
  try {
    return { ok: true, value: JSON.parse(source) };
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
