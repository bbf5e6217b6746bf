// `agent-hooks serve <repo>`: the live dashboard of a bare repo (DESIGN.md "The dashboard").
// One page (`/`), the same data as `status --json` plus the dashboard's fields (`/api/status`),
// and server-sent events (`/events`) sent when a ref changes, found by watching the refs
// (server/ref-watch.ts), never by polling git. Read-only; loopback unless a token is set.
// Loaded only by this command (its own bundle, dist/serve.mjs): hooks never load hono.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type Context } from 'hono';
import { openDashboardReader, type DashboardReader } from '../commands/dashboard.js';
import type { DashboardJson } from '../core/dashboard.js';
import { quote, showJson } from '../core/text.js';
import { readConfig } from '../git/git.js';
import { findInstallation } from '../installer/manifest.js';
import { readRepo, RepoError } from '../git/repo.js';
import { ConfigError } from '../server/read-push.js';
import { watchRefs } from '../server/ref-watch.js';
import { formatDashboardMain, formatDashboardPage, PAGE_CSP } from './serve-page.js';

/** The default port (DESIGN.md "Command line"). */
export const DEFAULT_PORT = 7420;
/** A comment line is sent on every open stream this often, so proxies and browsers keep it open (ms). */
export const HEARTBEAT_MS = 15_000;
/** Open event streams beyond this are refused with 503 (each holds a socket). */
export const MAX_STREAMS = 1000;
/** The cookie that carries the token for the page's own requests (EventSource cannot send headers). */
export const TOKEN_COOKIE = 'agent_hooks_token';

/** A mistake of the person starting the server (exit 2): what, and the fix. */
export class ServeUsageError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'ServeUsageError';
  }
}

/** What `serve` needs. `token`: required of every request when set; required at all off loopback. */
export interface ServeOptions {
  repo: string;
  port?: number;
  host?: string;
  token?: string;
  heartbeatMs?: number;
  debounceMs?: number;
  /** Where the server says where it listens (never the token). */
  log?: (line: string) => void;
}

/** A running dashboard. */
export interface RunningServe {
  url: string;
  port: number;
  gitDir: string;
  /** How many event streams are open now. */
  streamCount(): number;
  /** How many refreshes were sent since start (one per burst of ref changes that changed the page). */
  refreshCount(): number;
  /** Bytes written to open streams that Node still holds (not yet taken by the sockets), and how many streams are behind. */
  buffered(): { bytes: number; behind: number };
  close(): Promise<void>;
}

/** Whether a bind address or Host name is loopback: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.')) || h === '::ffff:127.0.0.1';
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares a presented token with the expected one in constant time (both hashed first, so lengths never leak). */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  return presented !== undefined && timingSafeEqual(digest(presented), digest(expected));
}

/**
 * Checks the repository and the options before anything listens.
 * @throws ServeUsageError for a path that does not exist, is not a bare repo, has no
 * agent-hooks installed, a bad port, or a non-loopback host without a token.
 */
export function resolveServe(options: ServeOptions): { gitDir: string; host: string; port: number; token?: string } {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ServeUsageError(`--port ${String(options.port)}: a port is a whole number from 0 to 65535`, `agent-hooks serve ${options.repo} --port ${DEFAULT_PORT}`);
  let repo;
  try {
    repo = readRepo(options.repo);
  } catch (error) {
    if (error instanceof RepoError) throw new ServeUsageError(error.message, 'agent-hooks serve <path of the bare repo agents push to>');
    throw error;
  }
  if (!repo.bare) throw new ServeUsageError(`${repo.path} is not a bare repository (the dashboard shows the bare repo agents push to)`, 'agent-hooks serve <path of the bare repo, e.g. upstream.git>');
  const installed = findInstallation(repo.gitDir, repo.hooksDir);
  if (!installed.manifest) throw new ServeUsageError(`agent-hooks is not installed in ${repo.gitDir}`, `agent-hooks install ${repo.gitDir}`);
  const token = options.token || readConfig('^agenthooks\\.serve\\.token$', { cwd: repo.gitDir, env: { ...process.env, GIT_DIR: repo.gitDir } }).get('agenthooks.serve.token')?.at(-1) || undefined;
  if (!isLoopback(host) && !token) {
    throw new ServeUsageError(`--host ${host} is not loopback, and a dashboard reachable from other machines needs a token`, `agent-hooks serve ${options.repo} --host ${host} --token "$(openssl rand -hex 24)"   (or git config agenthooks.serve.token <secret> in the bare repo)`);
  }
  return { gitDir: repo.gitDir, host, port, token };
}

