// What every agent command returns to its front end (the CLI, the MCP server, the dashboard):
// typed outcomes, never pre-rendered text. core/render.ts turns them into the CLI's lines and
// exit code; the MCP server returns them as structured content.
import type { InvalidLockFile } from './claims-rules.js';
import type { LostClaim } from './session.js';
import type { StatusJson } from './status.js';
import type { Verdict } from './verdict.js';

/** Exit codes (DESIGN.md "Command line"). */
export const EXIT = { ok: 0, failed: 1, usage: 2, held: 3 } as const;

/** What a command prints (stdout for results, stderr for `ERROR:`/`WARNING:` lines) and its exit code. */
export interface CommandResult {
  exitCode: number;
  lines: string[];
}

/** A claim as the outcomes name it; `expiresAt` in epoch ms. */
export interface ClaimRef {
  task: string;
  agent: string;
  expiresAt: number;
  files: string[];
}

/**
 * How `claim`, `release`, `renew`, `gc` and the heartbeat ended (times in epoch ms):
 * - `claimed`, `released`, `renewed`, `removed` (gc): the change landed on the claims ref;
 * - `idle`: nothing to do (`reason` says why: no expired claims, no renewal due...);
 * - `held`: another agent's active claim holds the task (exit 3);
 * - `leased`: the requested lease overlaps another agent's (exit 3; `verdicts` name them);
 * - `not-holder`: the claim is another agent's, expired (exit 3: gc or claim takes it over);
 * - `no-claim`: the task has no claim on the claims ref (exit 1);
 * - `refused`: the server rejected the push (exit 1; its `ERROR:` lines);
 * - `gave-up`: the claims ref kept moving for `attempts` tries (exit 1);
 * - `dry-run`: what `gc --dry-run` would do.
 */
export type ClaimsOutcome =
  | { kind: 'claimed'; claim: ClaimRef; warnings: Verdict[] }
  | { kind: 'released'; task: string }
  | { kind: 'renewed'; claims: { task: string; expiresAt: number }[] }
  | { kind: 'removed'; claims: ClaimRef[] }
  | { kind: 'idle'; reason: string }
  | { kind: 'held'; task: string; holder: ClaimRef }
  | { kind: 'leased'; task: string; verdicts: Verdict[] }
  | { kind: 'not-holder'; task: string; agent: string; holder: ClaimRef }
  | { kind: 'no-claim'; task: string; ref: string }
  | { kind: 'refused'; lines: string[] }
  | { kind: 'gave-up'; attempts: number }
  | { kind: 'dry-run'; would: ClaimsOutcome; writes: { path: string; delete: boolean }[] };

/**
 * How `status` ended: the report (the `--json` shape) with the fetch and policy warnings, or
 * `no-claim` for a named task without one. `lost` names claims this agent lost (exit 1).
 */
export type StatusOutcome =
  | { kind: 'status'; report: StatusJson; warnings: string[]; lost: LostClaim[] }
  | { kind: 'no-claim'; task: string; ref: string; warnings: string[]; lost: LostClaim[]; invalid: InvalidLockFile[] };
