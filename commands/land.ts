// `agent-hooks land` and `agent-hooks queue` (DESIGN.md "The landing queue"): put HEAD in the
// landing queue of the claims ref, wait for the lander's verdict (a git note, read over any
// transport), and show the queue.
import { formatNoteOutcome, NOTES_REF, parseQueueNote, parseQueueRef, QUEUE_PREFIX, queueRefName, topicOfBranch, topicProblem, type QueueNote } from '../core/queue.js';
import { EXIT, type CommandResult } from '../core/result.js';
import { gitText, runGit } from '../git/git.js';
import { fetchClaims, readClaimsState, readViewOid, type AgentRepo } from './agent-repo.js';

/** Where `land` and `queue` keep their view of the remote's queue and batch under test. */
const LOCAL_QUEUE = 'refs/agent-hooks/queue/';
const LOCAL_LANDER = 'refs/agent-hooks/lander/';

/** Server lines that mean a claim or lease of another agent is in the way (exit 3). */
export const HELD = /is leased by|overlaps the lease of|is claimed by|claim of another agent|held by/;

/** Options of {@link land}. `timeoutS` undefined: policy `queue.wait`. `progress` prints one line right away. */
export interface LandOptions {
  wait: boolean;
  timeoutS?: number;
  topic?: string;
  progress: (line: string) => void;
  /** How often to look for the verdict at first, in ms (default 250, growing by half each time to 2000). */
  pollMs?: number;
}

