// Ref updates as git hands them to pre-receive and post-receive on stdin (githooks(5),
// "pre-receive": one line per ref, `<old-oid> SP <new-oid> SP <ref-name> LF`).

/** One line of hook input. `oldOid`/`newOid` are hex object ids (40 chars SHA-1, 64 SHA-256). */
export interface RefUpdate {
  oldOid: string;
  newOid: string;
  refName: string;
}

const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

// git writes an all-zero oid for a ref that does not exist; its length follows the hash.
export const isZeroOid = (oid: string): boolean => /^0+$/.test(oid);
export const isCreate = (u: RefUpdate): boolean => isZeroOid(u.oldOid);
export const isDelete = (u: RefUpdate): boolean => isZeroOid(u.newOid);

/** Thrown when hook input is not what git sends: the environment is broken, not the push. */
export class RefUpdateParseError extends Error {
  constructor(readonly line: number, readonly text: string) {
    super(`hook input line ${line} is not "<old-oid> <new-oid> <ref-name>": ${JSON.stringify(text.slice(0, 200))}`);
    this.name = 'RefUpdateParseError';
  }
}

/**
 * Parses pre-receive / post-receive stdin. Empty lines are skipped.
 * @throws RefUpdateParseError on a line that git would never write.
 */
export function parseRefUpdates(input: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  const lines = input.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line === '') return;
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    const oldOid = line.slice(0, first);
    const newOid = line.slice(first + 1, second);
    const refName = line.slice(second + 1);
    if (first < 0 || second < 0 || !OID.test(oldOid) || !OID.test(newOid) || oldOid.length !== newOid.length || refName === '') {
      throw new RefUpdateParseError(i + 1, line);
    }
    updates.push({ oldOid, newOid, refName });
  });
  return updates;
}

/**
 * Why `name` is not a valid full ref name, following git-check-ref-format(1): it starts with
 * `refs/`, no component starts with `.` or ends with `.lock`, no `..`, `@{`, `//`, control
 * characters, space, `~ ^ : ? * [ \`; it does not end with `/` or `.`. Undefined when valid.
 */
export function refNameProblem(name: string): string | undefined {
  if (!name.startsWith('refs/')) return 'must start with refs/';
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'contains a space, a control character or one of ~ ^ : ? * [ \\';
  if (name.includes('..') || name.includes('@{') || name.includes('//')) return 'contains "..", "@{" or "//"';
  if (name.endsWith('/') || name.endsWith('.')) return 'ends with "/" or "."';
  if (name.split('/').some((c) => c.startsWith('.') || c.endsWith('.lock') || c === '')) return 'has a component that starts with "." or ends with ".lock"';
  return undefined;
}
