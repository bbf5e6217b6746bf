// The `agent-hooks` command: yargs parses, each command calls one module and renders its result.
import './cwd-guard.js'; // first: before yargs calls process.cwd()
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { VERSION } from '../core/version.js';
import { LAYOUTS, type LayoutKind } from '../server/layout.js';
import { doctor } from '../installer/doctor.js';
import { install } from '../installer/install.js';
import { RepoError } from '../git/repo.js';
import { uninstall } from '../installer/uninstall.js';
import { runDemo } from './demo.js';
import { claimArgumentProblems } from '../core/plans.js';
import { openAgentRepo, type AgentRepo } from '../commands/agent-repo.js';
import { EXIT, type CommandResult } from '../core/result.js';
import { claim, gc, release, renew, status } from '../commands/claims.js';
import { preToolUse, sessionStart } from './claude.js';
import { claudeInstall } from './claude-install.js';
import { check } from '../commands/check.js';
import { push as pushCommand } from '../commands/push.js';
import { worktreeAdd } from '../installer/worktree.js';
import { testFast } from '../commands/test.js';
import { notify } from '../commands/notify.js';
import { runPreCommitCheck } from '../commands/pre-commit-check.js';

const distDir = dirname(fileURLToPath(import.meta.url));
const bundleDir = join(distDir, 'hooks');
const print = (lines: string[]) => lines.length > 0 && process.stdout.write(`${lines.join('\n')}\n`);

/** Prints a command's result (`ERROR:`/`WARNING:` lines to stderr, the rest to stdout) and sets the exit code. */
function render(result: CommandResult): void {
  const isProblem = (l: string) => /^(ERROR|WARNING): /.test(l);
  print(result.lines.filter((l) => !isProblem(l)));
  const problems = result.lines.filter(isProblem);
  if (problems.length > 0) process.stderr.write(`${problems.join('\n')}\n`);
  process.exitCode = result.exitCode;
}

/** The agent's repository in the current directory; a usage error when the command needs an agent id and there is none. */
function agentRepo(needsAgent: boolean): AgentRepo {
  const repo = openAgentRepo(process.cwd(), process.env);
  if (needsAgent && repo.agent.id === undefined) {
    throw new UsageError(`no agent id (${repo.agent.source === 'none' ? 'AGENT_ID, agenthooks.agent and user.name are unset' : `${repo.agent.source} is not an agent id`}); fix: export AGENT_ID=<id>, or git config agenthooks.agent <id>`);
  }
  return repo;
}

