// `agent-hooks serve` over real HTTP against real bare repos and real pushes: read-only (405),
// malformed requests (400), the token off loopback, /api/status equal to `status --json`, the
// event stream (a refresh on a ref change, heartbeats, a disconnect frees the stream), and the
// mistakes a person starting it can make.
import { request } from 'node:http';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServe, ServeUsageError, tokenMatches, isLoopback, type RunningServe, type ServeOptions } from '../front/serve.js';
import { appendEvent } from '../server/events-log.js';
import { writeRedRecord } from '../server/red.js';
import { statePaths } from '../server/state.js';
import type { RedRecord } from '../core/preexisting.js';
import { enqueue, IDENT, markBatch } from './helpers/dashboard.js';
import { cli, cloneAs, commit, git, lockText, makeUpstream, push, refsOf, sharedRepo, sync, tempDir, waitFor } from './helpers/git.js';

const running: RunningServe[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function serve(options: ServeOptions): Promise<RunningServe> {
  const s = await startServe({ port: 0, ...options });
  running.push(s);
  return s;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw HTTP request (node:http, so any method, path and Host header can be sent). */
function http(url: string, options: { method?: string; path?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An open event stream: what arrived so far, and how to hang up. */
function openEvents(url: string, headers: Record<string, string> = {}): Promise<{ received: () => string; close: () => void; status: number }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    let text = '';
    const req = request({ host: u.hostname, port: u.port, path: '/events', headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      resolve({ received: () => text, close: () => req.destroy(), status: res.statusCode ?? 0 });
    });
    req.on('error', (e) => (text ? undefined : reject(e)));
    req.end();
  });
}

const claimIn = (clone: string, task: string, files: string[]) => cli(['claim', task, '--files', ...files, '-m', `work on ${task}`], { cwd: clone });

describe('serve: /api/status', () => {
  it('holds exactly what status --json says in the bare repo (claims from real pushes), plus the dashboard fields', async () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    expect(claimIn(clones['agent-1']!, 'parser', ['src/parser/**']).exitCode).toBe(0);
    expect(claimIn(clones['agent-2']!, 'lexer', ['src/lexer/**']).exitCode).toBe(0);
    const s = await serve({ repo: upstream });
    const api = JSON.parse((await http(s.url, { path: '/api/status' })).body);
    const status = cli(['status', '--json'], { cwd: upstream });
    expect(status.exitCode).toBe(0);
    const expected = JSON.parse(status.stdout);
    // Only the clock differs between two reads: the read time and the seconds left.
    const clockless = (j: any) => ({ ...j, now: 'now', claims: j.claims.map((c: object) => ({ ...c, left: 'left' })) });
    const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, api[k]]));
    expect(clockless(picked)).toEqual(clockless(expected));
    expect(api.claims.map((c: { task: string; agent: string }) => `${c.task}:${c.agent}`)).toEqual(['lexer:agent-2', 'parser:agent-1']);
    for (const key of ['queue', 'verdicts', 'branches', 'rejections', 'health', 'agents', 'activity']) expect(api).toHaveProperty(key);
    expect(api.agents.map((a: { agent: string }) => a.agent).sort()).toEqual(['agent-1', 'agent-2']);
  });

  it('shows the landing queue from refs/land/<agent>/<topic> and a refused push with its ERROR lines', async () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    const s = await serve({ repo: upstream });
    commit(clones['agent-2']!, { 'src/b.ts': 'b\n' }, 'feature b');
    enqueue(upstream, clones['agent-2']!, 'refs/land/agent-2/feature-b');
    appendEvent(s.gitDir, { kind: 'rejected', time: '2026-11-30T12:00:00Z', pusher: 'agent-3', refs: ['refs/heads/main'], errors: ['ERROR: refs/heads/main: src/x.ts is leased by agent-1; fix: agent-hooks status'] });
    const api = JSON.parse((await http(s.url, { path: '/api/status' })).body);
    expect(api.queue).toEqual([expect.objectContaining({ ref: 'refs/land/agent-2/feature-b', agent: 'agent-2', topic: 'feature-b', subject: 'feature b' })]);
    expect(api.rejections[0].errors[0]).toMatch(/^ERROR: refs\/heads\/main: src\/x.ts is leased by agent-1/);
    const page = (await http(s.url)).body;
    expect(page).toContain('feature-b');
    expect(page).toContain('src/x.ts is leased by agent-1');
  });

  it('lists a push refused by pre-receive with its ERROR lines, from the events log the hook wrote', async () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    expect(claimIn(clones['agent-1']!, 'parser', ['src/parser/**']).exitCode).toBe(0);
    const s = await serve({ repo: upstream });
    sync(clones['agent-2']!);
    commit(clones['agent-2']!, { 'src/parser/x.ts': 'x\n' }, 'touch the parser');
    const refused = push(clones['agent-2']!);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.errors.length).toBeGreaterThan(0);
    const api = JSON.parse((await http(s.url, { path: '/api/status' })).body);
    expect(api.rejections[0]).toMatchObject({ pusher: 'agent-2', refs: ['refs/heads/main'], errors: refused.errors });
    const row = api.activity.find((r: { kind: string }) => r.kind === 'rejected');
    expect(row).toMatchObject({ agent: 'agent-2', errors: refused.errors });
    expect(api.agents.find((a: { agent: string }) => a.agent === 'agent-2').what).toMatch(/^rejected/);
    // doctor's synthetic push is always refused, and is no rejection to show.
    expect(cli(['doctor', upstream]).exitCode).toBe(0);
    expect(JSON.parse((await http(s.url, { path: '/api/status' })).body).rejections).toHaveLength(1);
  });

  it("shows the lander's verdicts from notes under refs/notes/agent-hooks, with an ejection's ERROR lines", async () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    commit(clones['agent-1']!, { 'src/a.ts': 'a\n' }, 'feature a');
    enqueue(upstream, clones['agent-1']!, 'refs/land/agent-1/a');
    commit(clones['agent-2']!, { 'src/b.ts': 'b\n' }, 'feature b');
    enqueue(upstream, clones['agent-2']!, 'refs/land/agent-2/b');
    const a = git(upstream, ['rev-parse', 'refs/land/agent-1/a']).stdout.trim();
    const b = git(upstream, ['rev-parse', 'refs/land/agent-2/b']).stdout.trim();
    const main = git(upstream, ['rev-parse', 'main']).stdout.trim();
    const note = (oid: string, verdict: object) => git(upstream, ['notes', '--ref=agent-hooks', 'add', '-m', JSON.stringify(verdict), oid], { env: { GIT_AUTHOR_NAME: 'lander', GIT_AUTHOR_EMAIL: 'l@x', GIT_COMMITTER_NAME: 'lander', GIT_COMMITTER_EMAIL: 'l@x' } });
    note(a, { state: 'landed', onto: main, reason: 'tests passed', errors: [] });
    note(b, { state: 'ejected', onto: main, reason: 'tests failed', errors: ['ERROR: test/b.test.ts: expected 1, got 2'], reproduce: 'agent-hooks test --fast', ref: 'refs/land/agent-2/b', time: '2026-11-30T12:00:00Z' });
    git(upstream, ['notes', '--ref=agent-hooks', 'add', '-m', 'not json', main], { env: { GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' } });
    const s = await serve({ repo: upstream });
    const api = JSON.parse((await http(s.url, { path: '/api/status' })).body);
    expect(api.verdicts.map((v: { agent: string; state: string; subject: string }) => `${v.agent} ${v.state} ${v.subject}`).sort()).toEqual(['agent-1 landed feature a', 'agent-2 ejected feature b']);
    expect(api.activity.find((r: { kind: string }) => r.kind === 'ejected')).toMatchObject({ agent: 'agent-2', time: '2026-11-30T12:00:00Z', errors: ['ERROR: test/b.test.ts: expected 1, got 2'] });
    const page = (await http(s.url)).body;
    expect(page).toContain('ejected');
    expect(page).toContain('ERROR: test/b.test.ts: expected 1, got 2');
  });

  it("shows the batch under test from the lander's marker ref, and marks its entries", async () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    commit(clones['agent-2']!, { 'src/b.ts': 'b\n' }, 'feature b');
    enqueue(upstream, clones['agent-2']!, 'refs/land/agent-2/b');
    commit(clones['agent-1']!, { 'src/a.ts': 'a\n' }, 'feature a');
    enqueue(upstream, clones['agent-1']!, 'refs/land/agent-1/a');
    const s = await serve({ repo: upstream });
    const before = JSON.parse((await http(s.url, { path: '/api/status' })).body);
    expect(before.batch).toBeNull();
    expect(before.queue.map((q: { testing: boolean }) => q.testing)).toEqual([false, false]);
    markBatch(upstream, ['refs/land/agent-2/b']);
    const api = JSON.parse((await http(s.url, { path: '/api/status' })).body);
    expect(api.batch).toMatchObject({ onto: git(upstream, ['rev-parse', 'main']).stdout.trim(), entries: [{ ref: 'refs/land/agent-2/b' }] });
    expect(api.queue.map((q: { ref: string; testing: boolean }) => `${q.ref} ${q.testing}`).sort()).toEqual(['refs/land/agent-1/a false', 'refs/land/agent-2/b true']);
    // A marker whose message is not a batch (or names refs outside the queue) shows no batch.
    const tree = git(upstream, ['rev-parse', 'main^{tree}']).stdout.trim();
    git(upstream, ['update-ref', 'refs/agent-hooks/lander/testing', git(upstream, ['commit-tree', tree, '-m', '{"onto":"x","entries":[]}'], { env: IDENT }).stdout.trim()]);
    expect(JSON.parse((await http(s.url, { path: '/api/status' })).body).batch).toBeNull();
  });

  it('says main is red, since when and by whom, from the red-test records of the test stage', async () => {
    const { upstream } = sharedRepo(['agent-1']);
    const s = await serve({ repo: upstream });
    const main = git(upstream, ['rev-parse', 'main']).stdout.trim();
    // Written by the test stage's own writer (server/red.ts), so the dashboard reads what it writes.
    const record: RedRecord = { ref: 'refs/heads/main', test: 'test/parse.test.mjs', redAt: main, seen: '2026-11-30T12:00:00Z', state: 'found', culprit: { oid: main, agent: 'agent-7', subject: 'parser: <b>oops</b>' }, announced: true, command: ['node', '--test'], timeout: 300 };
    writeRedRecord(s.gitDir, record);
    writeRedRecord(s.gitDir, { ...record, ref: 'refs/heads/dev', test: 'x' });
    // A torn file and a record of the wrong shape are no records.
    const red = statePaths(s.gitDir).red;
    writeFileSync(join(red, 'torn.json'), '{"ref":"refs/heads/main","te');
    writeFileSync(join(red, 'shape.json'), JSON.stringify({ ...record, test: 42, seen: '2026-11-30T11:00:00Z' }));
    const api = JSON.parse((await http(s.url, { path: '/api/status' })).body);
    expect(api.health).toMatchObject({ state: 'red', since: '2026-11-30T12:00:00Z', tests: [{ test: 'test/parse.test.mjs', culprit: { agent: 'agent-7' } }] });
    expect(api.health.tests).toHaveLength(1);
    const page = (await http(s.url)).body;
    expect(page).toMatch(/Main is red<\/strong> \(tests failing\)/);
    expect(page).toContain('turned red by <strong>agent-7</strong>');
    expect(page).toContain('parser: &#60;b&#62;oops');
  });

  it('escapes pushed text: a task description and subject with markup stay text', async () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    expect(cli(['claim', 'xss', '-m', '<script>alert(1)</script>'], { cwd: clones['agent-1']! }).exitCode).toBe(0);
    commit(clones['agent-1']!, { 'a.txt': 'a' }, '<img src=x onerror=alert(2)>');
    expect(push(clones['agent-1']!, ['origin', 'HEAD:refs/heads/evil']).exitCode).toBe(0);
    const s = await serve({ repo: upstream });
    const page = (await http(s.url)).body;
    expect(page).not.toContain('<script>alert(1)');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&#60;script&#62;alert(1)');
    expect((await http(s.url)).headers['content-security-policy']).toMatch(/script-src 'sha256-/);
  });
});

