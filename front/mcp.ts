// `agent-hooks mcp`: the agent commands as tools of a stdio MCP server (DESIGN.md "Agent
// sessions"), on the official TypeScript SDK. Each tool calls the same command function as the
// CLI and answers with the typed outcome as structured content plus one text line; what the CLI
// would end with exit 2 or 3 (bad input, held by another agent, not a git repository) is a tool
// error (isError) with the CLI's own `ERROR: ...; fix: ...` line. Every answer also names the
// claims this agent lost (`lost`, and a WARNING line). Nothing but protocol goes to stdout.
// Loaded lazily by the CLI (dist/mcp.mjs), so `agent-hooks claim` never pays for the SDK.
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { fetchClaims, NotARepositoryError, openAgentRepo, readClaimsState, readViewOid, type AgentRepo } from '../commands/agent-repo.js';
import { claim, readLostClaims, release, renew, status } from '../commands/claims.js';
import { land } from '../commands/land.js';
import { push } from '../commands/push.js';
import { testFast } from '../commands/test.js';
import type { Claim } from '../core/claim.js';
import { LeaseTable, leasesOf } from '../core/lease.js';
import { claimArgumentProblems } from '../core/plans.js';
import { renderOutcome, renderStatus } from '../core/render.js';
import { EXIT, type ClaimsOutcome, type CommandResult } from '../core/result.js';
import { formatLostClaim, type LostClaim } from '../core/session.js';
import { TTL_MAX, TTL_MIN } from '../core/policy.js';
import { formatTime, quote } from '../core/text.js';
import { VERSION } from '../core/version.js';
import { gitText } from '../git/git.js';

/** Where the server works: the repository directory and the environment (AGENT_ID...). */
export interface McpContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** A tool's answer before it becomes MCP content: the typed result, its exit code, the CLI's lines. */
interface Answer {
  result: Record<string, unknown>;
  exitCode: number;
  lines: string[];
}

/** The one text line of an answer: the first ERROR line, else the last line. */
const oneLine = (lines: readonly string[]) => lines.find((l) => l.startsWith('ERROR: ')) ?? lines.at(-1) ?? '';

/** An answer as MCP content: structured (result, exitCode, lines, lost) plus one text line, and the lost-claim notices. */
function toContent(answer: Answer, lost: LostClaim[], isError = answer.exitCode !== EXIT.ok): CallToolResult {
  const notices = lost.map(formatLostClaim);
  return {
    content: [{ type: 'text', text: oneLine(answer.lines) }, ...(notices.length ? [{ type: 'text' as const, text: notices.join('\n') }] : [])],
    structuredContent: { ...answer.result, exitCode: answer.exitCode, lines: answer.lines, lost },
    isError,
  };
}

const usage = (line: string): Answer => ({ result: { kind: 'usage' }, exitCode: EXIT.usage, lines: [line] });

/** Opens the repository for a call; a usage answer when there is none or no agent id. */
function openRepo(ctx: McpContext, needsAgent: boolean): AgentRepo | Answer {
  try {
    const repo = openAgentRepo(ctx.cwd, ctx.env);
    if (needsAgent && repo.agent.id === undefined) return usage('ERROR: no agent id; fix: set AGENT_ID in the MCP server\'s environment (the "env" of its config), or git config agenthooks.agent <id>');
    return repo;
  } catch (error) {
    if (error instanceof NotARepositoryError) return usage(`ERROR: ${error.message}`);
    throw error;
  }
}

const isAnswer = (x: AgentRepo | Answer): x is Answer => 'exitCode' in x;

/** The claims this agent lost, for the notice in every answer (empty when it cannot tell). */
function lostOf(repo: AgentRepo): LostClaim[] {
  try {
    const now = Date.now();
    return readLostClaims(repo, readClaimsState(repo, readViewOid(repo), now).claims, now);
  } catch {
    return [];
  }
}

const fromOutcome = (o: ClaimsOutcome): Answer => ({ result: o as unknown as Record<string, unknown>, ...renderOutcome(o) });
const fromCommand = (r: CommandResult & { output?: string }): Answer => ({ result: { kind: r.exitCode === 0 ? 'ok' : 'failed', ...(r.output !== undefined ? { output: r.output } : {}) }, exitCode: r.exitCode, lines: r.lines });