/** How `land` ended, with the lines to print; `exitCode` per DESIGN.md (0 landed or queued, 1 ejected or timed out, 2 usage, 3 held). */
export interface LandResult extends CommandResult {
  kind: 'landed' | 'ejected' | 'held' | 'queued' | 'refused' | 'timeout' | 'usage';
  note?: QueueNote;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The topic `land` uses: `--topic`, else the current branch (made a valid topic), else `head`. */
export function readTopic(repo: AgentRepo, topic: string | undefined): { topic: string } | { problem: string } {
  if (topic !== undefined) {
    const problem = topicProblem(topic);
    return problem ? { problem } : { topic };
  }
  const branch = gitText(['symbolic-ref', '-q', '--short', 'HEAD'], { ...repo.git, okExitCodes: [0, 1] });
  return { topic: branch ? topicOfBranch(branch) : 'head' };
}

/**
 * Fetches the remote's verdicts, queue and batch under test into the clone (`refs/notes/agent-hooks`,
 * `refs/agent-hooks/queue/*`, `refs/agent-hooks/lander/*`) and the claims branch. Glob refspecs,
 * so refs that do not exist yet are no error. @throws GitError
 */
export function fetchQueue(repo: AgentRepo): void {
  runGit(['fetch', '--quiet', '--no-tags', '--prune', repo.remote!, `+${NOTES_REF}*:${NOTES_REF}*`, `+${QUEUE_PREFIX}*:${LOCAL_QUEUE}*`, `+${LOCAL_LANDER}*:${LOCAL_LANDER}*`, `+refs/heads/${repo.branch}:refs/remotes/${repo.remote}/${repo.branch}`], repo.git);
}

/** The lander's verdict on a commit, from the fetched notes, or undefined. */
export function readNote(repo: AgentRepo, oid: string): QueueNote | undefined {
  const shown = runGit(['notes', '--ref', NOTES_REF, 'show', oid], { ...repo.git, okExitCodes: [0, 1, 128] });
  return shown.exitCode === 0 ? parseQueueNote(shown.stdout.toString('utf8')) : undefined;
}

/** One entry of the fetched queue, in arrival order. */
export interface QueueView {
  entries: { ref: string; agent: string; topic: string; oid: string; time: number; testing: boolean }[];
  /** The batch under test: the claims tip it was merged onto and its entries' refs. */
  testing?: { onto: string; refs: string[] };
}

/** The fetched queue: entries in arrival order (committer time, then ref), and the batch under test. */
export function readQueueView(repo: AgentRepo): QueueView {
  const out = gitText(['for-each-ref', '--sort=committerdate', '--format=%(objectname) %(committerdate:unix) %(refname)', LOCAL_QUEUE], repo.git);
  let testing: QueueView['testing'];
  const marker = gitText(['log', '-1', '--format=%B', `${LOCAL_LANDER}testing`, '--'], { ...repo.git, okExitCodes: [0, 128] });
  try {
    const parsed = JSON.parse(marker) as { onto: string; entries: { ref: string }[] };
    testing = { onto: parsed.onto, refs: parsed.entries.map((e) => e.ref) };
  } catch {
    testing = undefined;
  }
  const entries = out.split('\n').filter(Boolean).map((line) => {
    const [oid, time, local] = line.split(' ') as [string, string, string];
    const ref = `${QUEUE_PREFIX}${local.slice(LOCAL_QUEUE.length)}`;
    const parsed = parseQueueRef(ref);
    return { ref, agent: 'agent' in parsed ? parsed.agent : '?', topic: 'topic' in parsed ? parsed.topic : '?', oid, time: Number(time), testing: testing?.refs.includes(ref) ?? false };
  });
  entries.sort((a, b) => a.time - b.time || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return { entries, testing };
}

/** The result for a verdict: 0 landed, 1 ejected, 3 ejected because another agent holds a claim or lease. */
function outcome(repo: AgentRepo, note: QueueNote): LandResult {
  const { lines, exitCode } = formatNoteOutcome(note, repo.branch);
  const held = note.state === 'ejected' && note.errors.some((e) => HELD.test(e));
  return { kind: note.state === 'landed' ? 'landed' : held ? 'held' : 'ejected', exitCode: held ? EXIT.held : exitCode, lines, note };
}

/**
 * `land [--no-wait] [--timeout S] [--topic T]`: pushes HEAD to `refs/land/<agent>/<topic>` (a
 * re-push replaces the entry; pre-receive applies rules 1 to 6, no tests), then, unless
 * `--no-wait`, waits for the lander's note on that commit, printing one line per state change
 * (queued at position N, testing a batch of K), and fetches the claims branch.
 */
export async function land(repo: AgentRepo, options: LandOptions): Promise<LandResult> {
  if (!repo.remote) return { kind: 'usage', exitCode: EXIT.usage, lines: ['ERROR: land: this repository has no remote "origin"; the landing queue lives in the bare repo agents push to; fix: git remote add origin <bare repo>'] };
  const t = readTopic(repo, options.topic);
  if ('problem' in t) return { kind: 'usage', exitCode: EXIT.usage, lines: [`ERROR: land: ${t.problem}; fix: agent-hooks land --topic <name>`] };
  const agent = repo.agent.id!;
  const ref = queueRefName(agent, t.topic);
  const head = gitText(['rev-parse', '--verify', 'HEAD^{commit}'], { ...repo.git, okExitCodes: [0, 128] });
  if (!head) return { kind: 'usage', exitCode: EXIT.usage, lines: ['ERROR: land: HEAD has no commit; fix: commit your change first'] };

  // A commit that already has a verdict is not queued again: the verdict stands.
  try {
    fetchQueue(repo);
  } catch {
    // the push below reports an unreachable remote
  }
  const known = readNote(repo, head);
  if (known) return outcome(repo, known);

  const pushed = runGit(['push', '--porcelain', '-o', `agent=${agent}`, repo.remote, `+HEAD:${ref}`], { ...repo.git, okExitCodes: [0, 1, 128, null] });
  const out = `${pushed.stdout.toString('utf8')}\n${pushed.stderr.toString('utf8')}`;
  if (pushed.exitCode !== 0) {
    const errors = out.split('\n').filter((l) => /^remote: (GL-HOOK-ERR: )?ERROR:/.test(l)).map((l) => l.replace(/^remote: (GL-HOOK-ERR: )?/, '').trimEnd());
    const lines = errors.length > 0 ? errors : [`ERROR: land: git push to ${ref} failed: ${out.trim().split('\n').slice(-2).join(' | ')}`];
    const held = errors.some((e) => HELD.test(e));
    return { kind: held ? 'held' : 'refused', exitCode: held ? EXIT.held : EXIT.failed, lines };
  }
  options.progress(`queued ${head.slice(0, 10)} as ${ref}`);
  if (!options.wait) return { kind: 'queued', exitCode: EXIT.ok, lines: [] };

  const timeoutS = options.timeoutS ?? readClaimsState(repo, readViewOid(repo), Date.now()).policy.queue.wait;
  const deadline = Date.now() + timeoutS * 1000;
  let last = '';
  let pollMs = options.pollMs ?? 250;
  for (;;) {
    try {
      fetchQueue(repo);
    } catch (error) {
      const line = `cannot reach ${repo.remote} (${(error as Error).message.split('\n')[0]}); trying again`;
      if (line !== last) options.progress((last = line));
    }
    const note = readNote(repo, head);
    // The same fetch brought the claims branch: the lander moves it before it writes the note.
    if (note) return outcome(repo, note);
    const view = readQueueView(repo);
    const mine = view.entries.find((e) => e.ref === ref);
    let state: string;
    if (mine && mine.oid !== head) state = `${ref} now holds ${mine.oid.slice(0, 10)} (pushed again); still waiting for ${head.slice(0, 10)}`;
    else if (mine?.testing) state = `testing a batch of ${view.testing!.refs.length}`;
    else if (mine) state = `queued at position ${view.entries.indexOf(mine) + 1} of ${view.entries.length}`;
    else state = 'waiting for the verdict';
    if (state !== last) options.progress((last = state));
    if (Date.now() > deadline) {
      return { kind: 'timeout', exitCode: EXIT.failed, lines: [`ERROR: land: no verdict for ${head.slice(0, 10)} after ${timeoutS} s; it stays queued as ${ref}; fix: agent-hooks queue, then agent-hooks land again to wait (or ask the admin to run agent-hooks doctor)`] };
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now()) + 10));
    pollMs = Math.min(2000, Math.round(pollMs * 1.5));
  }
}

