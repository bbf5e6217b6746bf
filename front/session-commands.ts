// The yargs commands of agent sessions: `run`, `heartbeat`, `mcp`. Kept beside cli.ts so the
// MCP server (and its SDK) is loaded only when `agent-hooks mcp` runs.
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Argv } from 'yargs';
import { heartbeatTick, formatTick, startHeartbeat } from '../commands/heartbeat.js';
import { runLoop } from '../commands/run.js';
import { readCommonDir } from '../git/claim-memory.js';
import type { AgentRepo } from '../commands/agent-repo.js';

/** What the session commands need from the CLI: how to open the agent's repository, print, and fail with a usage error. */
export interface SessionCommandContext {
  cliPath: string;
  agentRepo: (needsAgent: boolean) => AgentRepo;
  usageError: (message: string) => Error;
}

const everyOption = { type: 'number', describe: 'heartbeat: renew every S seconds instead of a third of the shortest ttl (at least 0.5; for tests, or a tighter margin)' } as const;

function everyMs(every: number | undefined, usageError: SessionCommandContext['usageError']): number | undefined {
  if (every === undefined) return undefined;
  if (!Number.isFinite(every) || every < 0.5) throw usageError('--every must be a number of seconds, at least 0.5; fix: leave it out to renew every ttl/3');
  return Math.round(every * 1000);
}

/** Adds `run`, `heartbeat` and `mcp` to the CLI. */
export function addSessionCommands<T>(y: Argv<T>, ctx: SessionCommandContext): Argv<T> {
  return y
    .command(
      'run',
      'the agent loop: rerun <command> until stopped (one session log per run in <git-common-dir>/agent-hooks/logs/<agent>/, backoff 1 s to 5 min on failures, the heartbeat renewing your claims). Usage: agent-hooks run [--agent ID] [--once] [--max-runs N] -- <command...>',
      (z) =>
        z
          .option('agent', { type: 'string', describe: 'the agent id (default: AGENT_ID, agenthooks.agent, user.name); the command gets it as AGENT_ID' })
          .option('once', { type: 'boolean', default: false, describe: 'run the command once' })
          .option('max-runs', { type: 'number', describe: 'stop after N runs' })
          .option('heartbeat', { type: 'boolean', default: true, describe: 'renew your claims while the loop runs (--no-heartbeat: do not)' })
          .option('every', everyOption)
          .parserConfiguration({ 'populate--': true }),
      async (argv) => {
        const command = ((argv as { '--'?: unknown[] })['--'] ?? []).map(String);
        if (command.length === 0) throw ctx.usageError('no command to run; fix: agent-hooks run -- <command...>');
        if (argv.maxRuns !== undefined && (!Number.isInteger(argv.maxRuns) || argv.maxRuns < 1)) throw ctx.usageError('--max-runs must be a whole number, at least 1');
        const repo = ctx.agentRepo(argv.agent === undefined);
        const agent = argv.agent ?? repo.agent.id!;
        const result = await runLoop({
          command,
          agent,
          commonDir: readCommonDir(repo.git),
          cwd: process.cwd(),
          env: process.env,
          maxRuns: argv.once ? 1 : argv.maxRuns,
          cliPath: argv.heartbeat ? ctx.cliPath : undefined,
          everyMs: everyMs(argv.every, ctx.usageError),
          out: (line) => process.stdout.write(`${line}\n`),
        });
        if (result.error) process.stderr.write(`${result.error}\n`);
        process.exitCode = result.exitCode;
      },
    )
    .command(
      'mcp',
      'the MCP server (stdio) with the agent commands as tools: claim, release, renew, status, check_paths, push, test_fast. Configure it in your agent tool: agent-hooks claude install, agent-hooks codex install',
      {},
      async () => {
        // A separate bundle, loaded only here: the SDK and zod stay out of every other command.
        const { serveMcp } = (await import(pathToFileURL(join(dirname(ctx.cliPath), 'mcp.mjs')).href)) as typeof import('./mcp.js');
        await serveMcp({ cwd: process.cwd(), env: process.env });
      },
    )
    .command(
      'heartbeat',
      'renew your active claims every ttl/3 (one commit renews all of them) until stopped; never takes back a claim you lost',
      (z) =>
        z
          .option('once', { type: 'boolean', default: false, describe: 'one look: renew if due, then exit' })
          .option('force', { type: 'boolean', default: false, describe: 'with --once: renew now even if not due' })
          .option('json', { type: 'boolean', default: false, describe: 'with --once: print the result as JSON' })
          .option('every', everyOption),
      async (argv) => {
        const repo = ctx.agentRepo(true);
        const every = everyMs(argv.every, ctx.usageError);
        if (argv.once) {
          const tick = await heartbeatTick(repo, { everyMs: every, force: argv.force });
          process.stdout.write(argv.json ? `${JSON.stringify(tick)}\n` : `${formatTick(tick).join('\n')}\n`);
          process.exitCode = tick.kind === 'failed' || tick.kind === 'offline' || tick.lost.length > 0 ? 1 : 0;
          return;
        }
        const heartbeat = startHeartbeat({ cliPath: ctx.cliPath, cwd: process.cwd(), env: process.env, everyMs: every, out: (line) => process.stdout.write(`${line}\n`) });
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        await heartbeat.stop();
      },
    );
}