class UsageError extends Error {}

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName('agent-hooks')
    .usage('$0 <command>\n\nMakes git enforce coordination between many coding agents: task claims and file leases.')
    .command(
      'install <repo>',
      'bare repo: install pre-receive and post-receive (created if missing); clone or worktree: pre-commit. Idempotent, keeps and chains existing hooks',
      (y) =>
        y
          .positional('repo', { type: 'string', demandOption: true, describe: 'the bare repo agents push to, or a clone or worktree' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'print what would be done, change nothing' })
          .option('force', { type: 'boolean', default: false, describe: "write into a core.hooksPath outside the git dir (a hook manager's, or a dir other repositories share)" })
          .option('layout', { choices: LAYOUTS, default: 'git' as LayoutKind, describe: "bare repos: git's hooks dir; gitlab: custom_hooks/<hook>.d/ (Gitaly); gitea: hooks/<hook>.d/ (Gitea, Forgejo); gitolite: hooks/<hook>.d/, run by gitolite's repo-specific hooks. The platform's own hooks stay" }),
      (argv) => {
        const report = install(argv.repo, { bundleDir, nodePath: process.execPath, version: VERSION, dryRun: argv.dryRun, force: argv.force, layout: argv.layout });
        const prefix = argv.dryRun ? 'would ' : '';
        if (report.steps.length === 0) print([`agent-hooks ${VERSION} is already installed in ${report.where}; nothing changed`]);
        else print([...report.steps.map((s) => `${prefix}${s}`), ...(argv.dryRun ? [] : [`agent-hooks ${VERSION} installed in ${report.where}`])]);
        if (argv.layout === 'gitolite' && report.where) {
          print([
            'next, as the gitolite admin (docs/gitolite.md), once per server:',
            `  cp ${join(report.where, 'agent-hooks', 'gitolite-hook')} <LOCAL_CODE>/hooks/repo-specific/agent-hooks`,
            'and for this repository in gitolite.conf, then push gitolite-admin:',
            '  option hook.pre-receive = agent-hooks',
            '  option hook.post-receive = agent-hooks',
          ]);
        }
      },
    )
    .command(
      'uninstall <repo>',
      'remove what install wrote and put back the hooks it replaced',
      (y) => y.positional('repo', { type: 'string', demandOption: true }).option('dry-run', { type: 'boolean', default: false, describe: 'print what would be done, change nothing' }),
      (argv) => {
        const report = uninstall(argv.repo, { dryRun: argv.dryRun });
        print(report.steps.map((s) => `${argv.dryRun ? 'would ' : ''}${s}`));
        print(report.warnings.map((w) => `WARNING: ${w}`));
        if (report.steps.length === 0 && report.warnings.length === 0) print(['agent-hooks is not installed there; nothing changed']);
      },
    )
    .command(
      'doctor <repo>',
      'check the installation and make a synthetic push (nothing lands); exit 1 on any fault',
      (y) => y.positional('repo', { type: 'string', demandOption: true }),
      (argv) => {
        const findings = doctor(argv.repo, VERSION);
        print(findings.map((f) => (f.warning ? `WARNING: ${f.text}` : f.ok ? `ok: ${f.text}` : `ERROR: ${f.text}`)));
        if (findings.some((f) => !f.ok)) process.exitCode = EXIT.failed;
      },
    )
    .command(
      'claim <task>',
      'claim a task: add its lock file to the claims ref (fetch, commit with plumbing, push; retried on a race). Exit 3 when another agent holds it',
      (y) =>
        y
          .positional('task', { type: 'string', demandOption: true })
          .option('files', { type: 'string', array: true, default: [] as string[], describe: 'globs to lease (only you may change them while the claim lasts)' })
          .option('ttl', { type: 'number', describe: 'seconds the claim lasts (default: policy locks.ttl, 7200)' })
          .option('message', { alias: 'm', type: 'string', describe: 'one-line description' }),
      async (argv) => {
        const repo = agentRepo(true);
        const files = argv.files.flatMap((f) => f.split(',')).map((f) => f.trim()).filter(Boolean);
        const problems = claimArgumentProblems(argv.task, repo.agent.id, files, argv.ttl);
        if (problems.length > 0) throw new UsageError(problems.join('; '));
        render(await claim(repo, argv.task, files, argv.ttl, argv.message));
      },
    )
    .command(
      'release <task>',
      'release your claim of a task (only the holder may)',
      (y) => y.positional('task', { type: 'string', demandOption: true }),
      async (argv) => render(await release(agentRepo(true), argv.task)),
    )
    .command(
      'renew <task>',
      'renew your claim of a task from now (only the holder may)',
      (y) => y.positional('task', { type: 'string', demandOption: true }).option('ttl', { type: 'number', describe: 'new lifetime in seconds' }),
      async (argv) => {
        if (argv.ttl !== undefined && claimArgumentProblems('x', 'x', [], argv.ttl).length > 0) throw new UsageError('--ttl must be whole seconds from 60 to 604800');
        render(await renew(agentRepo(true), argv.task, argv.ttl));
      },
    )
    .command(
      'status [task]',
      'claims, leases, time left, expired claims, and the last pushes on the claims ref',
      (y) => y.positional('task', { type: 'string' }).option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
      (argv) => render(status(agentRepo(false), argv.task, argv.json)),
    )
    .command(
      'push [args..]',
      'git push with -o agent=<id>; on a non-fast-forward fetch, rebase and retry; never forces',
      (y) => y.positional('args', { type: 'string', array: true, default: [] as string[], describe: 'arguments for git push (after --)' }).parserConfiguration({ 'unknown-options-as-args': true }),
      (argv) => render(pushCommand(agentRepo(true), argv.args)),
    )
    .command(
      'test',
      'run the sample of tests pre-receive would run for you, on this working tree',
      (y) =>
        y
          .option('fast', { type: 'boolean', default: true, describe: 'the sample (the default; --all runs everything)' })
          .option('agent', { type: 'string', describe: 'seed the sample as this agent (default: your agent id)' })
          .option('all', { type: 'boolean', default: false, describe: 'run every test file' }),
      async (argv) => render(await testFast(agentRepo(false), argv.agent, argv.all)),
    )
    .command(
      'gc',
      'remove every expired claim from the claims ref, in one commit',
      (y) => y.option('dry-run', { type: 'boolean', default: false, describe: 'list what would be removed' }),
      async (argv) => render(await gc(agentRepo(true), argv.dryRun)),
    )
    .command(
      'check <range>',
      'the pre-receive policy (schema, claims, leases; tests with --tests) for <base>..<head>, as a CI step for remotes without hooks',
      (y) =>
        y
          .positional('range', { type: 'string', demandOption: true })
          .option('ref', { type: 'string', describe: 'judge as a push to this branch (default: the claims branch)' })
          .option('tests', { type: 'boolean', default: false, describe: "also run the pusher's sample of tests, as pre-receive would" }),
      async (argv) => render(await check(agentRepo(false), argv.range, argv.ref, argv.tests)),
    )
    .command('worktree', 'linked worktrees for agents', (y) =>
      y
        .command(
          'add <agent>',
          'a linked worktree .worktrees/<agent> on a new branch agent/<agent>, with its agent id and the pre-commit guard',
          (z) => z.positional('agent', { type: 'string', demandOption: true }).option('base', { type: 'string', describe: 'start point (default: the claims branch)' }),
          (argv) => render(worktreeAdd(agentRepo(false), argv.agent, argv.base, { bundleDir, nodePath: process.execPath, version: VERSION })),
        )
        .demandCommand(1, 'Give a worktree command; see --help.'),
    )
    .command('claude', 'the Claude Code adapter', (y) =>
      y
        .command(
          'pre-tool-use',
          'the PreToolUse hook: deny edits to paths leased by other agents (reads the hook JSON on stdin)',
          {},
          () => {
            const answer = preToolUse(readFileSync(0, 'utf8'), process.env, Date.now());
            process.stdout.write(answer.stdout);
            process.stderr.write(answer.stderr);
            process.exitCode = answer.exitCode;
          },
        )
        .command(
          'session-start',
          "the SessionStart hook: print the agent's claims and the others' leases",
          {},
          () => void print([sessionStart(process.cwd(), process.env, Date.now())]),
        )
        .command(
          'install',
          'merge the PreToolUse and SessionStart hooks into .claude/settings.json (keeps your other settings)',
          (z) => z.option('dir', { type: 'string', describe: 'the project directory (default: the repository top level)' }),
          (argv) => render(claudeInstall(argv.dir, distDir)),
        )
        .demandCommand(1, 'Give a claude command; see --help.'),
    )
    .command(
      'notify <repo>',
      'Slack notifications of a bare repo: --flush sends what is spooled now, --test sends a test message',
      (y) =>
        y
          .positional('repo', { type: 'string', demandOption: true })
          .option('flush', { type: 'boolean', default: false, describe: 'send the spooled messages now' })
          .option('test', { type: 'boolean', default: false, describe: "send a test message and report Slack's answer" })
          .check((argv) => (argv.flush !== argv.test ? true : 'give exactly one of --flush and --test')),
      async (argv) => render(await notify(argv.repo, argv.test ? 'test' : 'flush')),
    )
    .command(
      'pre-commit',
      'run the pre-commit check here (staged paths against leases, staged lock files); for hook managers such as husky',
      {},
      () => {
        const { lines, exitCode } = runPreCommitCheck(process.env, Date.now());
        if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
        process.exitCode = exitCode;
      },
    )
    .command(
      'demo',
      'play three agents against a fresh bare repo in a temp dir, through real pushes',
      (y) => y.option('keep', { type: 'boolean', default: false, describe: 'keep the temp dir to look around afterwards' }),
      async (argv) => {
        process.exitCode = await runDemo({ cliPath: fileURLToPath(import.meta.url), keep: argv.keep, out: (line) => process.stdout.write(`${line}\n`) });
      },
    )
    .demandCommand(1, 'Give a command; see --help.')
    .strict()
    .recommendCommands()
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`ERROR: ${message}\nRun agent-hooks --help for usage.\n`);
      process.exit(EXIT.usage);
    })
    .parseAsync();
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`ERROR: ${error.message}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  if (error instanceof RepoError) process.stderr.write(`ERROR: ${error.message}\n`);
  else process.stderr.write(`ERROR: internal: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.AGENT_HOOKS_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = EXIT.failed;
});
