// The resident checker (issue 18): `node checker.mjs <git-dir>`, started detached by a pre-receive
// installed with `--resident`. It listens on `<git-dir>/agent-hooks/workers/checker-<version>.sock`
// (server/checker.ts) and judges each push the stub hands it with the code pre-receive runs
// (hooks/judge-push.ts), one push at a time, with that push's own environment. It declines what
// it does not do (a push that runs tests, a chained pre-receive, a request from another
// directory, a malformed one), and the stub then runs the bundle itself. One per repository (a
// pid lock); it exits after checkerIdleMs without a request, when its version is uninstalled,
// and on SIGTERM. Its stdio is closed; starts and stops go to `workers/checker.log`.
import { appendFileSync, existsSync, lstatSync, mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { restoreCaCerts } from '../server/ca-certs.js';
import { CHECKER, checkerIdleMs, checkerSocket, formatCheckResponse, parseCheckRequest } from '../server/checker.js';
import { chainedHookBeside } from '../server/layout.js';
import { tryLock } from '../server/pid-lock.js';
import { statePaths } from '../server/state.js';
import { VERSION } from '../core/version.js';
import { judgePush } from './judge-push.js';
import { forLayout, internalErrorLines } from './run-hook.js';

/** Requests larger than this (bytes) are dropped unanswered; the client then runs the bundle. */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

const gitDir = realpathSync(process.argv[2] ?? '.');
process.chdir(gitDir);
const state = statePaths(gitDir);
const bundleDir = dirname(fileURLToPath(import.meta.url));
const log = (line: string) => {
  try {
    appendFileSync(state.workerLog(CHECKER), `${new Date().toISOString()} ${line}\n`);
  } catch {
    // nowhere to log
  }
};
mkdirSync(state.workers, { recursive: true });
const release = tryLock(state.workerLock(CHECKER), { orphanMs: 10_000 });
if (!release) process.exit(0);

const socket = checkerSocket();
const installed = () => existsSync(join(bundleDir, 'pre-receive.mjs'));
const chained = () => {
  try {
    lstatSync(chainedHookBeside(bundleDir, 'pre-receive'));
    return true;
  } catch {
    return false;
  }
};

/** One request in, one answer out; never throws. */
async function answer(data: Buffer): Promise<Buffer> {
  const request = parseCheckRequest(data);
  if (!request || !installed() || chained()) return formatCheckResponse('declined');
  let cwd: string;
  try {
    cwd = realpathSync(request.cwd);
  } catch {
    return formatCheckResponse('declined');
  }
  if (cwd !== gitDir) return formatCheckResponse('declined');
  const env = request.env;
  restoreCaCerts(env);
  try {
    const result = await judgePush(request.stdin, env, { tests: 'decline', progress: () => {} });
    return formatCheckResponse(result === 'declined' ? result : { lines: forLayout(result.lines, env), exitCode: result.exitCode });
  } catch (error) {
    return formatCheckResponse({ lines: forLayout(internalErrorLines(error, env), env), exitCode: 1 });
  }
}

let queue: Promise<unknown> = Promise.resolve();
let lastRequest = Date.now();
// allowHalfOpen: the client ends its side after the request and reads the answer on the other.
const server = createServer({ allowHalfOpen: true }, (conn) => {
  const chunks: Buffer[] = [];
  let size = 0;
  conn.on('error', () => {});
  conn.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) conn.destroy();
    else chunks.push(chunk);
  });
  conn.on('end', () => {
    lastRequest = Date.now();
    // One push at a time: judging is synchronous git work, and a queue keeps the order of arrival.
    queue = queue.then(() => answer(Buffer.concat(chunks))).then((response) => conn.end(response));
  });
});

/** The socket's inode once listening: a client that timed out removes the socket, and a stuck checker then makes way. */
let listening: number | undefined;
server.on('listening', () => (listening = statSync(socket).ino));
const ownSocket = () => {
  try {
    return listening === undefined || statSync(socket).ino === listening;
  } catch {
    return false;
  }
};
let stopping = false;
function stop(why: string): void {
  if (stopping) return;
  stopping = true;
  server.close();
  if (ownSocket()) rmSync(socket, { force: true }); // not a newer checker's
  log(`stopped: ${why}`); // before the lock goes: a checker started next logs after this line
  release!();
  process.exit(0);
}

rmSync(socket, { force: true }); // a checker killed earlier left it; we hold the lock now
server.on('error', (error) => stop(`cannot listen on ${socket}: ${error.message}`));
// The socket for the repository's owner only: bind(2) happens inside listen(), synchronously, so
// the umask is put back at once and the files the checker writes later keep the usual modes.
const umask = process.umask(0o077);
server.listen(socket, () => log(`listening on ${socket} (agent-hooks ${VERSION}, pid ${process.pid})`));
process.umask(umask);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
const idleMs = checkerIdleMs(process.env);
setInterval(() => {
  if (!installed()) stop(`agent-hooks ${VERSION} is no longer installed`);
  else if (!ownSocket()) stop('its socket was removed (a client gave up waiting) or replaced');
  else if (Date.now() - lastRequest > idleMs) stop('idle');
}, Math.min(5_000, idleMs)).unref();
// Every 5 s at most (a stat or two). The interval is unref'd: the listening server keeps the process alive.