/**
 * Runs one tool call: opens the repository, calls `body`, adds the lost-claim notices; `ERROR:
 * internal` for a broken environment. A non-zero exit code is a tool error unless `isError` says
 * otherwise (`status` exits 1 for a lost claim, `check_paths` 3 for a held path: answers, not errors).
 */
async function call(ctx: McpContext, needsAgent: boolean, body: (repo: AgentRepo) => Answer | Promise<Answer>, isError?: (a: Answer) => boolean): Promise<CallToolResult> {
  try {
    const repo = openRepo(ctx, needsAgent);
    if (isAnswer(repo)) return toContent(repo, []);
    const answer = await body(repo);
    return toContent(answer, lostOf(repo), isError?.(answer));
  } catch (error) {
    return toContent({ result: { kind: 'internal' }, exitCode: EXIT.failed, lines: [`ERROR: internal: ${(error as Error).message.split('\n')[0]}`] }, []);
  }
}

/** One path's answer of `check_paths`: free to edit, or leased by another agent (who, which task and glob, until when). */
export interface PathCheck {
  path: string;
  allowed: boolean;
  outside?: boolean;
  holder?: { agent: string; task: string; glob: string; expiresAt: string };
}

/** `check_paths`: may this agent edit these paths? Judged against the freshest claims (fetched; the local view when offline). */
function checkPaths(repo: AgentRepo, paths: string[]): Answer {
  const lines: string[] = [];
  try {
    fetchClaims(repo);
  } catch (error) {
    lines.push(`WARNING: could not fetch the claims branch (${(error as Error).message.split('\n')[0]}); judged on the local view`);
  }
  const now = Date.now();
  const state = readClaimsState(repo, readViewOid(repo), now);
  const top = gitText(['rev-parse', '--show-toplevel'], repo.git);
  const others = state.claims.filter((c: Claim) => c.lock.agent !== repo.agent.id);
  const table = new LeaseTable(leasesOf(others, now), state.policy.leases.exempt);
  const checks: PathCheck[] = paths.map((p) => {
    const path = relative(top, resolve(repo.git.cwd ?? top, p)).split('\\').join('/');
    if (path === '' || path === '..' || path.startsWith('../') || isAbsolute(path)) return { path: p, allowed: true, outside: true };
    const [hit] = table.match(path);
    if (!hit) return { path, allowed: true };
    const c = hit.lease.claim;
    return { path, allowed: false, holder: { agent: c.lock.agent, task: c.taskId, glob: hit.glob, expiresAt: formatTime(c.expiresAt) } };
  });
  for (const c of checks) {
    if (c.holder) lines.push(`ERROR: ${quote(c.path)}: leased by ${c.holder.agent} (task ${c.holder.task}, glob ${quote(c.holder.glob)}) until ${c.holder.expiresAt}; fix: edit other paths, or wait for the claim to expire or ask ${c.holder.agent} (agent-hooks status ${c.holder.task})`);
  }
  const held = checks.filter((c) => !c.allowed).length;
  lines.push(held === 0 ? `you may edit ${checks.length === 1 ? quote(checks[0]!.path) : `all ${checks.length} paths`}` : `${held} of ${checks.length} paths are leased by other agents`);
  return { result: { kind: held === 0 ? 'free' : 'held', allowed: held === 0, paths: checks }, exitCode: held === 0 ? EXIT.ok : EXIT.held, lines };
}

const task = z.string().describe('the task id, e.g. parser (the lock file is <locks-dir>/<task>.txt)');
const ttl = z.number().int().min(TTL_MIN).max(TTL_MAX).describe('seconds the claim lasts (default: policy locks.ttl)');

/** A usage answer when the task id (or ttl) is unusable: the first line of the CLI's usage error for `command`. */
function checked(command: string, taskId: string, ttlSeconds: number | undefined): Answer | undefined {
  const problems = claimArgumentProblems(taskId, [], ttlSeconds);
  return problems.length > 0 ? usage(`ERROR: ${command}: ${problems[0]}`) : undefined;
}

