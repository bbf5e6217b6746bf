// The `agent-hooks` command: the pure parser (args.ts) reads argv against the command table
// (commands.ts); this file runs what it chose, renders the result and picks the exit code.
import './cwd-guard.js'; // first: before anything calls process.cwd()
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../core/version.js';
import { RepoError } from '../git/repo.js';
import { EXIT, type CommandResult } from '../core/result.js';
import { parseCommandLine } from './args.js';
import { COMMANDS, HELP, UsageError, type Command } from './commands.js';

const cliPath = fileURLToPath(import.meta.url);
const print = (lines: string[]) => void (lines.length > 0 && process.stdout.write(`${lines.join('\n')}\n`));

/**
 * Prints a command's result and sets the exit code: `ERROR:`/`WARNING:` lines and the server's
 * `remote: ` lines (where git puts them) to stderr, in order; the rest to stdout.
 */
function render(result: CommandResult): void {
  const isProblem = (l: string) => /^(ERROR|WARNING): |^remote: |^ ! /.test(l);
  print(result.lines.filter((l) => !isProblem(l)));
  const problems = result.lines.filter(isProblem);
  if (problems.length > 0) process.stderr.write(`${problems.join('\n')}\n`);
  process.exitCode = result.exitCode;
}

async function main(): Promise<void> {
  const line = parseCommandLine(process.argv.slice(2), COMMANDS, HELP);
  if (line.kind === 'help') return print([line.text]);
  if (line.kind === 'version') return print([VERSION]);
  if (line.kind === 'usage') {
    process.stderr.write(`ERROR: ${line.message}\n\n${line.help}\n`);
    process.exitCode = EXIT.usage;
    return;
  }
  const result = await (line.command as Command).run(line, { distDir: dirname(cliPath), cliPath, print });
  if (result) render(result);
}

main().catch((error: unknown) => {
  // A path that is not a repository, a typo'd install target: the user's to fix (exit 2).
  if (error instanceof UsageError || error instanceof RepoError) {
    process.stderr.write(`ERROR: ${error.message}\n`);
    process.exitCode = error instanceof UsageError || error.usage ? EXIT.usage : EXIT.failed;
    return;
  }
  process.stderr.write(`ERROR: internal: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.AGENT_HOOKS_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = EXIT.failed;
});