/** `queue [--json]`: the remote's landing queue in arrival order, the batch under test, and the verdicts of these entries' commits. */
export function queue(repo: AgentRepo, json: boolean): CommandResult {
  if (!repo.remote) return { exitCode: EXIT.usage, lines: ['ERROR: queue: this repository has no remote "origin"; fix: git remote add origin <bare repo>'] };
  fetchQueue(repo);
  const view = readQueueView(repo);
  if (json) return { exitCode: EXIT.ok, lines: [JSON.stringify({ entries: view.entries.map(({ ref, agent, topic, oid, time, testing }) => ({ ref, agent, topic, oid, queuedAt: new Date(time * 1000).toISOString(), testing })), testing: view.testing ?? null })] };
  if (view.entries.length === 0) return { exitCode: EXIT.ok, lines: ['the landing queue is empty'] };
  const lines = view.entries.map((e, i) => `${String(i + 1).padStart(3)}. ${e.ref} ${e.oid.slice(0, 10)}${e.testing ? '  (testing)' : ''}`);
  if (view.testing) lines.push(`testing a batch of ${view.testing.refs.length} onto ${view.testing.onto.slice(0, 10)}`);
  return { exitCode: EXIT.ok, lines };
}

/**
 * `push [git push args]` with the queue on: a push of HEAD (or the current branch) to the claims
 * branch goes through {@link land} when `queue.enabled` is set in the policy of the freshest view
 * of the claims branch (DESIGN.md "Command line"); anything else is a plain `push`.
 */
export async function pushOrLand(repo: AgentRepo, args: string[], progress: (line: string) => void, push: (repo: AgentRepo, args: string[]) => CommandResult): Promise<CommandResult> {
  const positional = args.filter((a) => !a.startsWith('-'));
  const options = args.filter((a) => a.startsWith('-'));
  const [remote, refspec] = positional;
  const current = gitText(['symbolic-ref', '-q', '--short', 'HEAD'], { ...repo.git, okExitCodes: [0, 1] });
  const [src, dst] = refspec === undefined ? [current, current] : refspec.includes(':') ? [refspec.slice(0, refspec.indexOf(':')), refspec.slice(refspec.indexOf(':') + 1)] : [refspec, refspec];
  const toClaims = dst.replace(/^refs\/heads\//, '') === repo.branch;
  const ofHead = src === 'HEAD' || (current !== '' && src.replace(/^refs\/heads\//, '') === current);
  if (!repo.remote || (remote !== undefined && remote !== repo.remote) || !toClaims || !ofHead || options.length > 0 || positional.length > 2) return push(repo, args);
  try {
    fetchClaims(repo);
  } catch {
    return push(repo, args);
  }
  if (!readClaimsState(repo, readViewOid(repo), Date.now()).policy.queue.enabled) return push(repo, args);
  progress(`queue.enabled: landing through the queue (agent-hooks land)`);
  return land(repo, { wait: true, progress });
}