/** Builds the server with its tools (not connected). */
export function createMcpServer(ctx: McpContext): McpServer {
  const server = new McpServer({ name: 'agent-hooks', version: VERSION });
  server.registerTool(
    'claim',
    { description: 'Claim a task: only you may work on it and change its leased files until the claim expires. Exit code 3 (isError) when another agent holds it.', inputSchema: { task, files: z.array(z.string()).optional().describe('globs to lease, e.g. ["src/parser/**"]'), ttl: ttl.optional(), description: z.string().max(1000).optional() } },
    (args) =>
      call(ctx, true, async (repo) => {
        const problems = claimArgumentProblems(args.task, args.files ?? [], args.ttl);
        return problems.length > 0 ? usage(`ERROR: claim: ${problems[0]}`) : fromOutcome(await claim(repo, args.task, args.files ?? [], args.ttl, args.description));
      }),
  );
  server.registerTool('release', { description: 'Release your claim of a task (only the holder may). Also forgets a claim you lost.', inputSchema: { task } }, (args) =>
    call(ctx, true, async (repo) => checked('release', args.task, undefined) ?? fromOutcome(await release(repo, args.task))),
  );
  server.registerTool('renew', { description: 'Renew your claim of a task from now (agent-hooks run does this by itself every ttl/3).', inputSchema: { task, ttl: ttl.optional() } }, (args) =>
    call(ctx, true, async (repo) => checked('renew', args.task, args.ttl) ?? fromOutcome(await renew(repo, args.task, args.ttl))),
  );
  server.registerTool('status', { description: 'Claims, leases, time left and recent pushes on the claims ref; names any claim of yours that expired or was taken over.', inputSchema: { task: task.optional() } }, (args) =>
    call(ctx, false, (repo) => {
      const o = status(repo, args.task);
      const r = renderStatus(o, false, repo.agent.id);
      const mine = o.kind === 'status' ? o.report.claims.filter((c) => c.active && c.agent === repo.agent.id).map((c) => c.task) : [];
      const summary = o.kind === 'status' ? `${o.report.claims.filter((c) => c.active).length} active claims on ${o.report.ref}; yours: ${mine.length ? mine.join(', ') : 'none'}` : oneLine(r.lines);
      return { result: o as unknown as Record<string, unknown>, exitCode: r.exitCode, lines: [...r.lines.filter((l) => l.startsWith('ERROR: ')), summary] };
    }, (a) => a.lines.some((l) => l.startsWith('ERROR: '))),
  );
  server.registerTool('check_paths', { description: 'May I edit these paths? Names the agent, task and glob holding each leased one. Paths relative to the repository (or absolute).', inputSchema: { paths: z.array(z.string()).min(1).max(1000) } }, (args) =>
    call(ctx, false, (repo) => checkPaths(repo, args.paths), () => false),
  );
  // push, land and test_fast can take minutes (the server's tests, the local tests): each runs in a
  // child process, so the server keeps answering, and a cancelled call or a client that goes
  // away ends the child's whole process group.
  server.registerTool('push', { description: 'git push with your agent id (-o agent=<id>); on a non-fast-forward: fetch, rebase, retry; never forces. The server\'s ERROR lines on a refusal.', inputSchema: PUSH_INPUT }, (args, extra) => callInChild(ctx, 'push', args, extra.signal));
  server.registerTool('land', { description: 'Put HEAD in the landing queue of the claims branch (refs/land/<agent>/<topic>) and, unless wait is false, wait for the verdict: landed; ejected (isError, exit 1); held by another agent (isError, exit 3).', inputSchema: LAND_INPUT }, (args, extra) => callInChild(ctx, 'land', args, extra.signal));
  server.registerTool('test_fast', { description: "Run the sample of tests the server's pre-receive would run for your push, on this working tree (output in the result).", inputSchema: TEST_INPUT }, (args, extra) => callInChild(ctx, 'test_fast', args, extra.signal));
  return server;
}

