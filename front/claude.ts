// The Claude Code adapter: a PreToolUse hook that denies edits to paths leased by other agents,
// a SessionStart hook that tells the agent its claims and the others' leases, and the installer
// that merges both into .claude/settings.json. Hook contract: Claude Code's hooks reference
// (PreToolUse input: tool_name, tool_input.file_path, cwd; exit 2 blocks, stderr is the reason).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readCache, writeCache } from '../server/claims-cache.js';
import { statePaths } from '../server/state.js';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Claim } from '../core/claim.js';
import { LeaseTable, leasesOf } from '../core/lease.js';
import { formatTime, quote } from '../core/text.js';
import { gitText } from '../git/git.js';
import { openAgentRepo, readClaimsState, type AgentRepo } from '../commands/agent-repo.js';
import { readLostClaims } from '../commands/claims.js';
import { formatLostClaim } from '../core/session.js';
import type { Policy } from '../core/policy.js';
import { VERSION } from '../core/version.js';

/** Tools whose input names a file they write (`file_path`; `notebook_path` for NotebookEdit). */
export const EDIT_TOOLS = ['Write', 'Edit', 'MultiEdit', 'NotebookEdit'];

/** Codex's edit tool: its input is a patch in `tool_input.command` (Codex's hooks, PR openai/codex#18391). */
export const PATCH_TOOL = 'apply_patch';

/**
 * The paths an `apply_patch` patch writes: each `*** Add File:`, `*** Update File:`, `*** Delete
 * File:` and `*** Move to:` line (Codex's patch format). Pure.
 */
export function parsePatchPaths(patch: string): string[] {
  const paths: string[] = [];
  for (const m of patch.matchAll(/^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+?)\s*$/gm)) if (!paths.includes(m[1]!)) paths.push(m[1]!);
  return paths;
}

/** What the adapter answers: exit code, and what goes to stdout and stderr. */
export interface HookAnswer {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const allow = (warning?: string): HookAnswer => ({ exitCode: 0, stdout: '', stderr: warning ? `agent-hooks: WARNING: ${warning}; allowing the edit\n` : '' });

/**
 * Decides one PreToolUse call. A path leased by another agent is denied (exit 2, the reason on
 * stderr, the deny JSON on stdout); everything else is allowed silently. Input it cannot read, a
 * path outside any repository or a git failure is allowed with a warning: a broken adapter must
 * not block all editing, and the server's pre-receive is the backstop.
 */
export function preToolUse(stdin: string, env: NodeJS.ProcessEnv, now: number): HookAnswer {
  let input: { tool_name?: unknown; tool_input?: { file_path?: unknown; notebook_path?: unknown; command?: unknown }; cwd?: unknown };
  try {
    input = JSON.parse(stdin);
  } catch (error) {
    return allow(`the PreToolUse input is not JSON (${(error as Error).message})`);
  }
  if (typeof input !== 'object' || input === null) return allow('the PreToolUse input is not a JSON object');
  if (typeof input.tool_name !== 'string' || (!EDIT_TOOLS.includes(input.tool_name) && input.tool_name !== PATCH_TOOL)) return allow();
  let files: string[];
  if (input.tool_name === PATCH_TOOL) {
    const patch = input.tool_input?.command;
    if (typeof patch !== 'string') return allow(`${PATCH_TOOL} input has no command (the patch)`);
    files = parsePatchPaths(patch);
  } else {
    const file = input.tool_input?.file_path ?? input.tool_input?.notebook_path;
    if (typeof file !== 'string' || file === '') return allow(`${input.tool_name} input has no file_path`);
    files = [file];
  }
  const cwd = typeof input.cwd === 'string' ? input.cwd : process.cwd();
  try {
    const [top, commonDir] = gitText(['rev-parse', '--show-toplevel', '--path-format=absolute', '--git-common-dir'], { cwd, env, okExitCodes: [0, 128] }).split('\n');
    if (!top || !commonDir) return allow();
    const paths = files.map((file) => relative(top, resolve(cwd, file)).split('\\').join('/')).filter((path) => !(path === '' || path.startsWith('../') || path === '..' || isAbsolute(path)));
    if (paths.length === 0) return allow();
    const repo = openAgentRepo(top, env);
    const state = readCachedClaims(commonDir, repo, now);
    const others = state.claims.filter((c) => c.lock.agent !== repo.agent.id);
    const table = new LeaseTable(leasesOf(others, now), state.policy.leases.exempt);
    const found = paths.map((p) => ({ path: p, hit: table.match(p)[0] })).find((x) => x.hit);
    if (!found) return allow();
    const { path, hit } = found as { path: string; hit: NonNullable<(typeof found)['hit']> };
    const { claim } = hit.lease;
    const reason = `${quote(path)} is leased by ${claim.lock.agent} (task ${claim.taskId}, glob ${quote(hit.glob)}) until ${formatTime(claim.expiresAt)}; do not edit it: work on your own claimed paths, or wait for the claim to expire or ask ${claim.lock.agent} (agent-hooks status ${claim.taskId})`;
    const json = { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: reason } };
    return { exitCode: 2, stdout: `${JSON.stringify(json)}\n`, stderr: `${reason}\n` };
  } catch (error) {
    return allow(`could not read the claims (${(error as Error).message.split('\n')[0]})`);
  }
}

/**
 * The claims at the repository's view of the claims ref, from `<git-common-dir>/agent-hooks/
 * claims-cache.json` when it was written for the same oid and version (the adapter runs before
 * every edit; the cache saves three git calls), else read from git and cached.
 */
