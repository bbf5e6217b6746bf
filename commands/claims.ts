// claim, release, renew, gc, status: plan on the freshest claims ref, publish with plumbing, and
// on a lost race fetch and plan again.
import { planClaim, planGc, planRelease, planRenew, type ClaimsState, type Plan } from '../core/plans.js';
import { formatStatus, statusJson, type RecentPush } from '../core/status.js';
import { EXIT, type CommandResult } from '../core/result.js';
import { gitText } from '../git/git.js';
import { fetchClaims, publishChange, readClaimsState, readViewOid, viewRef, type AgentRepo } from './agent-repo.js';

/** How many times a change is planned again after losing a race for the claims ref. */
export const MAX_ATTEMPTS = 12;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const exitOf = (plan: Plan) => (plan.kind === 'held' ? EXIT.held : plan.kind === 'failed' ? EXIT.failed : EXIT.ok);

/**
 * Applies a planned change to the claims ref: fetch, read the state, plan, publish; on a lost
 * race (another agent moved the ref) wait a random 20-300 ms and start over. A refusal by the
 * server is planned once more on a fresh state, so a task taken meanwhile ends with exit 3.
 */
export async function changeClaims(repo: AgentRepo, makePlan: (state: ClaimsState, now: number) => Plan, options: { withPaths?: boolean; dryRun?: boolean } = {}): Promise<CommandResult> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    fetchClaims(repo);
    const base = readViewOid(repo);
    const now = Date.now();
    const plan = makePlan(readClaimsState(repo, base, now, options.withPaths), now);
    if (plan.kind !== 'change') return { exitCode: exitOf(plan), lines: plan.lines };
    if (options.dryRun) return { exitCode: EXIT.ok, lines: [...plan.lines.map((l) => `would: ${l}`), ...[...plan.writes].map(([p, c]) => `would ${c === null ? 'delete' : 'write'} ${p}`)] };
    const result = publishChange(repo, base, plan.writes, plan.message);
    if (result.kind === 'landed') return { exitCode: EXIT.ok, lines: plan.lines };
    if (result.kind === 'refused') {
      fetchClaims(repo);
      const again = makePlan(readClaimsState(repo, readViewOid(repo), Date.now(), options.withPaths), Date.now());
      return again.kind === 'held' ? { exitCode: EXIT.held, lines: again.lines } : { exitCode: EXIT.failed, lines: result.lines };
    }
    await sleep(20 + Math.random() * 280);
  }
  return { exitCode: EXIT.failed, lines: [`ERROR: gave up after ${MAX_ATTEMPTS} attempts: the claims ref kept moving; fix: try again`] };
}

/** `claim <task>`: see {@link planClaim}. */
export const claim = (repo: AgentRepo, taskId: string, files: string[], ttl: number | undefined, description: string | undefined) =>
  changeClaims(repo, (state, now) => planClaim(state, { taskId, agent: repo.agent.id!, files, ttl, description, now }), { withPaths: files.length > 0 });

/** `release <task>`: see {@link planRelease}. */
export const release = (repo: AgentRepo, taskId: string) => changeClaims(repo, (state, now) => planRelease(state, taskId, repo.agent.id!, now));

/** `renew <task>`: see {@link planRenew}. */
export const renew = (repo: AgentRepo, taskId: string, ttl?: number) => changeClaims(repo, (state, now) => planRenew(state, taskId, repo.agent.id!, now, ttl));

/** `gc`: see {@link planGc}. */
export const gc = (repo: AgentRepo, dryRun: boolean) => changeClaims(repo, (state, now) => planGc(state, now), { dryRun });

/** How many of the claims ref's last commits `status` lists. */
export const STATUS_RECENT = 5;

/** The `git log` arguments of the last `count` commits at `oid`, in the format {@link parseRecentPushes} reads. */
export const recentPushesArgs = (oid: string, count: number): string[] => ['log', '-n', String(count), '--format=%H%x00%ct%x00%an%x00%s', oid];

/** Parses the output of {@link recentPushesArgs}: one commit per line, newest first. */
export function parseRecentPushes(text: string): RecentPush[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [hash, time, author, subject] = line.split('\0') as [string, string, string, string];
      return { oid: hash, time: Number(time) * 1000, author, subject };
    });
}

/** The last `count` commits of the claims ref at `oid`, newest first (for `status` and the dashboard). @throws GitError */
export function readRecentPushes(repo: AgentRepo, oid: string, count: number): RecentPush[] {
  return parseRecentPushes(gitText(recentPushesArgs(oid, count), repo.git));
}

/**
 * `status [task] [--json]`: claims and the last pushes on the claims ref, after a fetch (a failed
 * fetch falls back to the local view, with a warning). Exit 1 when the named task has no claim.
 */
export function status(repo: AgentRepo, taskId: string | undefined, json: boolean): CommandResult {
  const warnings: string[] = [];
  try {
    fetchClaims(repo);
  } catch (error) {
    warnings.push(`WARNING: could not fetch the claims branch (${(error as Error).message}); showing the local view`);
  }
  const oid = readViewOid(repo);
  const now = Date.now();
  const state = readClaimsState(repo, oid, now);
  const claims = taskId ? state.claims.filter((c) => c.taskId === taskId) : state.claims;
  const recent = oid && !taskId ? readRecentPushes(repo, oid, STATUS_RECENT) : [];
  const report = statusJson(viewRef(repo), oid, claims, recent, now);
  const problems = state.problems.map((p) => `WARNING: ${viewRef(repo)}: agent-hooks.json: ${p} (the defaults apply)`);
  if (taskId && claims.length === 0) return { exitCode: EXIT.failed, lines: [...warnings, ...problems, `ERROR: ${taskId}: no claim of this task on ${viewRef(repo)}`] };
  return { exitCode: EXIT.ok, lines: [...warnings, ...problems, ...(json ? [JSON.stringify(report, null, 2)] : formatStatus(report, repo.agent.id))] };
}
