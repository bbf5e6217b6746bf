// The detached bisector the test stage starts when a test fails on the claims ref's old tip too:
// `node red-bisector.mjs <git-dir>`. One at a time (a pid lock in the state dir's workers/); for
// each red test still `bisecting` it finds the commit that turned it red (server/red.ts
// bisectRed), records it, and announces it once through the Slack spool. Its stdio is closed;
// what it does goes to `<state>/workers/red-bisector.log`. Killed at any moment, it loses nothing:
// records are written atomically and a record is done only once written.
import { appendFileSync, mkdirSync } from 'node:fs';
import type { RedRecord } from '../core/preexisting.js';
import { formatTime } from '../core/text.js';
import { cleanGitEnv, readConfig, type GitOptions } from '../git/git.js';
import { tryLock } from '../server/pid-lock.js';
import { bisectRed, listRedRecords, writeRedRecord } from '../server/red.js';
import { readServerConfig } from '../server/read-push.js';
import { bisectRunner } from '../server/run-tests.js';
import { redact, repoName, spoolEvent, startSender, webhookUrlFrom } from '../server/spool.js';
import { statePaths } from '../server/state.js';

const gitDir = process.argv[2]!;
const git: GitOptions = { env: { ...cleanGitEnv(), GIT_DIR: gitDir } };
const paths = statePaths(gitDir);
const log = (line: string) => {
  try {
    mkdirSync(paths.workers, { recursive: true });
    appendFileSync(paths.workerLog('red-bisector'), `${formatTime(Date.now())} ${line}\n`);
  } catch {
    // nowhere to log: the records still say what was found
  }
};

const pending = () => listRedRecords(gitDir).filter((r) => r.state === 'bisecting' || !r.announced);

/** The line announced for a red test once its culprit is known (or known to be out of reach). */
function redLine(r: RedRecord): string {
  const ref = r.ref.replace(/^refs\/heads\//, '');
  return r.culprit
    ? `${r.test} fails on ${ref} since ${r.culprit.oid.slice(0, 10)} by ${r.culprit.agent}, ${JSON.stringify(r.culprit.subject)}`
    : `${r.test} fails on ${ref} since before ${r.since?.slice(0, 10) ?? r.redAt.slice(0, 10)} (the oldest commit looked at)`;
}

/** Spools the announcement (when Slack is configured) and marks the record announced. */
function announce(r: RedRecord): void {
  const config = readConfig('^agenthooks\\.slack\\.webhookurl$', git);
  const url = webhookUrlFrom(config.get('agenthooks.slack.webhookurl')?.at(-1), process.env);
  if (url) {
    const now = formatTime(Date.now());
    spoolEvent(gitDir, { id: `${now}-red`, time: now, repo: repoName(gitDir), pusher: r.culprit?.agent ?? 'unknown', refs: [], claims: [], red: [redact(redLine(r), url)] });
    startSender(gitDir);
  }
  writeRedRecord(gitDir, { ...r, announced: true });
  log(`announced: ${redLine(r)}`);
}

async function work(): Promise<void> {
  const concurrency = readServerConfig(git).testConcurrency;
  for (let records = pending(); records.length > 0; records = pending()) {
    for (const record of records) {
      let r = record;
      if (r.state === 'bisecting') {
        log(`bisecting ${r.test} from ${r.redAt.slice(0, 10)}`);
        r = await bisectRed(r, git, bisectRunner(gitDir, git, { command: r.command, files: [r.test], sample: 1, always: [], timeout: r.timeout, ...(r.setup ? { setup: r.setup } : {}), ...(r.setupInputs ? { setupInputs: r.setupInputs } : {}) }, concurrency));
        writeRedRecord(gitDir, r);
      }
      announce(r);
    }
  }
}

// Take the lock, work until nothing is pending, let go; a record written while letting go is
// seen by the check after it (the hook that wrote it found the lock still held and left it to us).
mkdirSync(paths.workers, { recursive: true });
for (;;) {
  const release = tryLock(paths.workerLock('red-bisector'), { orphanMs: 5000 });
  if (!release) break;
  try {
    await work();
  } catch (error) {
    log(`bisector failed: ${(error as Error).message.split('\n')[0]}`);
    release();
    break;
  }
  release();
  if (pending().length === 0) break;
}
