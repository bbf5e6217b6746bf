// Imported first by the CLI: a working directory that was deleted under the shell makes
// process.cwd() throw, and yargs calls it while it loads, so the check must run before that.
// One ERROR line with a fix and exit 2, never a Node stack trace.
try {
  process.cwd();
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  process.stderr.write('ERROR: the current directory no longer exists (it was deleted or moved); fix: cd to a directory that exists, then run agent-hooks again\n');
  process.exit(2);
}
export {};
