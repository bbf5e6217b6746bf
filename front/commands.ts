// Every `agent-hooks` command in one table: its words, arguments, options, help and examples
// (parsed by the pure front/args.ts), and the one function it runs. Adding a command is adding
// one entry to COMMANDS, for example:
//   {
//     name: 'heartbeat',                       // or two words for a subcommand: 'codex install'
//     describe: 'Renew this agent\'s claims every ttl/3 until stopped.',
//     args: [{ name: 'repo', required: true, describe: '...' }],
//     options: { interval: { type: 'string', value: 'S', describe: '...' } },
//     examples: ['agent-hooks heartbeat'],
//     check: (p) => (bad(p) ? 'what is wrong; fix: the command to run' : undefined),  // pure, optional
//     run: (p) => heartbeat(agentRepo(true), str(p, 'interval')),   // returns a CommandResult, or prints itself
//   },
// and one line of test/cli.test.ts's table for what it parses to.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VERSION } from '../core/version.js';
import { LAYOUTS, type LayoutKind } from '../server/layout.js';
import { doctor } from '../installer/doctor.js';
import { install } from '../installer/install.js';
import { uninstall } from '../installer/uninstall.js';
import { runDemo } from './demo.js';
import { claimArgumentProblems, ttlProblem } from '../core/plans.js';
import { renderOutcome, renderStatus } from '../core/render.js';
import { NotARepositoryError, openAgentRepo, type AgentRepo } from '../commands/agent-repo.js';
import { EXIT, type CommandResult } from '../core/result.js';
import { claim, gc, release, renew, status } from '../commands/claims.js';
import { preToolUse, sessionStart, userPromptSubmit } from './claude.js';
import { claudeInstall, codexInstall } from './claude-install.js';
import { formatTick, heartbeatTick, startHeartbeat } from '../commands/heartbeat.js';
import { runLoop } from '../commands/run.js';
import { readCommonDir } from '../git/claim-memory.js';
import { pathToFileURL } from 'node:url';
import { check } from '../commands/check.js';
import { push as pushCommand } from '../commands/push.js';
import { land, pushOrLand, queue } from '../commands/land.js';
import { runLander } from '../server/lander.js';
import { readRepo } from '../git/repo.js';
import { worktreeAdd } from '../installer/worktree.js';
import { testFast } from '../commands/test.js';
import { notify } from '../commands/notify.js';
import { runPreCommitCheck } from '../commands/pre-commit-check.js';
import { runGit } from '../git/git.js';
import type { CommandSpec, HelpTexts, ParsedArgs } from './args.js';

/** A user mistake found while running a command (exit 2); the message carries the fix. */
export class UsageError extends Error {}

/** Where the CLI runs from: the built bundles next to it. */
export interface CliContext {
  distDir: string;
  cliPath: string;
  print: (lines: string[]) => void;
}

/** A command of the table: its spec and what it runs. A result is rendered by cli.ts; void means the command printed itself. */
export interface Command extends CommandSpec {
  run: (parsed: ParsedArgs, context: CliContext) => Promise<CommandResult | void> | CommandResult | void;
}

const str = (parsed: ParsedArgs, name: string) => (parsed.args[name] ?? parsed.options[name]) as string | undefined;
const flag = (parsed: ParsedArgs, name: string) => parsed.options[name] === true;
const list = (parsed: ParsedArgs, name: string) => (parsed.options[name] ?? []) as string[];
const ttlOf = (parsed: ParsedArgs) => (str(parsed, 'ttl') === undefined ? undefined : Number(str(parsed, 'ttl')));

/**
 * The agent's repository in the current directory: a usage error outside a git repository, or
 * when the command needs an agent id and there is none.
 */
function agentRepo(needsAgent: boolean): AgentRepo {
  const here = runGit(['rev-parse', '--git-dir'], { cwd: process.cwd(), env: process.env, okExitCodes: [0, 128] });
  if (here.exitCode !== 0) {
    throw new UsageError(`${process.cwd()} is not inside a git repository; fix: cd into an agent's clone or worktree (git clone <upstream.git>), then run the command again`);
  }
  let repo: AgentRepo;
  try {
    repo = openAgentRepo(process.cwd(), process.env);
  } catch (error) {
    if (error instanceof NotARepositoryError) throw new UsageError(error.message);
    throw error;
  }
  if (needsAgent && repo.agent.id === undefined) {
    throw new UsageError(`no agent id (${repo.agent.source === 'none' ? 'AGENT_ID, agenthooks.agent and user.name are unset' : `${repo.agent.source} is not an agent id`}); fix: export AGENT_ID=<id>, or git config agenthooks.agent <id>`);
  }
  return repo;
}

