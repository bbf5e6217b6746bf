// What post-receive announces (DESIGN.md "Notifications"), and the Slack message for it, inside
// Slack's limits. Pure. Limits: Block Kit section text at most 3,000 characters, at most 50
// blocks per message (api.slack.com/reference/block-kit/blocks); the `text` fallback is kept
// well under the 40,000-character message limit.
import type { ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from '@slack/types';

/** One commit as announced: oid, author name, subject line. */
export interface CommitInfo {
  oid: string;
  author: string;
  subject: string;
}

/** One ref update as announced. `commits` are new to the repository (each announced once, newest first). */
export interface RefEvent {
  refName: string;
  kind: 'create' | 'update' | 'delete';
  oldOid: string;
  newOid: string;
  commits: CommitInfo[];
  /** New commits beyond those listed (the list is capped by the reader). */
  moreCommits: number;
  /** Commits no longer reachable from the ref after a force push. */
  discarded: number;
  /** `git diff --shortstat`, e.g. "3 files changed, 10 insertions(+)". */
  diffstat?: string;
}

/** A change of a claim on the claims ref. */
export interface ClaimEvent {
  kind: 'taken' | 'released' | 'renewed' | 'changed' | 'expired';
  taskId: string;
  agent: string;
  files: string[];
  /** RFC 3339 expiry, for taken/renewed/changed. */
  until?: string;
}

/** One notification: one push (or one rejected push, when `rejected` is set). */
export interface Notification {
  id: string;
  time: string;
  repo: string;
  pusher: string;
  refs: RefEvent[];
  claims: ClaimEvent[];
  /** For a rejected push: the rule lines (ERROR: ...), when `notify.rejections` is on. */
  rejected?: string[];
  /**
   * For a test found red on the claims ref (core/preexisting.ts): one line naming the test and the
   * commit that turned it red. `pusher` is then that commit's agent, and `refs` is empty.
   */
  red?: string[];
}

/** A Slack incoming-webhook payload: blocks plus the plain `text` fallback, and the delivery's metadata. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
  metadata?: DeliveryMetadata;
}

/** The `event_type` of {@link DeliveryMetadata} (Slack: alphanumeric and underscores). */
export const DELIVERY_EVENT_TYPE = 'agent_hooks_notification';

/**
 * Slack message metadata (docs.slack.dev/messaging/message-metadata) that names one message
 * across its retries: `message_id` is the same for every POST of a message (the spool file's
 * name), `attempt_id` differs per POST. Slack does not deduplicate incoming-webhook posts, so a
 * repeat (delivery is at least once) can be recognised, and dropped by a reader, by `message_id`.
 */
export interface DeliveryMetadata {
  event_type: typeof DELIVERY_EVENT_TYPE;
  event_payload: { message_id: string; attempt_id: string; attempt: number };
}

/** The message with its delivery metadata for one POST. Pure. */
export function withDeliveryMetadata(message: SlackMessage, messageId: string, attempt: number, sender: string): SlackMessage {
  return { ...message, metadata: { event_type: DELIVERY_EVENT_TYPE, event_payload: { message_id: messageId, attempt_id: `${messageId}/${sender}/${attempt}`, attempt } } };
}

export const SECTION_LIMIT = 3000;
export const BLOCK_LIMIT = 50;
/** Commits listed per ref before "... and N more". */
export const COMMITS_PER_REF = 10;

const short = (oid: string) => oid.slice(0, 10);
const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const shortRef = (ref: string) => ref.replace(/^refs\/(heads|tags)\//, '');
const isTag = (ref: string) => ref.startsWith('refs/tags/');

/** The one-line summary of a ref event (also the plain-text fallback). */
export function describeRef(e: RefEvent): string {
  const name = `${isTag(e.refName) ? 'tag' : 'branch'} ${shortRef(e.refName)}`;
  if (e.kind === 'delete') return `${name} deleted (was ${short(e.oldOid)})`;
  const count = e.commits.length + e.moreCommits;
  const commits = count > 0 ? `, ${count} new commit${count === 1 ? '' : 's'}` : '';
  if (e.kind === 'create') return `${name} created at ${short(e.newOid)}${commits}`;
  if (isTag(e.refName)) return `WARNING: ${name} moved from ${short(e.oldOid)} to ${short(e.newOid)}`;
  const forced = e.discarded > 0 ? ` (force push: ${e.discarded} commit${e.discarded === 1 ? '' : 's'} discarded)` : '';
  return `${name} ${short(e.oldOid)}..${short(e.newOid)}${commits}${forced}`;
}

/** The one-line summary of a claim event. */
export function describeClaim(c: ClaimEvent): string {
  const lease = c.files.length > 0 ? ` (lease ${c.files.join(', ')})` : '';
  const until = c.until ? ` until ${c.until}` : '';
  const verb = { taken: 'took', released: 'released', renewed: 'renewed', changed: 'changed', expired: 'let' }[c.kind];
  return `${c.agent} ${verb} task ${c.taskId}${c.kind === 'expired' ? ' expire' : ''}${until}${lease}`;
}

/** Cuts text to at most `limit` characters, ending with a count of what was cut. */
function cap(lines: string[], limit: number): string {
  const out: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    const rest = lines.length - i;
    const more = `... and ${rest} more`;
    if (length + line.length + 1 > limit - more.length - 1) {
      out.push(more);
      break;
    }
    out.push(line);
    length += line.length + 1;
  }
  return out.join('\n');
}

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, SECTION_LIMIT) } });

