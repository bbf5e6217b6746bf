// claim, release, renew, gc, status: plan on the freshest claims ref, publish with plumbing, and
// on a lost race fetch and plan again.
import { planClaim, planGc, planRelease, planRenew, type ClaimsState, type Plan } from '../core/plans.js';
import type { Claim } from '../core/claim.js';
import { exitCodeOfOutcome } from '../core/render.js';
import { EXIT, type ClaimsOutcome, type StatusOutcome } from '../core/result.js';
import { findLostClaims, type LostClaim } from '../core/session.js';
import { statusJson, type RecentPush } from '../core/status.js';
import { forgetClaim, readCommonDir, readRememberedClaims, rememberClaim } from '../git/claim-memory.js';
import { gitText } from '../git/git.js';
import { fetchClaims, publishChange, readClaimsState, readViewOid, viewRef, type AgentRepo } from './agent-repo.js';

/** How many times a change is planned again after losing a race for the claims ref. */
export const MAX_ATTEMPTS = 12;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Applies a planned change to the claims ref: fetch, read the state, plan, publish; on a lost
 * race (another agent moved the ref) wait a random 20-300 ms and start over. A refusal by the
 * server is planned once more on a fresh state, so a task taken meanwhile ends as `held`.
 * @throws GitError when the claims ref cannot be fetched or git fails otherwise.
 */
export async function changeClaims(repo: AgentRepo, makePlan: (state: ClaimsState, now: number) => Plan, options: { withPaths?: boolean; dryRun?: boolean } = {}): Promise<ClaimsOutcome> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    fetchClaims(repo);
    const base = readViewOid(repo);
    const now = Date.now();
    const plan = makePlan(readClaimsState(repo, base, now, options.withPaths), now);
    if (plan.kind !== 'change') return plan.outcome;
    if (options.dryRun) return { kind: 'dry-run', would: plan.outcome, writes: [...plan.writes].map(([path, content]) => ({ path, delete: content === null })) };
    const result = publishChange(repo, base, plan.writes, plan.message);
    if (result.kind === 'landed') return plan.outcome;
    if (result.kind === 'refused') {
      fetchClaims(repo);
      const again = makePlan(readClaimsState(repo, readViewOid(repo), Date.now(), options.withPaths), Date.now());
      return again.kind === 'settled' && exitCodeOfOutcome(again.outcome) === EXIT.held ? again.outcome : { kind: 'refused', lines: result.lines };
    }
    await sleep(20 + Math.random() * 280);
  }
  return { kind: 'gave-up', attempts: MAX_ATTEMPTS };
}

/**
 * Keeps the claim memory (git/claim-memory.ts) in step with what landed: a claim or renewal is
 * remembered with its new expiry, a release forgets the task (also when it was no longer this
 * agent's: releasing is how the agent acknowledges a lost claim). Never fails the command.
 */
function remember(repo: AgentRepo, outcome: ClaimsOutcome, releasedTask?: string): ClaimsOutcome {
  const agent = repo.agent.id;
  if (!agent) return outcome;
  try {
    const commonDir = readCommonDir(repo.git);
    if (outcome.kind === 'claimed') rememberClaim(commonDir, agent, outcome.claim.task, outcome.claim.expiresAt);
    if (outcome.kind === 'renewed') for (const c of outcome.claims) rememberClaim(commonDir, agent, c.task, c.expiresAt);
    if (releasedTask !== undefined && ['released', 'held', 'not-holder', 'no-claim'].includes(outcome.kind)) forgetClaim(commonDir, agent, releasedTask);
  } catch {
    // the memory is a convenience; the claims ref stays the truth
  }
  return outcome;
}

/** `claim <task>`: see {@link planClaim}. */
export const claim = async (repo: AgentRepo, taskId: string, files: string[], ttl: number | undefined, description: string | undefined) =>
  remember(repo, await changeClaims(repo, (state, now) => planClaim(state, { taskId, agent: repo.agent.id!, files, ttl, description, now }), { withPaths: files.length > 0 }));

/** `release <task>`: see {@link planRelease}. */
export const release = async (repo: AgentRepo, taskId: string) => remember(repo, await changeClaims(repo, (state, now) => planRelease(state, taskId, repo.agent.id!, now)), taskId);

/** `renew <task>`: see {@link planRenew}. */
export const renew = async (repo: AgentRepo, taskId: string, ttl?: number) => remember(repo, await changeClaims(repo, (state, now) => planRenew(state, taskId, repo.agent.id!, now, ttl)));

/** `gc`: see {@link planGc}. */
export const gc = (repo: AgentRepo, dryRun: boolean) => changeClaims(repo, (state, now) => planGc(state, now), { dryRun });

/** The claims this agent remembers and lost, judged against `claims` (empty without an agent id or memory). */
export function readLostClaims(repo: AgentRepo, claims: readonly Claim[], now: number): LostClaim[] {
  const agent = repo.agent.id;
  if (!agent) return [];
  try {
    return findLostClaims(readRememberedClaims(readCommonDir(repo.git), agent, now), claims, agent, now);
  } catch {
    return [];
  }
}

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
 * fetch falls back to the local view, with a warning), and the claims this agent lost.
 */
export function status(repo: AgentRepo, taskId: string | undefined): StatusOutcome {
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
  const invalid = taskId ? state.invalid.filter((i) => i.path.slice(state.policy.locks.dir.length + 1).replace(/\.(json|txt)$/, '') === taskId) : state.invalid;
  const lost = readLostClaims(repo, state.claims, now);
  const report = statusJson(viewRef(repo), oid, claims, recent, now, repo.agent.id, invalid, lost);
  warnings.push(...state.problems.map((p) => `WARNING: ${viewRef(repo)}: agent-hooks.json: ${p} (the defaults apply)`));
  if (taskId && claims.length === 0) return { kind: 'no-claim', task: taskId, ref: viewRef(repo), warnings, lost, invalid };
  return { kind: 'status', report, warnings, lost };
}
