// The detached lander that post-receive starts when the landing queue is not empty:
// `node lander.mjs <git-dir>` (the repo on its command line, so `ps` shows which lander is which).
// Its stdio is closed; what it does goes to `<git-dir>/agent-hooks/workers/lander.log`.
import { appendFileSync, mkdirSync } from 'node:fs';
import { LANDER, runLander } from '../server/lander.js';
import { statePaths } from '../server/state.js';

const gitDir = process.argv[2]!;
const state = statePaths(gitDir);
const log = (line: string) => {
  try {
    mkdirSync(state.workers, { recursive: true });
    appendFileSync(state.workerLog(LANDER), `${new Date().toISOString()} ${line}\n`);
  } catch {
    // nowhere to log: the verdicts are notes in the repository
  }
};
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop.abort());
runLander({ gitDir, log, signal: stop.signal })
  .then((r) => log(r.busy ? 'another lander is running' : `done: ${r.batches} batches, ${r.testRuns} test runs, ${r.landed} landed, ${r.ejected} ejected`))
  .catch((error: Error) => {
    log(`lander failed: ${error.message}`);
    process.exitCode = 1;
  });