/**
 * Builds the Slack message: a header, the claims, then one section per ref (commits capped at
 * {@link COMMITS_PER_REF}, with "... and N more"). When there are too many refs for one block
 * each, refs are listed one line each in as few sections as fit: refs are capped in detail,
 * never dropped. `commitUrl` (a template with `{oid}`) turns commit ids into links.
 */
export function buildSlackMessage(n: Notification, commitUrl?: string): SlackMessage {
  const link = (oid: string) => (commitUrl ? `<${commitUrl.replace('{oid}', oid)}|${short(oid)}>` : `\`${short(oid)}\``);
  const title = n.red ? `Tests are red on ${n.repo} since a commit by ${n.pusher}` : n.rejected ? `${n.pusher} was refused a push to ${n.repo}` : `${n.pusher} pushed to ${n.repo}`;
  const header: HeaderBlock = { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } };
  const blocks: KnownBlock[] = [header];
  const text: string[] = [title];
  if (n.rejected) {
    blocks.push(section(cap(n.rejected.map((l) => esc(l)), SECTION_LIMIT)));
    text.push(...n.rejected.slice(0, 20));
  }
  if (n.red) {
    blocks.push(section(cap(n.red.map((l) => `:red_circle: ${esc(l)}`), SECTION_LIMIT)));
    text.push(...n.red.slice(0, 20));
  }
  if (n.claims.length > 0) {
    blocks.push(section(cap(n.claims.map((c) => `:lock: ${esc(describeClaim(c))}`), SECTION_LIMIT)));
    text.push(...n.claims.map(describeClaim));
  }
  const detailed = n.refs.length <= BLOCK_LIMIT - blocks.length - 1;
  if (detailed) {
    for (const e of n.refs) {
      const lines = [`*${esc(describeRef(e))}*${e.diffstat ? ` - ${esc(e.diffstat)}` : ''}`];
      const commits = e.commits.slice(0, COMMITS_PER_REF).map((c) => `${link(c.oid)} ${esc(c.subject)} (${esc(c.author)})`);
      const hidden = e.commits.length - commits.length + e.moreCommits;
      if (hidden > 0) commits.push(`... and ${hidden} more commit${hidden === 1 ? '' : 's'}`);
      blocks.push(section(cap([...lines, ...commits], SECTION_LIMIT)));
    }
  } else {
    let chunk: string[] = [];
    let size = 0;
    const flush = () => {
      if (chunk.length) blocks.push(section(chunk.join('\n')));
      chunk = [];
      size = 0;
    };
    for (const e of n.refs) {
      const line = esc(describeRef(e));
      if (size + line.length + 1 > SECTION_LIMIT) flush();
      chunk.push(line);
      size += line.length + 1;
    }
    flush();
  }
  const footer: ContextBlock = { type: 'context', elements: [{ type: 'mrkdwn', text: `agent-hooks · ${n.time} · ${n.id}` }] };
  blocks.splice(BLOCK_LIMIT - 1);
  blocks.push(footer);
  text.push(...n.refs.map(describeRef));
  return { text: cap(text, 3900), blocks };
}
