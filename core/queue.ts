// The landing queue (DESIGN.md "The landing queue"): queue refs, the rules for enqueueing, how
// the lander batches and bisects, and the verdict it records as a git note. Pure: the lander
// (server/lander.ts), pre-receive and `agent-hooks land` gather the facts and act on the answers.
import { parseJsonObject } from './json.js';
import { AGENT_ID } from './lock-file.js';
import type { Policy, QueuePolicy } from './policy.js';
import { isDelete, type RefUpdate } from './ref-update.js';
import { quote } from './text.js';
import type { Verdict } from './verdict.js';

/** Where queue entries live: `refs/land/<agent-id>/<topic>`. */
export const QUEUE_PREFIX = 'refs/land/';
/** The notes ref that holds the lander's verdicts, one JSON object per entry commit. */
export const NOTES_REF = 'refs/notes/agent-hooks';
/** The ref the lander points at the batch under test (a commit whose message lists the entries). */
export const TESTING_REF = 'refs/agent-hooks/lander/testing';

/** Whether a ref is in the queue's namespace (`refs/land/`): pre-receive runs no tests for it. */
export const isQueueRef = (refName: string): boolean => refName.startsWith(QUEUE_PREFIX) || refName === QUEUE_PREFIX.slice(0, -1);

/** One component of a topic: like a task id (DESIGN.md "Lock files"). A topic is 1 to 4 of them joined by `/`. */
export const TOPIC_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Why `topic` is not a valid topic, or undefined when it is. */
export function topicProblem(topic: string): string | undefined {
  const parts = topic.split('/');
  if (topic.length > 200 || parts.length > 4 || !parts.every((p) => TOPIC_PART.test(p) && !p.endsWith('.lock') && !p.endsWith('.'))) {
    return `${quote(topic)} is not a topic (1 to 4 parts joined by "/", each ${TOPIC_PART.source}, not ending in "." or ".lock")`;
  }
  return undefined;
}

/** A topic from a branch name: the branch itself when valid, else its characters made safe. */
export function topicOfBranch(branch: string): string {
  if (!topicProblem(branch)) return branch;
  const safe = branch.split('/').map((p) => p.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/(\.lock|\.)+$/, '').slice(0, 100)).filter(Boolean).slice(0, 4).join('/');
  return safe && !topicProblem(safe) ? safe : 'head';
}

/** The queue ref of an agent's topic. */
export const queueRefName = (agent: string, topic: string): string => `${QUEUE_PREFIX}${agent}/${topic}`;

/** Splits a queue ref into agent and topic, or says why it is not one. */
export function parseQueueRef(refName: string): { agent: string; topic: string } | { problem: string } {
  if (!refName.startsWith(QUEUE_PREFIX)) return { problem: `${refName} is not under ${QUEUE_PREFIX}` };
  const rest = refName.slice(QUEUE_PREFIX.length);
  const slash = rest.indexOf('/');
  const agent = slash < 0 ? rest : rest.slice(0, slash);
  if (slash < 0 || !AGENT_ID.test(agent)) return { problem: `a queue ref is ${QUEUE_PREFIX}<agent-id>/<topic>; ${quote(refName)} is not` };
  const topic = rest.slice(slash + 1);
  const problem = topicProblem(topic);
  return problem ? { problem } : { agent, topic };
}

/** One entry in the queue: its ref, agent, topic, commit, and when it arrived (committer time, epoch s). */
export interface QueueEntry {
  refName: string;
  agent: string;
  topic: string;
  oid: string;
  time: number;
}

/** Arrival order: oldest committer time first, then by ref name (stable on every machine). */
export function orderEntries(entries: readonly QueueEntry[]): QueueEntry[] {
  return [...entries].sort((a, b) => a.time - b.time || (a.refName < b.refName ? -1 : a.refName > b.refName ? 1 : 0));
}

/** What pre-receive knows about one pushed queue ref. `type` is the pushed object's type. */
export interface QueueUpdateFacts {
  update: RefUpdate;
  type?: string;
  /** The entry holds a commit the claims ref does not (false: nothing to land). */
  beyondMain: boolean;
  /** The entry shares history with the claims ref (a merge base exists). */
  related: boolean;
}

/** Inputs of {@link checkQueueUpdates}. */
export interface QueueCheckInput {
  facts: QueueUpdateFacts[];
  pusher?: string;
  queue: QueuePolicy;
  claimsRef: string;
  /** Queue refs that exist before the push, with their oids. */
  existing: ReadonlyMap<string, string>;
}

