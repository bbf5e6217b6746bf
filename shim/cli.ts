// The `agent-hooks` command: yargs parses, each command calls one module and renders its result.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { VERSION } from '../core/version.js';
import { doctor } from '../installer/doctor.js';
import { install } from '../installer/install.js';
import { RepoError } from '../installer/repo.js';
import { uninstall } from '../installer/uninstall.js';
import { runDemo } from './demo.js';
import { runPreCommitCheck } from '../hooks/pre-commit-check.js';

/** Exit codes (DESIGN.md "Command line"). */
export const EXIT = { ok: 0, failed: 1, usage: 2, held: 3 } as const;

const bundleDir = join(dirname(fileURLToPath(import.meta.url)), 'hooks');
const print = (lines: string[]) => lines.length > 0 && process.stdout.write(`${lines.join('\n')}\n`);

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
          .option('force', { type: 'boolean', default: false, describe: "write into a clone's core.hooksPath even when it is outside the git dir (a hook manager's)" }),
      (argv) => {
        const report = install(argv.repo, { bundleDir, nodePath: process.execPath, version: VERSION, dryRun: argv.dryRun, force: argv.force });
        const prefix = argv.dryRun ? 'would ' : '';
        if (report.steps.length === 0) print([`agent-hooks ${VERSION} is already installed in ${report.repo?.hooksDir}; nothing changed`]);
        else print([...report.steps.map((s) => `${prefix}${s}`), ...(argv.dryRun ? [] : [`agent-hooks ${VERSION} installed in ${report.repo?.hooksDir}`])]);
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
        print(findings.map((f) => (f.ok ? `ok: ${f.text}` : `ERROR: ${f.text}`)));
        if (findings.some((f) => !f.ok)) process.exitCode = EXIT.failed;
      },
    )
    .command(
      'pre-commit',
      'run the pre-commit check here (staged paths against leases, staged lock files); for hook managers such as husky',
      (y) => y,
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
  if (error instanceof RepoError) process.stderr.write(`ERROR: ${error.message}\n`);
  else process.stderr.write(`ERROR: internal: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.AGENT_HOOKS_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = EXIT.failed;
});