const REPO_ARG = (what: string) => ({ name: 'repo', required: true, describe: `the path of ${what}` });
const DRY_RUN = { type: 'boolean', describe: 'print what would be done, change nothing' } as const;
const TTL = { type: 'string', value: 'S', describe: 'seconds the claim lasts, a whole number from 60 to 604800 (default: policy locks.ttl, 7200)' } as const;
const EVERY = { type: 'string', value: 'S', describe: 'heartbeat: renew every S seconds instead of a third of the shortest ttl (at least 0.5; for tests, or a tighter margin)' } as const;

/** Why an `--every` value is unusable, with a fix, or undefined. */
function everyProblem(every: string | undefined): string | undefined {
  if (every === undefined) return undefined;
  const n = Number(every);
  return Number.isFinite(n) && n >= 0.5 ? undefined : '--every must be a number of seconds, at least 0.5; fix: leave it out to renew every ttl/3';
}

const everyMs = (every: string | undefined) => (every === undefined ? undefined : Math.round(Number(every) * 1000));

const TASK_ARG = { name: 'task', required: true, describe: 'a task id: the lock file name without extension, e.g. parser-fix' };

/** The commands, in the order `--help` lists them. */
export const COMMANDS: Command[] = [
  {
    name: 'install',
    describe: 'Bare repo: install pre-receive and post-receive. Clone or worktree: install pre-commit. Idempotent; keeps and chains hooks that were there.',
    args: [REPO_ARG('the bare repo agents push to (e.g. /srv/git/upstream.git), or of a clone or worktree')],
    options: {
      create: { type: 'boolean', describe: 'create the bare repo (git init --bare, branch main) when the path does not exist or is an empty directory' },
      'dry-run': DRY_RUN,
      force: { type: 'boolean', describe: "write into a core.hooksPath outside the git dir (a hook manager's, or a dir other repositories share)" },
      layout: { type: 'string', value: LAYOUTS.join('|'), describe: "bare repos: git's hooks dir (default); gitlab: custom_hooks/<hook>.d/; gitea: hooks/<hook>.d/ (Gitea, Forgejo); gitolite: run by gitolite's repo-specific hooks" },
      resident: { type: 'boolean', describe: 'bare repos: judge pushes in one long-running checker process per repository (a perl client, no node per push); installing again without it turns it off' },
    },
    examples: ['agent-hooks install --create /srv/git/upstream.git   # a new shared bare repo', 'agent-hooks install ~/agents/agent-1                  # an agent\'s clone: pre-commit', 'agent-hooks install --dry-run /srv/git/upstream.git'],
    check: (p) => (str(p, 'layout') !== undefined && !(LAYOUTS as readonly string[]).includes(str(p, 'layout')!) ? `--layout ${str(p, 'layout')} is not one of ${LAYOUTS.join(', ')}; fix: --layout git` : undefined),
    run: (p, { distDir, print }) => {
      const layout = (str(p, 'layout') ?? 'git') as LayoutKind;
      const dryRun = flag(p, 'dry-run');
      const report = install(str(p, 'repo')!, { bundleDir: join(distDir, 'hooks'), nodePath: process.execPath, version: VERSION, dryRun, force: flag(p, 'force'), layout, create: flag(p, 'create'), resident: flag(p, 'resident') });
      if (report.steps.length === 0) print([`agent-hooks ${VERSION} is already installed in ${report.where}; nothing changed`]);
      else print([...report.steps.map((s) => `${dryRun ? 'would ' : ''}${s}`), ...(dryRun ? [] : [`agent-hooks ${VERSION} installed in ${report.where}`])]);
      if (layout === 'gitolite' && report.where) {
        print([
          'next, as the gitolite admin (docs/gitolite.md), once per server:',
          `  cp ${join(report.where, 'agent-hooks', 'gitolite-hook')} <LOCAL_CODE>/hooks/repo-specific/agent-hooks`,
          'and for this repository in gitolite.conf, then push gitolite-admin:',
          '  option hook.pre-receive = agent-hooks',
          '  option hook.post-receive = agent-hooks',
        ]);
      } else if (!dryRun && report.repo?.bare && report.steps.length > 0) {
        const path = report.repo.path;
        print([
          'next steps:',
          `  each agent's clone gets the pre-commit guard: git clone ${path} agent-1 && agent-hooks install agent-1`,
          '  or agents share one clone, a linked worktree each: agent-hooks worktree add agent-2',
          '  an agent is known by AGENT_ID, else git config agenthooks.agent, else git config user.name',
          `  check the installation with a synthetic push: agent-hooks doctor ${path}`,
        ]);
      }
    },
  },
  {
    name: 'uninstall',
    describe: 'Remove what install wrote and put back the hooks it replaced; says what state it kept (--purge removes it).',
    args: [REPO_ARG('the bare repo, clone or worktree agent-hooks was installed into')],
    options: { 'dry-run': DRY_RUN, purge: { type: 'boolean', describe: "also remove the bare repo's state (<repo>/agent-hooks/: Slack spool, logs, test slots) and its agenthooks.* git config" } },
    examples: ['agent-hooks uninstall /srv/git/upstream.git', 'agent-hooks uninstall --purge /srv/git/upstream.git'],
    run: (p, { print }) => {
      const dryRun = flag(p, 'dry-run');
      const report = uninstall(str(p, 'repo')!, { dryRun, purge: flag(p, 'purge') });
      if (report.steps.length === 0 && report.warnings.length === 0) print(['agent-hooks is not installed there; nothing changed']);
      print(report.steps.map((s) => `${dryRun ? 'would ' : ''}${s}`));
      print(report.kept.map((k) => `kept ${k}`));
      print(report.warnings.map((w) => `WARNING: ${w}`));
    },
  },
  {
    name: 'doctor',
    describe: 'Check the installation and make a synthetic push (nothing lands); exit 1 on any fault.',
    args: [REPO_ARG('the bare repo (or clone, or worktree) to check')],
    examples: ['agent-hooks doctor /srv/git/upstream.git'],
    run: (p, { print }) => {
      const findings = doctor(str(p, 'repo')!, VERSION);
      print(findings.map((f) => (f.warning ? `WARNING: ${f.text}` : f.ok ? `ok: ${f.text}` : `ERROR: ${f.text}`)));
      if (findings.some((f) => !f.ok)) process.exitCode = EXIT.failed;
    },
  },
  {
    name: 'claim',
    describe: 'Claim a task: add its lock file to the claims ref (fetch, commit with plumbing, push; retried on a race). Exit 3 when another agent holds it.',
    args: [TASK_ARG],
    options: {
      files: { type: 'string', value: 'GLOB', list: true, describe: 'globs to lease: only you may change them while the claim lasts (repeat, or separate with commas)' },
      ttl: TTL,
      message: { type: 'string', short: 'm', value: 'TEXT', describe: 'a one-line description of the work' },
    },
    examples: ["agent-hooks claim parser --files 'src/parser/**' --files test/parser -m 'fix nested calls'", 'agent-hooks claim parser --files src/parser,test/parser --ttl 3600'],
    check: (p) => claimArgumentProblems(str(p, 'task')!, list(p, 'files'), ttlOf(p))[0],
    run: async (p) => renderOutcome(await claim(agentRepo(true), str(p, 'task')!, list(p, 'files'), ttlOf(p), str(p, 'message'))),
  },
  {
    name: 'release',
    describe: 'Release your claim of a task (only the holder may).',
    args: [TASK_ARG],
    examples: ['agent-hooks release parser'],
    run: async (p) => renderOutcome(await release(agentRepo(true), str(p, 'task')!)),
  },
  {
    name: 'renew',
    describe: 'Renew your claim of a task from now (only the holder may).',
    args: [TASK_ARG],
    options: { ttl: { ...TTL, describe: 'the new lifetime in seconds, 60 to 604800' } },
    examples: ['agent-hooks renew parser --ttl 7200'],
    check: (p) => ttlProblem(ttlOf(p)),
    run: async (p) => renderOutcome(await renew(agentRepo(true), str(p, 'task')!, ttlOf(p))),
  },
  {
    name: 'status',
    describe: 'Claims, leases, time left, expired and invalid lock files, and the last pushes on the claims ref.',
    args: [{ name: 'task', describe: 'show only this task (exit 1 when it has no claim)' }],
    options: { json: { type: 'boolean', describe: 'machine-readable output; "mine": true marks your own claims' } },
    examples: ['agent-hooks status', 'agent-hooks status parser', 'agent-hooks status --json'],
    run: (p) => {
      const repo = agentRepo(false);
      return renderStatus(status(repo, str(p, 'task')), flag(p, 'json'), repo.agent.id);
    },
  },
  {
    name: 'push',
    describe: 'git push with -o agent=<id>; on a non-fast-forward fetch, rebase and retry; never forces. Exit 3 when the server refuses it for another agent\'s claim or lease.',
    args: [{ name: 'args', rest: true, describe: 'arguments for git push, e.g. origin HEAD:main' }],
    details: ["The server's lines are printed as git prints them, with the remote: prefix, so grep '^remote: ERROR:' works on the output of both git push and agent-hooks push."],
    passThrough: true,
    examples: ['agent-hooks push origin HEAD:main'],
    // To a tested ref with queue.enabled: the same as `land`.
    run: (p, { print }) => pushOrLand(agentRepo(true), (p.args.args ?? []) as string[], (line) => print([line]), pushCommand),
  },
  {
    name: 'land',
    describe: 'Put HEAD in the landing queue of the claims branch (refs/land/<agent>/<topic>) and wait for the verdict: exit 0 landed, 1 ejected, 3 held by another agent.',
    options: {
      'no-wait': { type: 'boolean', describe: 'queue and return, without waiting for the verdict' },
      timeout: { type: 'string', value: 'S', describe: 'seconds to wait (default: policy queue.wait, 1800)' },
      topic: { type: 'string', value: 'T', describe: 'the queue topic (default: the current branch)' },
    },
    examples: ['agent-hooks land', 'agent-hooks land --topic parser-fix --no-wait'],
    check: (p) => {
      const t = str(p, 'timeout');
      return t === undefined || (Number.isFinite(Number(t)) && Number(t) > 0) ? undefined : '--timeout must be a number of seconds greater than 0; fix: --timeout 600';
    },
    run: async (p, { print }) => land(agentRepo(true), { wait: !flag(p, 'no-wait'), timeoutS: str(p, 'timeout') === undefined ? undefined : Number(str(p, 'timeout')), topic: str(p, 'topic'), progress: (line) => print([line]) }),
  },
  {
    name: 'queue',
    describe: 'The landing queue of the claims branch: entries in arrival order and the batch under test.',
    options: { json: { type: 'boolean', describe: 'machine-readable output' } },
    examples: ['agent-hooks queue', 'agent-hooks queue --json'],
    run: (p) => queue(agentRepo(false), flag(p, 'json')),
  },
  {
    name: 'lander',
    describe: 'Run the lander of a bare repo in the foreground until its landing queue is empty (post-receive starts it on demand).',
    args: [REPO_ARG('the bare repo agents push to')],
    examples: ['agent-hooks lander /srv/git/upstream.git'],
    run: async (p, { distDir, print }) => {
      const repo = readRepo(str(p, 'repo')!);
      if (!repo.bare) throw new UsageError(`${str(p, 'repo')} is not a bare repository; the lander runs where agents push; fix: agent-hooks lander <the bare repo>`);
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      const report = await runLander({ gitDir: repo.gitDir, log: (line) => print([line]), signal: stop.signal, bundleDir: join(distDir, 'hooks') });
      print([report.busy ? 'another lander is running for this repository' : `done: ${report.batches} batches, ${report.testRuns} test runs, ${report.landed} landed, ${report.ejected} ejected`]);
    },
  },
  {
    name: 'test',
    describe: 'Run (or list, with --list) the selection of tests pre-receive would run for you, on this working tree: changed and affected tests first, then the sample.',
    options: {
      fast: { type: 'boolean', describe: 'the sample (the default)' },
      agent: { type: 'string', value: 'ID', describe: 'seed the sample as this agent (default: your agent id)' },
      all: { type: 'boolean', describe: 'run every test file' },
      list: { type: 'boolean', describe: 'list the selection with the reason for each file; run nothing' },
      json: { type: 'boolean', describe: 'with --list: {"seed","total","files":[{"path","reasons"}]}' },
    },
    examples: ['agent-hooks test --fast', 'agent-hooks test --fast --list', 'agent-hooks test --fast --list --json'],
    check: (p) => (flag(p, 'json') && !flag(p, 'list') ? '--json goes with --list; fix: agent-hooks test --fast --list --json' : undefined),
    run: (p) => testFast(agentRepo(false), str(p, 'agent'), { all: flag(p, 'all'), list: flag(p, 'list'), json: flag(p, 'json') }),
  },
  {
    name: 'gc',
    describe: 'Remove every expired claim from the claims ref, in one commit.',
    options: { 'dry-run': { type: 'boolean', describe: 'list what would be removed' } },
    examples: ['agent-hooks gc --dry-run'],
    run: async (p) => renderOutcome(await gc(agentRepo(true), flag(p, 'dry-run'))),
  },
  {
    name: 'check',
    describe: 'The pre-receive policy (schema, claims, leases; tests with --tests) for <base>..<head>, as a CI step for remotes without hooks.',
    args: [{ name: 'range', required: true, describe: 'two revisions of this repository, <base>..<head>, e.g. origin/main..HEAD' }],
    options: {
      ref: { type: 'string', value: 'BRANCH', describe: 'judge as a push to this branch (default: the claims branch)' },
      tests: { type: 'boolean', describe: "also run the pusher's sample of tests, as pre-receive would" },
    },
    examples: ['agent-hooks check origin/main..HEAD --ref agent-1/work'],
    check: (p) => (/^.+?\.\..+$/.test(str(p, 'range')!) ? undefined : `${JSON.stringify(str(p, 'range'))} is not a range <base>..<head>; fix: agent-hooks check origin/main..HEAD`),
    run: (p) => check(agentRepo(false), str(p, 'range')!, str(p, 'ref'), flag(p, 'tests')),
  },
  {
    name: 'worktree add',
    describe: 'A linked worktree .worktrees/<agent> on a new branch agent/<agent>, with its agent id and the pre-commit guard.',
    args: [{ name: 'agent', required: true, describe: 'the agent id the worktree works as, e.g. agent-2' }],
    options: { base: { type: 'string', value: 'REF', describe: 'start point (default: the claims branch)' } },
    examples: ['agent-hooks worktree add agent-2'],
    run: (p, { distDir }) => worktreeAdd(agentRepo(false), str(p, 'agent')!, str(p, 'base'), { bundleDir: join(distDir, 'hooks'), nodePath: process.execPath, version: VERSION }),
  },
  {
    name: 'claude install',
    describe: 'Merge the PreToolUse, SessionStart and UserPromptSubmit hooks into .claude/settings.json and the MCP server into .mcp.json (keeps your other settings); --local: settings.local.json.',
    options: {
      dir: { type: 'string', value: 'DIR', describe: 'the project directory (default: the repository top level)' },
      local: { type: 'boolean', describe: 'write .claude/settings.local.json (this machine only, not committed) instead of the shared settings.json' },
    },
    examples: ['agent-hooks claude install --local'],
    run: (p, { distDir }) => claudeInstall(str(p, 'dir'), distDir, flag(p, 'local')),
  },
  {
    name: 'claude pre-tool-use',
    describe: 'The PreToolUse hook: deny edits to paths leased by other agents (reads the hook JSON on stdin).',
    run: () => {
      const answer = preToolUse(readFileSync(0, 'utf8'), process.env, Date.now());
      process.stdout.write(answer.stdout);
      process.stderr.write(answer.stderr);
      process.exitCode = answer.exitCode;
    },
  },
  {
    name: 'claude session-start',
    describe: "The SessionStart hook: print the agent's claims and the others' leases.",
    run: (_p, { print }) => print([sessionStart(process.cwd(), process.env, Date.now())]),
  },
  {
    name: 'claude user-prompt-submit',
    describe: 'The UserPromptSubmit hook: name any claim of yours that expired or another agent took over (prints nothing otherwise).',
    run: (_p, { print }) => {
      const notices = userPromptSubmit(process.cwd(), process.env, Date.now());
      if (notices) print([notices]);
    },
  },
  {
    name: 'codex install',
    describe: 'Merge the MCP server ([mcp_servers.agent-hooks]) and the PreToolUse, SessionStart and UserPromptSubmit hooks into .codex/config.toml (keeps the rest).',
    options: { dir: { type: 'string', value: 'DIR', describe: 'the project directory (default: the repository top level)' } },
    examples: ['agent-hooks codex install'],
    run: (p, { distDir }) => codexInstall(str(p, 'dir'), distDir),
  },
  {
    name: 'run',
    describe: 'The agent loop: rerun <command> until stopped, one session log per run in <git-common-dir>/agent-hooks/logs/<agent>/, backoff 1 s to 5 min on failures, the heartbeat renewing your claims.',
    args: [{ name: 'command', rest: true, describe: 'the agent command and its arguments, after --' }],
    options: {
      agent: { type: 'string', value: 'ID', describe: 'the agent id (default: AGENT_ID, agenthooks.agent, user.name); the command gets it as AGENT_ID' },
      once: { type: 'boolean', describe: 'run the command once' },
      'max-runs': { type: 'string', value: 'N', describe: 'stop after N runs' },
      'no-heartbeat': { type: 'boolean', describe: 'do not renew your claims while the loop runs' },
      every: EVERY,
    },
    details: ['SIGINT and SIGTERM go to the command\'s process group; a second signal kills it.'],
    examples: ['agent-hooks run -- claude -p "work on the next task"', 'agent-hooks run --agent agent-2 --max-runs 10 -- ./agent.sh'],
    check: (p) => {
      if (((p.args.command ?? []) as string[]).length === 0) return 'no command to run; fix: agent-hooks run -- <command...>';
      const max = str(p, 'max-runs');
      if (max !== undefined && !/^[1-9]\d*$/.test(max)) return `--max-runs must be a whole number, at least 1; fix: --max-runs 10`;
      return everyProblem(str(p, 'every'));
    },
    run: async (p, { cliPath }) => {
      const agentOption = str(p, 'agent');
      const repo = agentRepo(agentOption === undefined);
      const max = str(p, 'max-runs');
      const result = await runLoop({
        command: (p.args.command ?? []) as string[],
        agent: agentOption ?? repo.agent.id!,
        commonDir: readCommonDir(repo.git),
        cwd: process.cwd(),
        env: process.env,
        maxRuns: flag(p, 'once') ? 1 : max === undefined ? undefined : Number(max),
        cliPath: flag(p, 'no-heartbeat') ? undefined : cliPath,
        everyMs: everyMs(str(p, 'every')),
        out: (line) => process.stdout.write(`${line}\n`),
      });
      if (result.error) process.stderr.write(`${result.error}\n`);
      process.exitCode = result.exitCode;
    },
  },
  {
    name: 'heartbeat',
    describe: 'Renew your active claims every ttl/3 (one commit renews all of them) until stopped; never takes back a claim you lost.',
    options: {
      once: { type: 'boolean', describe: 'one look: renew if due, then exit' },
      force: { type: 'boolean', describe: 'with --once: renew now even if not due' },
      json: { type: 'boolean', describe: 'with --once: print the result as JSON' },
      every: EVERY,
    },
    examples: ['agent-hooks heartbeat', 'agent-hooks heartbeat --once'],
    check: (p) => (!flag(p, 'once') && (flag(p, 'json') || flag(p, 'force')) ? `--${flag(p, 'json') ? 'json' : 'force'} goes with --once; fix: agent-hooks heartbeat --once${flag(p, 'force') ? ' --force' : ''}${flag(p, 'json') ? ' --json' : ''}` : everyProblem(str(p, 'every'))),
    run: async (p, { cliPath }) => {
      const repo = agentRepo(true);
      const every = everyMs(str(p, 'every'));
      if (flag(p, 'once')) {
        const tick = await heartbeatTick(repo, { everyMs: every, force: flag(p, 'force') });
        process.stdout.write(flag(p, 'json') ? `${JSON.stringify(tick)}\n` : `${formatTick(tick).join('\n')}\n`);
        process.exitCode = tick.kind === 'failed' || tick.kind === 'offline' || tick.lost.length > 0 ? 1 : 0;
        return;
      }
      const heartbeat = startHeartbeat({ cliPath, cwd: process.cwd(), env: process.env, everyMs: every, out: (line) => process.stdout.write(`${line}\n`) });
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await heartbeat.stop();
    },
  },
  {
    name: 'mcp',
    describe: 'The MCP server (stdio) with the agent commands as tools: claim, release, renew, status, check_paths, push, test_fast.',
    details: ['Configure it in your agent tool: agent-hooks claude install (.mcp.json), agent-hooks codex install (.codex/config.toml).'],
    examples: ['agent-hooks mcp'],
    run: async (_p, { cliPath }) => {
      // A separate bundle, loaded only here: the SDK and zod stay out of every other command.
      const { serveMcp } = (await import(pathToFileURL(join(dirname(cliPath), 'mcp.mjs')).href)) as typeof import('./mcp.js');
      await serveMcp({ cwd: process.cwd(), env: process.env });
    },
  },
  {
    name: 'serve',
    describe: 'The live dashboard of a bare repo: a web page, /api/status (status --json and more) and /events (server-sent events on every ref change); read-only.',
    args: [REPO_ARG('the bare repo agents push to')],
    options: {
      port: { type: 'string', value: 'N', describe: 'TCP port (default 7420; 0: any free one)' },
      host: { type: 'string', value: 'ADDR', describe: 'address to listen on (default 127.0.0.1); anything but loopback needs a token' },
      token: { type: 'string', value: 'T', describe: 'a secret every request must carry (?token= once, then a cookie; or Authorization: Bearer). Default: git config agenthooks.serve.token (better: --token shows in ps)' },
    },
    examples: ['agent-hooks serve /srv/git/upstream.git', 'agent-hooks serve --host 0.0.0.0 --port 8080 /srv/git/upstream.git   # with agenthooks.serve.token set'],
    check: (p) => {
      const port = str(p, 'port');
      return port === undefined || (/^\d+$/.test(port) && Number(port) <= 65535) ? undefined : `--port must be a TCP port number from 0 to 65535; fix: --port 7420`;
    },
    run: async (p, { cliPath }) => {
      // The HTTP framework lives in its own bundle, loaded only here.
      const { runServe } = (await import(pathToFileURL(join(dirname(cliPath), 'serve.mjs')).href)) as typeof import('./serve.js');
      process.exitCode = await runServe({ repo: str(p, 'repo')!, port: Number(str(p, 'port') ?? 7420), host: str(p, 'host') ?? '127.0.0.1', token: str(p, 'token') });
    },
  },
  {
    name: 'notify',
    describe: 'Slack notifications of a bare repo: --flush sends what is spooled now, --test sends a test message.',
    args: [REPO_ARG('the bare repo whose Slack notifications to send (where agent-hooks install put post-receive)')],
    options: {
      flush: { type: 'boolean', describe: 'send the spooled messages now' },
      test: { type: 'boolean', describe: "send a test message and report Slack's answer" },
    },
    examples: ['agent-hooks notify --test /srv/git/upstream.git', 'agent-hooks notify --flush /srv/git/upstream.git'],
    check: (p) => (flag(p, 'flush') === flag(p, 'test') ? `give exactly one of --flush and --test; fix: agent-hooks notify --flush ${str(p, 'repo')}` : undefined),
    run: (p) => notify(str(p, 'repo')!, flag(p, 'test') ? 'test' : 'flush'),
  },
  {
    name: 'pre-commit',
    describe: 'Run the pre-commit check here (staged paths against leases, staged lock files and policy); for hook managers such as husky.',
    run: () => {
      const { lines, exitCode } = runPreCommitCheck(process.env, Date.now());
      if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
      process.exitCode = exitCode;
    },
  },
  {
    name: 'demo',
    describe: 'Play three agents against a fresh bare repo in a temp dir, through real pushes.',
    options: { keep: { type: 'boolean', describe: 'keep the temp dir to look around afterwards' } },
    run: async (p, { cliPath }) => {
      process.exitCode = await runDemo({ cliPath, keep: flag(p, 'keep'), out: (line) => process.stdout.write(`${line}\n`) });
    },
  },
];

/** The top-level help around the list of commands. */
export const HELP: HelpTexts = {
  intro: [
    'usage: agent-hooks <command> [arguments] [options]',
    '',
    'Makes git enforce coordination between many coding agents: task claims, file leases, sampled tests.',
  ],
  outro: [
    'exit codes: 0 ok; 1 the check or command failed (a rejected push, a test failure); 2 usage error;',
    '            3 a task or path is held by another agent',
    'agent id:   AGENT_ID, else git config agenthooks.agent, else git config user.name',
    '',
    'examples:',
    '  agent-hooks install --create /srv/git/upstream.git    # the shared bare repo',
    '  agent-hooks install ~/agents/agent-1                  # an agent clone: pre-commit',
    "  agent-hooks claim parser --files 'src/parser/**'      # take a task and lease its files",
    '  agent-hooks push origin HEAD:main                     # push as yourself, rebasing on a race',
    '  agent-hooks release parser',
  ],
};