describe('serve: read-only and malformed requests', () => {
  it('refuses every method but GET and HEAD with 405, and nothing changes', async () => {
    const { upstream } = sharedRepo(['agent-1']);
    const s = await serve({ repo: upstream });
    const before = refsOf(upstream);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND']) {
      for (const path of ['/', '/api/status', '/events']) {
        const r = await http(s.url, { method, path });
        expect(r.status, `${method} ${path}`).toBe(405);
        expect(r.headers.allow).toBe('GET, HEAD');
        expect(r.body).toMatch(/^ERROR: .*read-only; fix: use GET/);
      }
    }
    expect(refsOf(upstream)).toBe(before);
    const head = await http(s.url, { method: 'HEAD', path: '/api/status' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await http(s.url, { method: 'HEAD', path: '/events' })).status).toBe(200);
    expect(s.streamCount()).toBe(0);
  });

  it('answers malformed requests with 400', async () => {
    const { upstream } = sharedRepo(['agent-1']);
    const s = await serve({ repo: upstream });
    expect((await http(s.url, { path: '/%E0%A4%A' })).status).toBe(400);
    expect((await http(s.url, { path: '/api/status?debug=1' })).status).toBe(400);
    expect((await http(s.url, { path: '/events', headers: { 'last-event-id': '../../etc' } })).status).toBe(400);
    expect(s.streamCount()).toBe(0);
    // Not HTTP at all: node's parser answers 400 and the server goes on.
    const raw = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(s.url).port), '127.0.0.1', () => socket.write('GARBAGE\r\n\r\n'));
      let out = '';
      socket.on('data', (d) => (out += d));
      socket.on('close', () => resolve(out));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await http(s.url, { path: '/nope' })).status).toBe(404);
    expect((await http(s.url)).status).toBe(200);
  });

  it('bound to loopback without a token, answers only loopback Host names (no DNS rebinding)', async () => {
    const { upstream } = sharedRepo(['agent-1']);
    const s = await serve({ repo: upstream });
    expect((await http(s.url, { headers: { host: 'evil.example:7420' } })).status).toBe(403);
    expect((await http(s.url, { headers: { host: `localhost:${s.port}` } })).status).toBe(200);
  });
});

