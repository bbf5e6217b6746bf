// The dashboard under load (issue 16): 100 open event streams (10 of them never read, like a
// stalled viewer) while refs change 10 times a second for a minute; the server's heap (after a
// full GC) is sampled before, during and after, and the stream count as viewers disconnect.
// `--hold S`: one stream left open S seconds (default heartbeat), to show it stays open and
// nothing grows.
//
//   npm run build && node bench/serve-streams.mjs [--streams 100] [--rate 10] [--seconds 60] [--write]
//   (--write: replace the "Dashboard" section of bench/RESULTS.md, kept before "Soak")
//   node bench/serve-streams.mjs --hold 3600
//
// The server runs in a child process (node --expose-gc) so the viewers' own buffers are not
// counted; ref changes are real (`git update-ref --stdin`, one transaction per change, creating
// and deleting queue entries under refs/land/), seen by the server's ref watcher.
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchEnv, CLI, git, run } from './fixture.mjs';

const SERVE = resolve(import.meta.dirname, '..', 'dist', 'serve.mjs');

if (process.argv[2] === '--child') {
  // The server side: start, report the port, answer 'measure' with the heap after a full GC.
  const { startServe } = await import(SERVE);
  const s = await startServe({ repo: process.argv[3], port: 0, log: () => undefined });
  process.on('message', (m) => {
    if (m === 'measure') {
      global.gc();
      const mem = process.memoryUsage();
      process.send({ heapUsed: mem.heapUsed, rss: mem.rss, external: mem.external, streams: s.streamCount(), refreshes: s.refreshCount(), ...s.buffered() });
    } else if (m === 'stop') void s.close().then(() => process.exit(0));
  });
  process.send({ port: s.port });
} else {
  await main();
}