export function readCachedClaims(commonDir: string, repo: AgentRepo, now: number): { policy: Policy; claims: Claim[] } {
  const path = statePaths(commonDir).claimsCache;
  const key = `${VERSION} ${repo.openedAt ?? 'none'}`;
  const cached = readCache<{ policy: Policy; claims: Claim[] }>(path, key);
  if (cached) return cached;
  const { policy, claims } = readClaimsState(repo, repo.openedAt, now);
  writeCache(path, key, { policy, claims });
  return { policy, claims };
}

/** The SessionStart context: the agent's own claims and leases, and the leases of the others. */
export function sessionStart(cwd: string, env: NodeJS.ProcessEnv, now: number): string {
  const repo = openAgentRepo(cwd, env);
  const state = readClaimsState(repo, repo.openedAt, now);
  const active = state.claims.filter((c) => c.expiresAt > now);
  const line = (c: Claim) => `- ${c.taskId} (${c.lock.agent}, until ${formatTime(c.expiresAt)})${c.lock.files.length ? `: ${c.lock.files.join(', ')}` : ''}`;
  const mine = active.filter((c) => c.lock.agent === repo.agent.id);
  const others = active.filter((c) => c.lock.agent !== repo.agent.id);
  return [
    `agent-hooks: you are ${repo.agent.id ?? 'an agent without an id (set AGENT_ID)'}; claims as of ${state.refName}, ${formatTime(now)}.`,
    ...readLostClaims(repo, state.claims, now).map(formatLostClaim),
    mine.length ? `Your claims and leases:\n${mine.map(line).join('\n')}` : 'You hold no claims. Take one with: agent-hooks claim <task> --files <globs>',
    others.length ? `Leased by other agents (do not edit these paths; the server rejects such pushes):\n${others.map(line).join('\n')}` : 'No other agent holds a lease.',
  ].join('\n');
}

/**
 * The UserPromptSubmit context (also Codex's): one WARNING line per claim of this agent that
 * expired or another agent took over, else nothing (no noise on every prompt). Reads the local
 * view of the claims ref (the heartbeat of `agent-hooks run` keeps it fresh).
 */
export function userPromptSubmit(cwd: string, env: NodeJS.ProcessEnv, now: number): string {
  const repo = openAgentRepo(cwd, env);
  const state = readClaimsState(repo, repo.openedAt, now);
  return readLostClaims(repo, state.claims, now).map(formatLostClaim).join('\n');
}

/** A settings.json hook entry that agent-hooks wrote: its command mentions this marker. */
const MARKER = 'agent-hooks';

interface HookEntry {
  matcher?: string;
  hooks: { type: string; command: string; timeout?: number }[];
}

/**
 * Merges the PreToolUse and SessionStart hooks into `<dir>/.claude/<file>` (`settings.json`, or the per-machine `settings.local.json`): entries that
 * agent-hooks wrote before are replaced, everything else is kept. Returns whether the file
 * changed (an identical second run changes nothing).
 * @throws Error when the existing settings file is not a JSON object.
 */
export function installClaudeHooks(dir: string, file: 'settings.json' | 'settings.local.json', commands: { preToolUse: string; sessionStart: string; userPromptSubmit: string }): { path: string; changed: boolean } {
  const path = join(dir, '.claude', file);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = undefined;
  }
  const settings = text === undefined ? {} : (JSON.parse(text) as unknown);
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new Error(`${path} is not a JSON object; fix it by hand, then run again`);
  const record = settings as { hooks?: Record<string, HookEntry[]> };
  const hooks = (record.hooks ??= {});
  const ours = (entry: HookEntry) => entry.hooks?.some((h) => h.command.includes(MARKER));
  const put = (event: string, entry: HookEntry) => {
    hooks[event] = [...(hooks[event] ?? []).filter((e) => !ours(e)), entry];
  };
  put('PreToolUse', { matcher: EDIT_TOOLS.join('|'), hooks: [{ type: 'command', command: commands.preToolUse, timeout: 10 }] });
  put('SessionStart', { hooks: [{ type: 'command', command: commands.sessionStart, timeout: 30 }] });
  put('UserPromptSubmit', { hooks: [{ type: 'command', command: commands.userPromptSubmit, timeout: 30 }] });
  const next = `${JSON.stringify(settings, null, 2)}\n`;
  if (next === text) return { path, changed: false };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.agent-hooks-tmp`, next);
  renameSync(`${path}.agent-hooks-tmp`, path);
  return { path, changed: true };
}

/** How an agent tool starts the MCP server: a command and its arguments (no shell). */
export interface McpServerCommand {
  command: string;
  args: string[];
}

/**
 * Registers the MCP server as `agent-hooks` in `<dir>/.mcp.json` (Claude Code's project MCP
 * config, `{"mcpServers": {...}}`): other servers and keys are kept; a second run with the same
 * command changes nothing. @throws Error when the file is there but not a JSON object.
 */
export function installMcpJson(dir: string, server: McpServerCommand): { path: string; changed: boolean } {
  const path = join(dir, '.mcp.json');
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = undefined;
  }
  const config = text === undefined ? {} : (JSON.parse(text) as unknown);
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error(`${path} is not a JSON object; fix it by hand, then run again`);
  const record = config as { mcpServers?: Record<string, unknown> };
  if (typeof record.mcpServers !== 'object' || record.mcpServers === null || Array.isArray(record.mcpServers)) record.mcpServers = {};
  record.mcpServers['agent-hooks'] = { type: 'stdio', command: server.command, args: server.args };
  const next = `${JSON.stringify(config, null, 2)}\n`;
  if (next === text) return { path, changed: false };
  writeFileSync(`${path}.agent-hooks-tmp`, next);
  renameSync(`${path}.agent-hooks-tmp`, path);
  return { path, changed: true };
}