const queueVerdict = (where: string, what: string, fix: string): Verdict => ({ severity: 'error', rule: 'queue', where, what, fix, overridable: false });

/**
 * The enqueue rules (DESIGN.md "The landing queue"; issue 14, "Bad input"): the queue must be on;
 * the ref is `refs/land/<agent>/<topic>` with a valid topic; only the pusher pushes under its own
 * agent id; no deletions and no tags (the lander removes entries); the entry holds a commit beyond
 * the claims ref and shares its history; one entry per agent (a re-push of the same ref replaces
 * it). Rules 1 to 6 are judged by checkPush beside this, as for any ref.
 */
export function checkQueueUpdates(input: QueueCheckInput): Verdict[] {
  const verdicts: Verdict[] = [];
  const branch = input.claimsRef.replace(/^refs\/heads\//, '');
  const pushedByAgent = new Map<string, string[]>();
  for (const { update, type, beyondMain, related } of input.facts) {
    const where = update.refName;
    if (!input.queue.enabled) {
      verdicts.push(queueVerdict(where, `the landing queue is off (queue.enabled is false in agent-hooks.json on ${input.claimsRef})`, `agent-hooks push origin HEAD:${branch}`));
      continue;
    }
    const parsed = parseQueueRef(update.refName);
    if ('problem' in parsed) {
      verdicts.push(queueVerdict(where, parsed.problem, `agent-hooks land --topic <name>`));
      continue;
    }
    if (isDelete(update)) {
      verdicts.push(queueVerdict(where, 'queue entries are removed by the lander, not by a push', `wait for the verdict (agent-hooks land), or push a new commit to replace the entry`));
      continue;
    }
    if (input.pusher !== parsed.agent) {
      verdicts.push(queueVerdict(where, `only ${parsed.agent} may push under ${QUEUE_PREFIX}${parsed.agent}/; the pusher is ${quote(input.pusher ?? 'unknown')}`, `agent-hooks land (it pushes to ${QUEUE_PREFIX}<your agent id>/<topic>)`));
      continue;
    }
    if (type !== undefined && type !== 'commit') {
      verdicts.push(queueVerdict(where, `a queue entry must be a commit, not a ${type}`, `git push origin HEAD:${update.refName}`));
      continue;
    }
    if (!related) {
      verdicts.push(queueVerdict(where, `${update.newOid.slice(0, 10)} shares no history with ${input.claimsRef} (unrelated history)`, `git fetch && git rebase origin/${branch}, then agent-hooks land`));
      continue;
    }
    if (!beyondMain) {
      verdicts.push(queueVerdict(where, `${update.newOid.slice(0, 10)} is already in ${input.claimsRef}: nothing to land`, 'commit your change first, then agent-hooks land'));
      continue;
    }
    pushedByAgent.set(parsed.agent, [...(pushedByAgent.get(parsed.agent) ?? []), update.refName]);
  }
  for (const [agent, refs] of pushedByAgent) {
    const others = [...input.existing.keys()].filter((r) => r.startsWith(`${QUEUE_PREFIX}${agent}/`) && !refs.includes(r));
    if (refs.length > 1 || others.length > 0) {
      verdicts.push(queueVerdict(refs[0]!, `one entry per agent: ${agent} would have ${[...refs, ...others].join(', ')}`, `wait for ${others[0] ?? refs[1]} to land, or push the same topic again to replace it`));
    }
  }
  return verdicts;
}

/**
 * `queue.required`: a direct push to a tested ref that changes anything but lock files is refused
 * (claims always go direct). `changed` are the paths the push changes.
 */
export function checkQueueRequired(update: RefUpdate, changed: readonly string[], policy: Policy, queue: QueuePolicy): Verdict[] {
  if (!queue.enabled || !queue.required || isDelete(update)) return [];
  const others = changed.filter((p) => !p.startsWith(`${policy.locks.dir}/`));
  if (changed.length === 0 || others.length === 0) return [];
  return [queueVerdict(update.refName, `queue.required: changes reach ${update.refName} only through the landing queue (${quote(others[0]!)}${others.length > 1 ? ` and ${others.length - 1} more` : ''} is not a lock file)`, 'agent-hooks land')];
}

/**
 * Refs only the lander writes, on the server, never through a push: the verdict notes
 * ({@link NOTES_REF}) and everything under `refs/agent-hooks/` (the batch under test,
 * {@link TESTING_REF}), except the refs of `agent-hooks doctor`'s synthetic push
 * (`doctorPrefix`), which pre-receive refuses anyway. A pushed note could otherwise eject or
 * "land" another agent's entry, and a pushed marker show a batch that is not under test.
 * Not overridable: an admin repairs them on the server.
 */
export function checkReservedRefs(updates: readonly RefUpdate[], doctorPrefix: string): Verdict[] {
  return updates
    .filter((u) => (u.refName === NOTES_REF || u.refName.startsWith('refs/agent-hooks/')) && !u.refName.startsWith(doctorPrefix))
    .map((u) => ({ ...queueVerdict(u.refName, `only the lander writes ${u.refName} (the landing queue's verdicts and the batch under test), on the server; a push may not`, 'agent-hooks land puts a commit in the queue; an admin repairs these refs on the server'), overridable: false }));
}

/**
 * Whether a move of the claims ref changed only lock files (a claims-only move needs no re-test).
 * Stricter than DESIGN's "lock files or exempt paths": an exempt path can be the policy file
 * (its `test` section) or a file the tests read (a lock file of dependencies), so a move that
 * touches one is tested again.
 */
export function isClaimsOnlyMove(changed: readonly string[], policy: Policy): boolean {
  return changed.every((p) => p.startsWith(`${policy.locks.dir}/`));
}

/** The adaptive batch size: halved after a failing batch (floor 1), doubled after a passing one (cap `max`). */
export function nextBatchSize(size: number, passed: boolean, max: number): number {
  return passed ? Math.min(max, Math.max(1, size * 2)) : Math.max(1, Math.floor(size / 2));
}

/** The next batch: up to `size` entries in arrival order. */
export function takeBatch(entries: readonly QueueEntry[], size: number): QueueEntry[] {
  return orderEntries(entries).slice(0, Math.max(1, size));
}

/** The bisection of a failing batch: its two halves, first half first (the first may take the extra entry). */
export function splitBatch<T>(batch: readonly T[]): [T[], T[]] {
  const half = Math.ceil(batch.length / 2);
  return [batch.slice(0, half), batch.slice(half)];
}

/** The verdict the lander records on an entry's commit (DESIGN.md: `{"state", "onto", "reason", "errors", "reproduce"}`). */
export interface QueueNote {
  state: 'landed' | 'ejected';
  /** landed: the claims ref's new tip; ejected: the tip it was judged against. */
  onto: string;
  reason: string;
  errors: string[];
  reproduce?: string;
  /** The queue ref the entry came from. */
  ref?: string;
  /** Test lines that failed once and passed on the retry. */
  flaky?: string[];
  /** ISO time of the verdict. */
  time?: string;
}

/** Reads a note's text, or undefined when it is not a verdict of the lander. */
export function parseQueueNote(text: string): QueueNote | undefined {
  const n = parseJsonObject(text);
  if (!n || (n.state !== 'landed' && n.state !== 'ejected') || typeof n.onto !== 'string' || typeof n.reason !== 'string' || !isStrings(n.errors)) return undefined;
  // The optional fields, when present, have their types too: readers use them as they are.
  const optional = (x: unknown) => x === undefined || typeof x === 'string';
  if (!optional(n.reproduce) || !optional(n.ref) || !optional(n.time) || !(n.flaky === undefined || isStrings(n.flaky))) return undefined;
  return n as unknown as QueueNote;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((e) => typeof e === 'string');

/** The lines `agent-hooks land` prints for a verdict, and its exit code (0 landed, 1 ejected). */
export function formatNoteOutcome(note: QueueNote, branch: string): { lines: string[]; exitCode: 0 | 1 } {
  if (note.state === 'landed') {
    return { exitCode: 0, lines: [`landed as ${note.onto.slice(0, 10)} on ${branch}${note.reason ? ` (${note.reason})` : ''}`, ...(note.flaky ?? []).map((f) => `WARNING: flaky (failed once, passed on the retry): ${f}`)] };
  }
  const errors = note.errors.length > 0 ? note.errors : [`ERROR: ${note.ref ?? branch}: ${note.reason}`];
  return {
    exitCode: 1,
    lines: [`ejected: ${note.reason}`, ...errors, ...(note.reproduce ? [`reproduce: ${note.reproduce}`] : []), 'fix: git pull --rebase && agent-hooks land'],
  };
}