const PUSH_INPUT = { args: z.array(z.string()).optional().describe('git push arguments, e.g. ["origin", "HEAD:main"]') };
const LAND_INPUT = {
  topic: z.string().optional().describe('the queue topic (default: the current branch)'),
  wait: z.boolean().optional().describe('wait for the verdict (default true)'),
  timeout: z.number().positive().optional().describe('seconds to wait (default: policy queue.wait)'),
};
const TEST_INPUT = { all: z.boolean().optional().describe('run every test file') };

/** The slow tools, run in a child process (`node mcp.mjs --call <tool> <json>`); arguments are checked again there. */
const SLOW_TOOLS: Record<string, (ctx: McpContext, args: unknown) => Promise<CallToolResult>> = {
  push: (ctx, raw) => {
    const args = z.object(PUSH_INPUT).parse(raw);
    return call(ctx, true, (repo) => fromCommand(push(repo, args.args ?? [])));
  },
  land: (ctx, raw) => {
    const args = z.object(LAND_INPUT).parse(raw);
    return call(ctx, true, async (repo) => {
      // The progress lines (queued as <ref>, queued at position N, testing a batch of K) come first, as the CLI prints them.
      const progress: string[] = [];
      const r = await land(repo, { wait: args.wait ?? true, timeoutS: args.timeout, topic: args.topic, progress: (line) => progress.push(line) });
      return { result: { kind: r.kind, ...(r.note ? { note: r.note } : {}) }, exitCode: r.exitCode, lines: [...progress, ...r.lines] };
    });
  },
  test_fast: (ctx, raw) => {
    const args = z.object(TEST_INPUT).parse(raw);
    return call(ctx, false, async (repo) => fromCommand(await testFast(repo, undefined, { all: args.all ?? false, capture: true })));
  },
};

/** Process groups of the slow calls running now, ended when the server exits. */
const running = new Set<number>();

/** Runs a slow tool in a child process (its own process group) and returns its answer; the signal ends the group. */
function callInChild(ctx: McpContext, tool: string, args: unknown, signal: AbortSignal): Promise<CallToolResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--call', tool, JSON.stringify(args)], { cwd: ctx.cwd, env: ctx.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    const stop = () => pid !== undefined && killGroup(pid);
    signal.addEventListener('abort', stop, { once: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const internal = (why: string): CallToolResult => toContent({ result: { kind: 'internal' }, exitCode: EXIT.failed, lines: [`ERROR: internal: ${why}`] }, []);
    child.on('error', (error) => done(internal(`could not start the ${tool} call (${error.message})`)));
    child.on('close', (code, sig) => {
      if (pid !== undefined) running.delete(pid);
      signal.removeEventListener('abort', stop);
      try {
        return done(JSON.parse(Buffer.concat(out).toString('utf8')) as CallToolResult);
      } catch {
        const last = Buffer.concat(err).toString('utf8').trim().split('\n').pop();
        done(internal(`the ${tool} call ended with ${sig ?? `exit code ${code}`}${last ? ` (${last})` : ''}`));
      }
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/**
 * Serves the tools over stdio until the client goes away (stdin ends or stdout breaks), then
 * exits: a client that disconnects mid-call never leaves the server behind.
 */
export async function serveMcp(ctx: McpContext): Promise<void> {
  const server = createMcpServer(ctx);
  const transport = new StdioServerTransport();
  const bye = () => {
    for (const pid of running) killGroup(pid);
    process.exit(0);
  };
  process.stdin.on('end', bye);
  process.stdin.on('close', bye);
  process.stdout.on('error', bye);
  await server.connect(transport);
}


// Run directly (`node dist/mcp.mjs`, what `claude install` and `codex install` register), the
// bundle serves at once, without the CLI's argument parser (yargs costs 110-180 ms to load).
// `--call <tool> <json>` is the child process of one slow call: its answer as JSON on stdout.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ctx = { cwd: process.cwd(), env: process.env };
  const [flag, tool, json] = process.argv.slice(2);
  const work = flag === '--call' && tool && SLOW_TOOLS[tool] ? SLOW_TOOLS[tool](ctx, JSON.parse(json ?? '{}')).then((answer) => void process.stdout.write(`${JSON.stringify(answer)}\n`)) : serveMcp(ctx);
  work.catch((error: unknown) => {
    process.stderr.write(`ERROR: internal: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
