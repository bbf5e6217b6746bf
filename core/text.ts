// Small text helpers shared by the policy core: safe quoting for hook output, times, suggestions.
import { distance } from 'fastest-levenshtein';

const PLAIN = /^[A-Za-z0-9._/@+:=,*?!{}()[\]-]+$/;

/**
 * Quotes a path or value for one line of hook output: plain ASCII stays as it is, anything else
 * (spaces, non-ASCII, control characters that could forge an `ERROR:` line) becomes a JSON string
 * with `\uXXXX` escapes, so every line stays one line of plain ASCII.
 */
export function quote(value: string): string {
  return PLAIN.test(value) ? value : showJson(value);
}

/** A value as ASCII-only JSON, cut to about 80 characters, for quoting bad input in a message. */
export function showJson(value: unknown): string {
  const json = (JSON.stringify(value) ?? String(value)).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** Formats epoch milliseconds as RFC 3339 UTC to the second: `2026-11-21T16:04:05Z`. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Parses an RFC 3339 timestamp with a zone (RFC 3339 section 5.6) to epoch milliseconds.
 * Returns undefined for anything else, including impossible dates such as 2026-02-30 that
 * `Date.parse` would silently roll over.
 */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const zone = m[8]!;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 60) return undefined;
  if (zone.length === 6 && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4)) > 59)) return undefined;
  const ms = Date.parse(text.replace(' ', 'T').toUpperCase());
  return Number.isNaN(ms) ? undefined : ms;
}

/** The candidate closest to `word` (edit distance at most 2, or a prefix either way), if any. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = candidate.startsWith(word) || word.startsWith(candidate) ? 1 : distance(word.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