async function main() {
  const { values } = parseArgs({ options: { write: { type: 'boolean', default: false }, streams: { type: 'string', default: '100' }, rate: { type: 'string', default: '10' }, seconds: { type: 'string', default: '60' }, hold: { type: 'string' } } });
  const dir = mkdtempSync(join(tmpdir(), 'agent-hooks-serve-bench-'));
  try {
    const upstream = join(dir, 'upstream.git');
    git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', upstream);
    run(dir, process.execPath, [CLI, 'install', upstream]);
    const clone = join(dir, 'agent-1');
    git(dir, 'clone', '--quiet', upstream, clone);
    for (const [k, v] of [['user.name', 'agent-1'], ['user.email', 'a@example.com'], ['commit.gpgSign', 'false']]) git(clone, 'config', k, v);
    run(clone, 'sh', ['-c', 'mkdir -p current_tasks && touch current_tasks/.gitkeep && echo x > README.md && git add -A && git commit -qm start && git push -q origin HEAD:main']);
    for (const task of ['parser', 'lexer', 'docs']) run(clone, process.execPath, [CLI, 'claim', task, '--files', `src/${task}/**`]);
    const oid = git(upstream, 'rev-parse', 'main');

    const child = fork(import.meta.filename, ['--child', upstream], { execArgv: ['--expose-gc'], env: benchEnv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const replies = [];
    child.on('message', (m) => replies.push(m));
    const next = async () => {
      while (replies.length === 0) await sleep(10);
      return replies.shift();
    };
    const { port } = await next();
    const measure = async () => {
      child.send('measure');
      return next();
    };
    const mb = (n) => (n / 1024 / 1024).toFixed(1);

    if (values.hold) {
      const seconds = Number(values.hold);
      const before = await measure();
      const viewer = openStream(port, false);
      await sleep(seconds * 1000);
      const after = await measure();
      const open = !viewer.closed();
      viewer.close();
      await sleep(500);
      const end = await measure();
      console.log(`hold ${seconds} s: stream still open at the end: ${open}; heartbeats received: ${viewer.keepalives()}; heap before ${mb(before.heapUsed)} MB, after ${mb(after.heapUsed)} MB; streams after disconnect: ${end.streams}`);
      child.send('stop');
      return;
    }

    const streams = Number(values.streams);
    const rate = Number(values.rate);
    const seconds = Number(values.seconds);
    const base = await measure();
    const idleMs = await latencies(port, 15);
    const viewers = Array.from({ length: streams }, (_, i) => openStream(port, i < streams / 10));
    while ((await measure()).streams < streams) await sleep(100);
    const connected = await measure();

    // Ref changes: one transaction per tick, a new queue entry, and the oldest dropped past 20.
    const updater = spawn('git', ['update-ref', '--stdin'], { cwd: upstream, env: { ...benchEnv, GIT_DIR: upstream }, stdio: ['pipe', 'ignore', 'inherit'] });
    let n = 0;
    const ticker = setInterval(() => {
      const drop = n >= 20 ? `delete refs/land/agent-${(n - 20) % 3}/topic-${n - 20}\n` : '';
      updater.stdin.write(`start\ncreate refs/land/agent-${n % 3}/topic-${n} ${oid}\n${drop}commit\n`);
      n++;
    }, 1000 / rate);
    const samples = [];
    const started = Date.now();
    let loadedMs;
    for (let t = 10; t <= seconds; t += 10) {
      await sleep(started + t * 1000 - Date.now());
      samples.push({ t, ...(await measure()) });
      if (!loadedMs) loadedMs = await latencies(port, 15);
    }
    clearInterval(ticker);
    updater.stdin.end();
    await sleep(1500);
    const loaded = await measure();
    for (const v of viewers.slice(0, streams / 2)) v.close();
    await sleep(1000);
    const half = await measure();
    for (const v of viewers.slice(streams / 2)) v.close();
    await sleep(1000);
    const none = await measure();
    const reading = viewers.filter((v) => !v.paused);
    const received = reading.map((v) => v.refreshes()).sort((a, b) => a - b);

    const lines = [
      `serve under load: ${streams} event streams (${streams / 10} never read), ${rate} ref changes/s for ${seconds} s (${n} changes), node ${process.version}`,
      '',
      '| moment | heap used after GC (MB) | rss (MB) | open streams | refreshes sent | bytes held for streams (streams behind) |',
      '|---|---|---|---|---|---|',
      ...[['server started, no viewer', base], [`${streams} viewers connected`, connected], ...samples.map((s) => [`${s.t} s of ref changes`, s]), ['changes stopped', loaded], ['half the viewers gone', half], ['every viewer gone', none]].map(
        ([label, m]) => `| ${label} | ${mb(m.heapUsed)} | ${mb(m.rss)} | ${m.streams} | ${m.refreshes} | ${m.bytes} (${m.behind}) |`,
      ),
      '',
      `refreshes received per reading viewer: min ${received[0]}, median ${received[Math.floor(received.length / 2)]}, max ${received.at(-1)}`,
      `heap growth while refs changed (10 s sample to the last): ${((samples.at(-1).heapUsed - samples[0].heapUsed) / 1024 / 1024).toFixed(2)} MB`,
      `GET /api/status, median of 15: ${idleMs.toFixed(1)} ms with no viewer and no change; ${loadedMs.toFixed(1)} ms with ${streams} viewers and ${rate} changes/s`,
    ];
    console.log(lines.join('\n'));
    if (values.write) writeSection(lines);
    child.send('stop');
  } finally {
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the "## Dashboard" section of RESULTS.md, before "## Soak" (both survive `npm run bench`). */
function writeSection(lines) {
  const path = resolve(import.meta.dirname, 'RESULTS.md');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n\n';
  const section = [
    '## Dashboard (`agent-hooks serve`)',
    '',
    `\`node bench/serve-streams.mjs --write\`, ${new Date().toISOString().slice(0, 10)}. The server runs in its own process (node --expose-gc); heap is measured after a full GC. Ref changes are real (\`git update-ref --stdin\`, one transaction each, creating a queue entry under refs/land/ and dropping the oldest past 20), seen by the server's ref watcher. Aim (issue 16): no growth of memory, and a viewer that leaves frees its stream.`,
    '',
    ...lines,
    '',
    '',
  ].join('\n');
  const start = text.indexOf('## Dashboard');
  const soak = text.indexOf('## Soak');
  const before = start >= 0 ? text.slice(0, start) : soak >= 0 ? text.slice(0, soak) : `${text.trimEnd()}\n\n`;
  const after = soak >= 0 ? text.slice(soak) : '';
  writeFileSync(path, `${before}${section}${after}`);
}

/** The median time of `count` GET /api/status, one after another (ms). */
async function latencies(port, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await new Promise((done, fail) => request({ host: '127.0.0.1', port, path: '/api/status' }, (res) => res.resume().on('end', done)).on('error', fail).end());
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(count / 2)];
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/** One viewer: a raw GET /events; `paused` never reads (its socket fills up). */
function openStream(port, paused) {
  let refreshes = 0;
  let keepalives = 0;
  let closed = false;
  let tail = '';
  const req = request({ host: '127.0.0.1', port, path: '/events', headers: { accept: 'text/event-stream' } }, (res) => {
    res.on('close', () => (closed = true));
    if (paused) {
      res.pause();
      return;
    }
    res.setEncoding('utf8');
    res.on('data', (d) => {
      // Whole events only (they end with a blank line); the rest waits for the next chunk.
      const events = (tail + d).split('\n\n');
      tail = events.pop();
      for (const e of events) {
        if (e.startsWith(': keepalive')) keepalives++;
        else if (/^id: \d+\nevent: refresh\n/.test(e)) refreshes++;
      }
    });
  });
  req.on('error', () => (closed = true));
  req.end();
  return { paused, refreshes: () => refreshes, keepalives: () => keepalives, closed: () => closed, close: () => req.destroy() };
}
