// The bare repo's state dir, `<git-dir>/agent-hooks/`: every path agent-hooks keeps there, named
// in this one module. Nothing in it is a ref; what lives here is rebuilt or resent after a crash
// (the spool, caches, logs, test slots, worker locks). Writing here is allowed in quarantine.
// The post-receive stub (installer/stub.ts) is sh and spells out `agent-hooks/spool` and
// `agent-hooks/unspooled` itself; test/state.test.ts checks that it agrees with this module.
import { join } from 'node:path';

/** The state dir's name inside a git dir. */
export const STATE_DIR = 'agent-hooks';

/**
 * Every path of the state dir of the bare repo at `gitDir` (absolute when `gitDir` is):
 * - `spool/`: notifications waiting for Slack (`*.raw` from post-receive, `*.json` from pre-receive);
 *   `spool/failed/`: what Slack refused for good, each with a `.reason` file;
 * - `unspooled/`: push events the post-receive stub could not spool (disk full);
 * - `notify.log`: what the Slack sender did (webhook URL redacted);
 * - `overrides.log`: admin overrides, JSON lines;
 * - `events.log` (and `events.log.1`): refused pushes with their ERROR lines, JSON lines, for
 *   the dashboard (server/events-log.ts);
 * - `claims-cache.json`: parsed claims keyed by the claims ref's oid;
 * - `imports-index`: the import specifiers of the last tree's JS/TS files, by path and blob oid (server/test-evidence.ts);
 * - `history-cache`: the path lists of the claims ref's recent commits (server/test-evidence.ts);
 * - `failed-before.json`: which test files failed when which paths changed (server/test-evidence.ts);
 * - `test/`: pooled test work trees (`slot-N`), dependency states and test logs;
 * - `workers/`: one pid lock per detached worker (`<name>.lock`) and its log (`<name>.log`);
 * - `red/`: one record per red test of the claims ref (`<hash>.json`, core/preexisting.ts RedRecord);
 * - `test/passed/`: one marker per test run that passed (`<time> <commit oid>`, server/run-tests.ts),
 *   read by the dashboard for "green since";
 * - `test/results/`: the result of one test file on one tree (`pass` or `fail`), keyed by tree,
 *   file and command, so a rerun on the old tip or a bisect step runs each once.
 */
export function statePaths(gitDir: string) {
  const home = join(gitDir, STATE_DIR);
  return {
    home,
    spool: join(home, 'spool'),
    failed: join(home, 'spool', 'failed'),
    unspooled: join(home, 'unspooled'),
    notifyLog: join(home, 'notify.log'),
    overrideLog: join(home, 'overrides.log'),
    eventsLog: join(home, 'events.log'),
    claimsCache: join(home, 'claims-cache.json'),
    /** The locks dir's entries at the tip the claims cache holds (a claim push diffs against them). */
    lockEntriesCache: join(home, 'lock-entries-cache.json'),
    tests: join(home, 'test'),
    workers: join(home, 'workers'),
    workerLock: (name: string) => join(home, 'workers', `${name}.lock`),
    workerLog: (name: string) => join(home, 'workers', `${name}.log`),
    red: join(home, 'red'),
    testResults: join(home, 'test', 'results'),
    testPassed: join(home, 'test', 'passed'),
  };
}

/** The paths of {@link statePaths}, as a type. */
export type StatePaths = ReturnType<typeof statePaths>;
