// The raw push event the post-receive stub writes in sh (installer/stub.ts
// formatPostReceiveStub), turned into a PushEvent by the sender, off the push's path.
//
//   agent-hooks push event 2
//   time 2026-11-21T14:30:00Z
//   env GL_USER=6167656e742d31              identity variables and their markers that were set, value in hex
//   option 6167656e743d6167656e742d31       push options, in order, in hex
// (version 1, from stubs installed before issue 13, wrote the values as they were)
//   update <old-oid> <new-oid> <ref>        the hook's stdin
//   other <oid> <ref>                       every ref right after the push
import { needsCommitterName, resolvePusher, trustedIdentityEnv } from '../core/identity.js';
import { isQueueRef } from '../core/queue.js';
import { parseRefUpdates } from '../core/ref-update.js';
import { identityNameOf, readObjects, type GitOptions } from '../git/git.js';
import type { PushEvent } from '../git/read-notification.js';
import { readServerConfig } from './read-push.js';
import { repoName } from './spool.js';

const HEADER = 'agent-hooks push event 2';
const HEADER_V1 = 'agent-hooks push event 1';

/** A hex field of a version 2 event, decoded as UTF-8. @throws Error when it is not hex. */
function unhex(text: string, line: number): string {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) throw new Error(`line ${line}: expected hex, got ${JSON.stringify(text.slice(0, 40))}`);
  return Buffer.from(text, 'hex').toString('utf8');
}

/** A raw event, parsed: time, identity variables, push options, ref updates, the other refs. */
export interface RawPushEvent {
  time: string;
  env: Record<string, string>;
  options: string[];
  updates: ReturnType<typeof parseRefUpdates>;
  refs: { oid: string; refName: string }[];
}

/**
 * Parses the text of a raw event. @throws Error naming the line when it is not one (the sender
 * sets such a file aside as unreadable).
 */
export function parseRawPushEvent(text: string): RawPushEvent {
  const lines = text.split('\n');
  if (lines[0] !== HEADER && lines[0] !== HEADER_V1) throw new Error(`line 1: expected "${HEADER}"`);
  const decode = lines[0] === HEADER ? unhex : (text: string) => text;
  const event: RawPushEvent = { time: '', env: {}, options: [], updates: [], refs: [] };
  const updateLines: string[] = [];
  for (const [i, line] of lines.entries()) {
    if (i === 0 || line === '') continue;
    const space = line.indexOf(' ');
    const [kind, rest] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
    if (kind === 'time') event.time = rest;
    else if (kind === 'env' && rest.includes('=')) event.env[rest.slice(0, rest.indexOf('='))] = decode(rest.slice(rest.indexOf('=') + 1), i + 1);
    else if (kind === 'option') event.options.push(decode(rest, i + 1));
    else if (kind === 'update') updateLines.push(rest);
    else if (kind === 'other') event.refs.push({ oid: rest.slice(0, rest.indexOf(' ')), refName: rest.slice(rest.indexOf(' ') + 1) });
    else throw new Error(`line ${i + 1}: unknown record ${JSON.stringify(kind)}`);
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(event.time)) throw new Error('no valid "time" line');
  event.updates = parseRefUpdates(`${updateLines.join('\n')}\n`);
  return event;
}

/**
 * The PushEvent of a raw event: the pusher as pre-receive judged it (authenticated variable,
 * else `-o agent=`, else the committer of the pushed tip, read now: objects never change), the
 * claims ref from the server's config, and the other refs' oids as they were at the push.
 * @throws GitError when git fails.
 */
export function pushEventOfRaw(raw: RawPushEvent, gitDir: string, git: GitOptions): PushEvent {
  const tip = raw.updates.find((u) => !/^0+$/.test(u.newOid))?.newOid;
  // As pre-receive judged it: identity variables count only with their server's markers.
  const env = trustedIdentityEnv(raw.env, raw.options).env;
  const needsCommitter = needsCommitterName(env, raw.options);
  const tipObject = needsCommitter && tip ? readObjects([tip], git).get(tip) : undefined;
  const pusher = resolvePusher({ env, pushOptions: raw.options, committerName: tipObject ? identityNameOf(tipObject) : undefined, requireAuthenticated: false });
  const updated = new Set(raw.updates.map((u) => u.refName));
  const others = [...new Set(raw.refs.filter((r) => !updated.has(r.refName)).map((r) => r.oid))];
  return {
    id: `${raw.time}-${raw.updates[0]?.newOid.slice(0, 10) ?? ''}`,
    time: raw.time,
    repo: repoName(gitDir),
    pusher: pusher.id ?? 'unknown',
    claimsRef: readServerConfig(git).claimsRef,
    // Queue entries are announced by the lander when they land or are ejected, not when queued.
    updates: raw.updates.filter((u) => !isQueueRef(u.refName)),
    others,
  };
}