const ALLOWED_QUERY = new Set(['token', 'since']);
const text = (c: Context, status: 400 | 401 | 403 | 404 | 405 | 500 | 503, line: string, headers: Record<string, string> = {}) => c.body(`${line}\n`, status, { 'content-type': 'text/plain; charset=utf-8', ...headers });

/**
 * One open event stream: its response, whether the socket's buffer is full (then it gets only
 * the latest refresh, on drain), and the last refresh written to it.
 */
interface Stream {
  res: ServerResponse;
  behind: boolean;
  sentId: number;
}

/**
 * Starts the dashboard server. Resolves once it listens.
 * @throws ServeUsageError (see {@link resolveServe}), or when the port is in use or cannot be bound.
 */
export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const { gitDir, host, port, token } = resolveServe(options);
  const reader: DashboardReader = openDashboardReader(gitDir);
  const read = (): Promise<DashboardJson> => reader.read(Date.now());
  const streams = new Set<Stream>();
  let refreshes = 0;
  let eventId = 0;
  let lastMain = formatDashboardMain(await read());
  let closed = false;
  // One read at a time: changes that arrive during a read are read again once it ends.
  let reading = false;
  let readAgain = false;

  const send = (s: Stream, chunk: string, id?: number) => {
    if (s.behind) return;
    if (id !== undefined) s.sentId = id;
    if (!s.res.write(chunk)) s.behind = true;
  };
  const refreshChunk = () => `id: ${eventId}\nevent: refresh\n${lastMain.split('\n').map((l) => `data: ${l}`).join('\n')}\n\n`;
  const refreshOnce = async () => {
    let main: string;
    try {
      main = formatDashboardMain(await read());
    } catch (error) {
      options.log?.(`WARNING: serve: could not read ${gitDir}: ${(error as Error).message.split('\n')[0]}`);
      return;
    }
    // The read time is on the page; compare without it so only real changes are sent.
    const strip = (html: string) => html.replace(/<p id="where">.*?<\/p>/, '');
    if (closed || strip(main) === strip(lastMain)) return;
    lastMain = main;
    eventId++;
    refreshes++;
    const chunk = refreshChunk();
    for (const s of streams) send(s, chunk, eventId);
  };
  const refresh = () => {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    void (async () => {
      do {
        readAgain = false;
        await refreshOnce();
      } while (readAgain && !closed);
      reading = false;
    })();
  };
  const stopWatching = watchRefs(gitDir, refresh, { debounceMs: options.debounceMs });
  const heartbeat = setInterval(() => {
    for (const s of streams) send(s, ': keepalive\n\n');
  }, options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  const app = new Hono<{ Bindings: HttpBindings }>();
  app.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return text(c, 405, `ERROR: ${quote(c.req.method)} ${quote(c.req.path)}: the dashboard is read-only; fix: use GET`, { allow: 'GET, HEAD' });
    const raw = c.env.incoming.url ?? '/';
    const url = new URL(raw, 'http://x');
    try {
      decodeURIComponent(url.pathname);
      for (const [key] of url.searchParams) if (!ALLOWED_QUERY.has(key)) throw new Error(`unknown query parameter ${showJson(key)}`);
    } catch (error) {
      return text(c, 400, `ERROR: ${quote(c.req.method)} request: malformed (${error instanceof URIError ? 'bad percent-encoding' : (error as Error).message}); fix: GET /, /api/status or /events`);
    }
    const lastEventId = c.req.header('last-event-id');
    if (lastEventId !== undefined && !/^\d{1,15}$/.test(lastEventId)) return text(c, 400, 'ERROR: Last-Event-ID: not an event id; fix: reconnect without it');
    const since = url.searchParams.get('since');
    if (since !== null && !/^\d{1,15}$/.test(since)) return text(c, 400, 'ERROR: ?since: not an event id; fix: reload the page');
    const hostHeader = c.req.header('host');
    if (!hostHeader) return text(c, 400, 'ERROR: request: no Host header; fix: send one (HTTP/1.1)');
    if (token) {
      const bearer = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
      const cookie = /(?:^|;\s*)agent_hooks_token=([^;]*)/.exec(c.req.header('cookie') ?? '')?.[1];
      const query = url.searchParams.get('token') ?? undefined;
      const ok = [bearer, cookie && safeDecode(cookie), query].some((t) => tokenMatches(t ?? undefined, token));
      if (!ok) return text(c, 401, 'ERROR: a token is required; fix: open the page with ?token=<token>, or send Authorization: Bearer <token>', { 'www-authenticate': 'Bearer' });
      if (query !== undefined && url.pathname === '/') {
        // Keep the token out of the address bar and history: a cookie for this site, then the clean address.
        url.searchParams.delete('token');
        return c.body(null, 303, { location: `${url.pathname}${url.search}`, 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(query)}; HttpOnly; SameSite=Strict; Path=/` });
      }
    } else if (!isLoopback(hostHeader.replace(/:\d+$/, ''))) {
      // Bound to loopback without a token: a page on another site must not reach it through DNS rebinding.
      return text(c, 403, `ERROR: Host ${showJson(hostHeader)}: this dashboard answers only to loopback names; fix: open http://127.0.0.1:${port}/`);
    }
    await next();
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'no-referrer');
    c.header('cache-control', 'no-store');
  });
  app.get('/', async (c) => {
    c.header('content-security-policy', PAGE_CSP);
    const id = eventId;
    return c.html(formatDashboardPage(await read(), id));
  });
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/api/status', async (c) => c.json(await read()));
  app.get('/events', (c) => {
    if (c.req.method === 'HEAD') return c.body(null, 200, { 'content-type': 'text/event-stream' });
    if (streams.size >= MAX_STREAMS) return text(c, 503, `ERROR: /events: ${MAX_STREAMS} streams are open already; fix: close some viewers`, { 'retry-after': '30' });
    const res = c.env.outgoing;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' });
    const stream: Stream = { res, behind: false, sentId: -1 };
    streams.add(stream);
    res.on('drain', () => {
      // A slow viewer that caught up gets the latest page, not every one it missed.
      stream.behind = false;
      if (stream.sentId !== eventId) send(stream, refreshChunk(), eventId);
    });
    res.on('close', () => streams.delete(stream));
    res.write(`retry: 2000\n\n`);
    // A viewer that missed a refresh (since its page was rendered, or while reconnecting) gets the current page at once.
    const seen = Number(c.req.header('last-event-id') ?? c.req.query('since') ?? -1);
    if (seen !== eventId) send(stream, refreshChunk(), eventId);
    else stream.sentId = eventId;
    return RESPONSE_ALREADY_SENT;
  });
  app.notFound((c) => text(c, 404, `ERROR: ${quote(c.req.path)}: no such page; fix: GET /, /api/status or /events`));
  app.onError((error, c) => text(c, 500, `ERROR: internal: ${error.message.split('\n')[0]}`));

  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      stopWatching();
      clearInterval(heartbeat);
      if (error.code === 'EADDRINUSE') reject(new ServeUsageError(`port ${port} on ${host} is in use`, `agent-hooks serve ${options.repo} --port ${port + 1}   (or --port 0 for any free port)`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'EACCES' || error.code === 'ENOTFOUND') reject(new ServeUsageError(`cannot listen on ${host}:${port} (${error.code})`, `agent-hooks serve ${options.repo} --host 127.0.0.1 --port ${DEFAULT_PORT}`));
      else reject(error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}/`;
  options.log?.(`agent-hooks serve: ${gitDir} at ${url}${token ? ' (a token is required: ?token=<token> once, or Authorization: Bearer)' : ''}; read-only; Ctrl-C stops`);
  return {
    url,
    port: boundPort,
    gitDir,
    streamCount: () => streams.size,
    refreshCount: () => refreshes,
    buffered: () => ({ bytes: [...streams].reduce((n, s) => n + s.res.writableLength, 0), behind: [...streams].filter((s) => s.behind).length }),
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        stopWatching();
        clearInterval(heartbeat);
        for (const s of streams) s.res.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * The `serve` command: starts the server and runs until SIGINT/SIGTERM. Returns the exit code:
 * 0 after a signal, 2 for a usage mistake or an invalid `agenthooks.claimsRef` (printed as
 * `ERROR: serve: ...; fix: ...`).
 */
export async function runServe(options: ServeOptions): Promise<number> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let running: RunningServe;
  try {
    running = await startServe({ ...options, log });
  } catch (error) {
    // The person starting it can fix these: a wrong path or port, or the bare repo's own config.
    if (error instanceof ServeUsageError || error instanceof ConfigError) {
      process.stderr.write(`ERROR: serve: ${error.message}; fix: ${error.fix}\n`);
      return 2;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.close();
  return 0;
}
