// pre-receive: judges a push before any ref moves (DESIGN.md "What pre-receive rejects"), in its
// own node process (hooks/judge-push.ts does the judging). Installed with --resident, the stub
// first hands the push to the resident checker (hooks/checker.ts) and runs this bundle only when
// the checker is not there or declines; this bundle then starts the checker for the next push.
import { resolve } from 'node:path';
import { startChecker } from '../server/checker.js';
import { judgePush } from './judge-push.js';
import { runHook } from './run-hook.js';

void runHook('pre-receive', import.meta.url, async (stdin) => {
  const result = await judgePush(stdin, process.env, { tests: 'run', progress: (line) => process.stderr.write(`${line}\n`) });
  if (process.env.AGENT_HOOKS_RESIDENT === '1') startChecker(resolve(process.env.GIT_DIR ?? '.'));
  if (result === 'declined') throw new Error('pre-receive declined its own push'); // never: tests: 'run'
  return result;
});