describe('serve: the token', () => {
  it('is required off loopback: no token is a usage error; with one, every request needs it', async () => {
    const { upstream } = sharedRepo(['agent-1']);
    await expect(startServe({ repo: upstream, host: '0.0.0.0', port: 0 })).rejects.toThrow(ServeUsageError);
    const lines: string[] = [];
    const token = 's3cret-token-value';
    const s = await serve({ repo: upstream, host: '0.0.0.0', token, log: (l) => lines.push(l) });
    const url = `http://127.0.0.1:${s.port}/`;
    expect((await http(url, { path: '/api/status' })).status).toBe(401);
    expect((await http(url, { path: '/api/status', headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await http(url, { path: '/api/status', headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
    expect((await http(url, { path: '/events' })).status).toBe(401);
    expect(s.streamCount()).toBe(0);
    expect((await http(url, { path: '/api/status', headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const first = await http(url, { path: `/?token=${token}` });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    expect(String(first.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await http(url, { headers: { cookie } })).status).toBe(200);
    expect((await http(url, { headers: { cookie: 'agent_hooks_token=nope' } })).status).toBe(401);
    expect(lines.join('\n')).not.toContain(token);
    expect(lines.join('\n')).toMatch(/token is required/);
  });

  it('comes from git config agenthooks.serve.token when not given', async () => {
    const { upstream } = sharedRepo(['agent-1']);
    git(upstream, ['config', 'agenthooks.serve.token', 'from-config']);
    const s = await serve({ repo: upstream, host: '0.0.0.0' });
    const url = `http://127.0.0.1:${s.port}/`;
    expect((await http(url, { path: '/api/status' })).status).toBe(401);
    expect((await http(url, { path: '/api/status', headers: { authorization: 'Bearer from-config' } })).status).toBe(200);
  });

  it('compares in constant time over hashes (equal only when equal), and knows loopback', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abc', 'abd')).toBe(false);
    expect(tokenMatches('ab', 'abc')).toBe(false);
    expect(tokenMatches(undefined, 'abc')).toBe(false);
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com', '127.0.0.1.evil.com'].some(isLoopback)).toBe(false);
  });
});

describe('serve: bad input when starting', () => {
  it('names a path that does not exist, a clone, a bare repo without agent-hooks, a port in use', async () => {
    const dir = tempDir();
    await expect(startServe({ repo: join(dir, 'nope.git'), port: 0 })).rejects.toThrow(/does not exist/);
    const bare = makeUpstream({ install: false });
    await expect(startServe({ repo: bare, port: 0 })).rejects.toThrow(/agent-hooks is not installed/);
    const installed = makeUpstream();
    const clone = cloneAs(installed, 'agent-1');
    await expect(startServe({ repo: clone, port: 0 })).rejects.toThrow(/not a bare repository/);
    const s = await serve({ repo: installed });
    const busy = startServe({ repo: installed, port: s.port });
    await expect(busy).rejects.toThrow(ServeUsageError);
    await expect(busy).rejects.toThrow(/in use/);
  });
});

describe('serve: the command line', () => {
  it('exits 2 with ERROR and a fix for a missing path, a repo without agent-hooks, a port in use', async () => {
    const dir = tempDir();
    const missing = cli(['serve', join(dir, 'nope.git'), '--port', '0']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/^ERROR: serve: .*nope\.git does not exist; fix: /m);
    const bare = makeUpstream({ install: false });
    const bareRun = cli(['serve', bare, '--port', '0']);
    expect(bareRun.exitCode).toBe(2);
    expect(bareRun.stderr).toContain(`fix: agent-hooks install ${bare}`);
    const s = await serve({ repo: makeUpstream() });
    const busy = cli(['serve', s.gitDir, '--port', String(s.port)]);
    expect(busy.exitCode).toBe(2);
    expect(busy.stderr).toMatch(/^ERROR: serve: port \d+ on 127\.0\.0\.1 is in use; fix: agent-hooks serve .* --port \d+/m);
    git(s.gitDir, ['config', 'agenthooks.claimsRef', 'bad..name']);
    const config = cli(['serve', s.gitDir, '--port', '0']);
    expect(config.exitCode).toBe(2);
    expect(config.stderr).toMatch(/^ERROR: serve: git config agenthooks.claimsRef "bad..name": .*; fix: git config agenthooks.claimsRef refs\/heads\/main/m);
    git(s.gitDir, ['config', '--unset', 'agenthooks.claimsRef']);
    const open = cli(['serve', s.gitDir, '--host', '0.0.0.0', '--port', '0']);
    expect(open.exitCode).toBe(2);
    expect(open.stderr).toMatch(/needs a token; fix: .*--token/);
  });
});

describe('serve: /events', () => {
  it('sends a refresh with the new claim when a real push moves a ref, heartbeats, and frees a stream on disconnect', async () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    const s = await serve({ repo: upstream, heartbeatMs: 100, debounceMs: 50 });
    const stream = await openEvents(s.url);
    expect(stream.status).toBe(200);
    await waitFor(() => s.streamCount() === 1);
    await waitFor(() => stream.received().includes(': keepalive'));
    expect(claimIn(clones['agent-2']!, 'tokenizer', ['src/tok/**']).exitCode).toBe(0);
    await waitFor(() => /event: refresh\n(data: .*\n)*data: .*tokenizer/.test(stream.received()));
    stream.close();
    await waitFor(() => s.streamCount() === 0);
  });

  it('holds at most about one page for a viewer that stops reading, and gives it the latest page when it reads again', async () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    // 400 claims make a page of over 100 kB, so a stalled viewer's socket fills after a few dozen refreshes.
    const locks = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`current_tasks/task-${i}.txt`, lockText('agent-1', { files: [`src/t${i}/**`], description: `task number ${i} with a description long enough to weigh` })]));
    commit(clones['agent-1']!, locks, 'claim 400 tasks');
    expect(push(clones['agent-1']!).exitCode).toBe(0);
    const s = await serve({ repo: upstream, debounceMs: 5 });
    const pageBytes = (await http(s.url)).body.length;
    expect(pageBytes).toBeGreaterThan(100_000);
    const u = new URL(s.url);
    let resumed = '';
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) => request({ host: u.hostname, port: u.port, path: '/events' }, resolve).end());
    res.pause();
    const main = git(upstream, ['rev-parse', 'main']).stdout.trim();
    let i = 0;
    for (; i < 400 && s.buffered().behind === 0; i++) {
      git(upstream, ['update-ref', `refs/land/agent-1/topic-${i}`, main]);
      await waitFor(() => s.refreshCount() > i, 10_000);
    }
    expect(s.buffered().behind).toBe(1);
    for (let j = 0; j < 10; j++, i++) {
      git(upstream, ['update-ref', `refs/land/agent-1/topic-${i}`, main]);
      await waitFor(() => s.refreshCount() > i, 10_000);
    }
    expect(s.buffered().bytes).toBeLessThan(3 * pageBytes);
    res.setEncoding('utf8');
    res.on('data', (d: string) => (resumed = (resumed + d).slice(-4 * pageBytes)));
    res.resume();
    await waitFor(() => resumed.includes(`topic-${i - 1}<`) && s.buffered().behind === 0);
    res.destroy();
  });

  it('sends the current page at once to a viewer that reconnects with an old Last-Event-ID', async () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    const s = await serve({ repo: upstream, debounceMs: 50 });
    expect(claimIn(clones['agent-1']!, 'late', ['docs/**']).exitCode).toBe(0);
    await waitFor(() => s.refreshCount() >= 1);
    const stream = await openEvents(s.url, { 'last-event-id': '0' });
    await waitFor(() => stream.received().includes('late'));
    stream.close();
  });
});
