// The one renderer of command outcomes for terminals: lines (ERROR:/WARNING: go to stderr at the
// edge) and the exit code. The MCP server shows the same lines beside the typed outcome.
import { EXIT, type ClaimRef, type ClaimsOutcome, type CommandResult, type StatusOutcome } from './result.js';
import { formatLostClaim } from './session.js';
import { formatStatus } from './status.js';
import { formatTime } from './text.js';
import { formatVerdict } from './verdict.js';

const heldLine = (task: string, c: ClaimRef) =>
  `ERROR: ${task}: held by ${c.agent} until ${formatTime(c.expiresAt)}${c.files.length ? ` (files ${c.files.join(', ')})` : ''}; fix: wait for the claim to expire or ask ${c.agent}; agent-hooks status ${task}`;

/** The exit code of an outcome: 0 done or idle, 3 held by another agent, 1 any other failure. */
export function exitCodeOfOutcome(o: ClaimsOutcome): number {
  switch (o.kind) {
    case 'held':
    case 'leased':
    case 'not-holder':
      return EXIT.held;
    case 'no-claim':
    case 'refused':
    case 'gave-up':
      return EXIT.failed;
    default:
      return EXIT.ok;
  }
}

/** The lines of an outcome, exactly as the CLI prints them. */
export function formatOutcome(o: ClaimsOutcome): string[] {
  switch (o.kind) {
    case 'claimed':
      return [...o.warnings.map(formatVerdict), `claimed ${o.claim.task} until ${formatTime(o.claim.expiresAt)}${o.claim.files.length ? ` (lease: ${o.claim.files.join(', ')})` : ''}`];
    case 'released':
      return [`released ${o.task}`];
    case 'renewed':
      return o.claims.map((c) => `renewed ${c.task} until ${formatTime(c.expiresAt)}`);
    case 'removed':
      return o.claims.map((c) => `removed expired claim ${c.task} of ${c.agent} (expired ${formatTime(c.expiresAt)})`);
    case 'idle':
      return [o.reason];
    case 'held':
      return [heldLine(o.task, o.holder)];
    case 'leased':
      return o.verdicts.map(formatVerdict);
    case 'not-holder':
      return [`ERROR: ${o.task}: the expired claim belongs to ${o.holder.agent}, not ${o.agent}; fix: agent-hooks gc removes expired claims, or agent-hooks claim ${o.task} takes it over`];
    case 'no-claim':
      return [`ERROR: ${o.task}: no claim of this task on ${o.ref}; fix: agent-hooks status`];
    case 'refused':
      return o.lines;
    case 'gave-up':
      return [`ERROR: gave up after ${o.attempts} attempts: the claims ref kept moving; fix: try again`];
    case 'dry-run': {
      const would = o.would.kind === 'removed' ? o.would.claims.map((c) => `would remove expired claim ${c.task} of ${c.agent} (expired ${formatTime(c.expiresAt)})`) : formatOutcome(o.would).map((l) => `would: ${l}`);
      return [...would, ...o.writes.map((w) => `would ${w.delete ? 'delete' : 'write'} ${w.path}`)];
    }
  }
}

/** An outcome as the CLI shows it: its lines and exit code. */
export function renderOutcome(o: ClaimsOutcome): CommandResult {
  return { exitCode: exitCodeOfOutcome(o), lines: formatOutcome(o) };
}

/**
 * `status` as the CLI shows it: warnings, then the report (JSON or lines); exit 1 for a named
 * task without a claim or when this agent lost a claim (each named in a WARNING line).
 */
export function renderStatus(o: StatusOutcome, json: boolean, me: string | undefined): CommandResult {
  const lost = o.lost.map(formatLostClaim);
  if (o.kind === 'no-claim') {
    const broken = o.invalid.map((i) => `ERROR: ${i.path}${i.line !== null ? `:${i.line}` : ''}: ${i.problem}${i.fix ? `; fix: ${i.fix}` : ''}`);
    return { exitCode: EXIT.failed, lines: [...o.warnings, ...lost, ...broken, `ERROR: ${o.task}: no ${broken.length > 0 ? 'valid ' : ''}claim of this task on ${o.ref}`] };
  }
  return { exitCode: lost.length > 0 ? EXIT.failed : EXIT.ok, lines: [...o.warnings, ...lost, ...(json ? [JSON.stringify(o.report, null, 2)] : formatStatus(o.report, me))] };
}
