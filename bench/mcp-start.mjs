// Start-up of the MCP server (`node dist/mcp.mjs`, as `claude install` registers it: spawn, initialize, one tools/call check_paths of
// an unleased path, answered) against the Claude Code PreToolUse adapter (spawn, one allowed edit,
// exit), interleaved, medians, ratio in one run; in a clone of the generated repository (100
// claims of other agents, 300 lease globs). The MCP server is started once per session and then
// answers many calls; the row after it is a call to an already running server.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchEnv, cloneOf, generateRepo, median } from './fixture.mjs';

const PAIRS = Number(process.argv[2] ?? 15);
const ADAPTER = resolve(import.meta.dirname, '..', 'dist', 'claude-pre-tool-use.mjs');
// As `claude install` registers it: the MCP bundle run directly (`agent-hooks mcp` adds yargs).
const MCP = resolve(import.meta.dirname, '..', 'dist', 'mcp.mjs');
const now = () => Number(process.hrtime.bigint()) / 1e6;

/** A running MCP server: `ask` sends one request and resolves with its answer. */
function startServer(cwd) {
  const child = spawn(process.execPath, [MCP], { cwd, env: { ...benchEnv, AGENT_ID: 'bench' }, stdio: ['pipe', 'pipe', 'ignore'] });
  let buffer = '';
  const waiting = new Map();
  child.stdout.on('data', (c) => {
    buffer += c.toString('utf8');
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const message = JSON.parse(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
      waiting.get(message.id)?.(message);
    }
  });
  let id = 0;
  const ask = (method, params) => new Promise((done) => { waiting.set(++id, done); child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`); });
  const notify = (method) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  return { child, ask, notify };
}

const call = { name: 'check_paths', arguments: { paths: ['free/f1.ts'] } };
const initialized = [];
async function mcpFirstAnswer(cwd) {
  const start = now();
  const server = startServer(cwd);
  await server.ask('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } });
  initialized.push(now() - start);
  server.notify('notifications/initialized');
  const answer = await server.ask('tools/call', call);
  const ms = now() - start;
  if (answer.result?.structuredContent?.allowed !== true) throw new Error(`unexpected answer: ${JSON.stringify(answer)}`);
  server.child.kill();
  return ms;
}

function adapter(input) {
  const start = now();
  const r = spawnSync(process.execPath, [ADAPTER], { input, env: benchEnv });
  if (r.status !== 0) throw new Error(`adapter: ${r.stderr}`);
  return now() - start;
}

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
try {
  const bare = generateRepo(join(root, 'repo.git'));
  const repo = cloneOf(bare.path, join(root, 'clone'), 'bench');
  const input = JSON.stringify({ hook_event_name: 'PreToolUse', tool_name: 'Edit', tool_input: { file_path: 'free/f1.ts' }, cwd: repo });
  const a = [];
  const b = [];
  for (let i = 0; i < PAIRS; i++) {
    a.push(await mcpFirstAnswer(repo));
    b.push(adapter(input));
  }
  console.log(`| MCP server: start to first check_paths answer (it fetches the claims ref) vs claude pre-tool-use start, 300 lease globs | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} | ${(median(a) / median(b)).toFixed(2)}x |`);
  console.log(`| MCP server: start to the initialize answer (no git) vs claude pre-tool-use start | ${median(initialized).toFixed(1)} | ${median(b).toFixed(1)} | ${(median(initialized) / median(b)).toFixed(2)}x |`);
  const server = startServer(repo);
  await server.ask('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } });
  server.notify('notifications/initialized');
  const c = [];
  const d = [];
  for (let i = 0; i < PAIRS; i++) {
    const start = now();
    await server.ask('tools/call', call);
    c.push(now() - start);
    d.push(adapter(input));
  }
  server.child.kill();
  console.log(`| MCP server already running: one check_paths call (it fetches) vs claude pre-tool-use start | ${median(c).toFixed(1)} | ${median(d).toFixed(1)} | ${(median(c) / median(d)).toFixed(2)}x |`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
