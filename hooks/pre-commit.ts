// pre-commit: the lock and lease checks of the server, on what is staged (DESIGN.md "pre-commit").
// Advisory by nature (`git commit --no-verify` skips it); the server decides.
import { runHook } from './run-hook.js';
import { runPreCommitCheck } from '../commands/pre-commit-check.js';

runHook('pre-commit', import.meta.url, () => runPreCommitCheck(process.env, Date.now()));
