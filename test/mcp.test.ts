// `agent-hooks mcp` through a real MCP client (the SDK's Client over stdio, spawning dist/cli.mjs
// mcp) against real bare repos and clones: every tool, bad arguments, unknown tools, a client
// that goes away mid-call, and that nothing but protocol reaches stdout.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLI, cli, commit, fixtureEnv, git, push, sharedRepo, tempDir, waitFor } from './helpers/git.js';

type Result = { isError?: boolean; content: { type: string; text: string }[]; structuredContent?: Record<string, unknown> };

/** An MCP client connected to `agent-hooks mcp` running in `cwd` as `agent`. */
async function connect(cwd: string, agent?: string): Promise<{ client: Client; call: (name: string, args?: Record<string, unknown>) => Promise<Result>; stderr: () => string }> {
  const env = fixtureEnv(agent ? { AGENT_ID: agent } : {}) as Record<string, string>;
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], cwd, env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const client = new Client({ name: 'agent-hooks-test', version: '0.0.0' });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return { client, call: (name, args = {}) => client.callTool({ name, arguments: args }) as Promise<Result>, stderr: () => stderr };
}

const text = (r: Result) => r.content.map((c) => c.text).join('\n');

describe('agent-hooks mcp', () => {
  it('lists the tools, each with an input schema', { timeout: 60_000 }, async () => {
    const { clones } = sharedRepo(['agent-1']);
    const { client } = await connect(clones['agent-1']!, 'agent-1');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['check_paths', 'claim', 'land', 'push', 'release', 'renew', 'status', 'test_fast']);
    for (const t of tools) expect(t.inputSchema.type).toBe('object');
    expect(tools.find((t) => t.name === 'claim')!.inputSchema.required).toEqual(['task']);
  });

  it('claim, status, check_paths, renew, release: typed results as structured content plus one text line; held is a tool error with the CLI line', { timeout: 120_000 }, async () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    const a = await connect(clones['agent-1']!, 'agent-1');
    const b = await connect(clones['agent-2']!, 'agent-2');

    const claimed = await a.call('claim', { task: 'parser', files: ['src/parser/**'], ttl: 600, description: 'nested calls' });
    expect(claimed.isError).toBe(false);
    expect(claimed.content).toHaveLength(1);
    expect(claimed.content[0]!.text).toMatch(/^claimed parser until \S+Z \(lease: src\/parser\/\*\*\)$/);
    expect(claimed.structuredContent).toMatchObject({ kind: 'claimed', claim: { task: 'parser', agent: 'agent-1', files: ['src/parser/**'] }, exitCode: 0, lost: [] });
    expect(git(upstream, ['show', 'main:current_tasks/parser.txt']).stdout).toMatch(/^agent: agent-1\n/);

    const held = await b.call('claim', { task: 'parser' });
    expect(held.isError).toBe(true);
    // The same line as the CLI's.
    const viaCli = cli(['claim', 'parser'], { cwd: clones['agent-2']! });
    expect(viaCli.exitCode).toBe(3);
    expect(held.content[0]!.text).toBe(viaCli.stderr.trim());
    expect(held.structuredContent).toMatchObject({ kind: 'held', task: 'parser', holder: { agent: 'agent-1' }, exitCode: 3 });

    const leased = await b.call('claim', { task: 'lexer', files: ['src/**'] });
    expect(leased).toMatchObject({ isError: true, structuredContent: { kind: 'leased', exitCode: 3 } });
    expect(leased.content[0]!.text).toMatch(/^ERROR: .*agent-1/);

    const paths = await b.call('check_paths', { paths: ['src/parser/a.ts', 'README.md', join(clones['agent-2']!, 'src/parser/b.ts'), '../outside.txt'] });
    expect(paths.isError).toBe(false);
    expect(paths.structuredContent).toMatchObject({
      kind: 'held',
      allowed: false,
      paths: [
        { path: 'src/parser/a.ts', allowed: false, holder: { agent: 'agent-1', task: 'parser', glob: 'src/parser/**' } },
        { path: 'README.md', allowed: true },
        { path: 'src/parser/b.ts', allowed: false },
        { path: '../outside.txt', allowed: true, outside: true },
      ],
    });
    expect(text(paths)).toMatch(/^ERROR: src\/parser\/a\.ts: leased by agent-1 \(task parser, glob src\/parser\/\*\*\) until \S+; fix: /);
    expect((await a.call('check_paths', { paths: ['src/parser/a.ts'] })).structuredContent).toMatchObject({ kind: 'free', allowed: true });

    const st = await b.call('status', {});
    expect(st.isError).toBe(false);
    expect(st.content[0]!.text).toBe('1 active claims on refs/remotes/origin/main; yours: none');
    expect(st.structuredContent).toMatchObject({ kind: 'status', report: { claims: [{ task: 'parser', agent: 'agent-1', active: true }] }, exitCode: 0 });
    const none = await b.call('status', { task: 'nothing' });
    expect(none).toMatchObject({ isError: true, structuredContent: { kind: 'no-claim', task: 'nothing' } });

    const renewed = await a.call('renew', { task: 'parser', ttl: 900 });
    expect(renewed).toMatchObject({ isError: false, structuredContent: { kind: 'renewed', claims: [{ task: 'parser' }] } });
    expect(git(upstream, ['show', 'main:current_tasks/parser.txt']).stdout).toMatch(/\nttl: 900\n/);
    expect(await b.call('release', { task: 'parser' })).toMatchObject({ isError: true, structuredContent: { kind: 'held', exitCode: 3 } });
    expect(await a.call('release', { task: 'parser' })).toMatchObject({ isError: false, content: [{ text: 'released parser' }], structuredContent: { kind: 'released' } });
    expect(git(upstream, ['ls-tree', '--name-only', 'main', 'current_tasks/']).stdout).not.toMatch(/parser/);
  });

  it('push and test_fast run the commands; their output stays off stdout (the protocol survives a noisy test command)', { timeout: 120_000 }, async () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    const clone = clones['agent-1']!;
    // A test command that prints a lot, including a line that looks like JSON-RPC.
    commit(clone, {
      'agent-hooks.json': JSON.stringify({ test: { command: ['sh', 'test/run.sh'], files: ['test/**/*.test.sh'], sample: 1 } }),
      'test/run.sh': 'for i in $(seq 1 200); do echo \'{"jsonrpc":"2.0","id":1,"result":{}}\'; done; echo ran "$@"; echo to-stderr >&2; exit 0\n',
      'test/a.test.sh': 'true\n',
    }, 'policy with tests');
    expect(push(clone).exitCode).toBe(0);
    git(clone, ['fetch', '--quiet', 'origin']);
    const c = await connect(clone, 'agent-1');
    const t = await c.call('test_fast', {});
    expect(t.isError, text(t)).toBe(false);
    expect(t.structuredContent).toMatchObject({ kind: 'ok', exitCode: 0, lines: ['Tests: 1/1 files passed'] });
    expect(t.structuredContent!.output).toMatch(/ran test\/a\.test\.sh\nto-stderr\n$/);
    commit(clone, { 'src/x.ts': 'x\n' });
    const p = await c.call('push', { args: ['origin', 'HEAD:main'] });
    expect(p.isError, text(p)).toBe(false);
    expect(git(upstream, ['show', 'main:src/x.ts']).stdout).toBe('x\n');
    const forced = await c.call('push', { args: ['--force'] });
    expect(forced).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/^ERROR: agent-hooks push never forces/) }], structuredContent: { exitCode: 2 } });
    // Still a working protocol after all that output.
    expect((await c.call('status', {})).isError).toBe(false);
  });

  it('land: queues HEAD (wait false: the queued line; the queue ref is in the bare repo), times out as a tool error (exit 1), and waits for the lander\'s verdict', { timeout: 120_000 }, async () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    const clone = clones['agent-1']!;
    commit(clone, { 'agent-hooks.json': JSON.stringify({ queue: { enabled: true }, test: { command: ['sh', '-c', 'for f in "$@"; do sh "$f" || exit 1; done', 'tests'], files: ['test/*.sh'], sample: 1 } }), 'test/ok.sh': 'exit 0\n' }, 'queue policy');
    expect(push(clone).exitCode).toBe(0);
    git(clone, ['checkout', '--quiet', '-b', 'work']);
    // Hold the lander's pid lock with a live process, so post-receive starts no lander and the entry waits.
    const holder = spawn('sleep', ['600'], { stdio: 'ignore' });
    onTestFinished(() => void holder.kill('SIGKILL'));
    const lock = join(upstream, 'agent-hooks', 'workers', 'lander.lock');
    mkdirSync(lock, { recursive: true });
    writeFileSync(join(lock, 'pid'), String(holder.pid));
    commit(clone, { 'src/a.txt': 'a\n' }, 'change a');
    const head = git(clone, ['rev-parse', 'HEAD']).stdout.trim();
    const c = await connect(clone, 'agent-1');

    const queued = await c.call('land', { wait: false, topic: 'fix-a' });
    expect(queued.isError, text(queued)).toBe(false);
    expect(queued.content[0]!.text).toBe(`queued ${head.slice(0, 10)} as refs/land/agent-1/fix-a`);
    expect(queued.structuredContent).toMatchObject({ kind: 'queued', exitCode: 0, lines: [`queued ${head.slice(0, 10)} as refs/land/agent-1/fix-a`], lost: [] });
    expect(git(upstream, ['rev-parse', 'refs/land/agent-1/fix-a']).stdout.trim()).toBe(head);
    expect(git(upstream, ['log', '--format=%s', 'main']).stdout).not.toMatch(/change a/);

    // No lander: no verdict within the timeout, a tool error with the CLI's line (exit 1).
    const late = await c.call('land', { topic: 'fix-a', timeout: 1 });
    expect(late).toMatchObject({ isError: true, structuredContent: { kind: 'timeout', exitCode: 1 } });
    expect(late.content[0]!.text).toMatch(/^ERROR: land: no verdict for \S+ after 1 s; it stays queued as refs\/land\/agent-1\/fix-a; fix: /);
    const badTopic = await c.call('land', { topic: '../x', wait: false });
    expect(badTopic).toMatchObject({ isError: true, structuredContent: { kind: 'usage', exitCode: 2 } });
    expect(badTopic.content[0]!.text).toMatch(/^ERROR: land: .*; fix: agent-hooks land --topic <name>$/);

    // The lander free again, a new commit lands and the call gets the verdict.
    holder.kill('SIGKILL');
    await waitFor(() => holder.exitCode !== null || holder.signalCode !== null, 10_000);
    commit(clone, { 'src/b.txt': 'b\n' }, 'change b');
    const landed = await c.call('land', { topic: 'fix-a', timeout: 90 });
    expect(landed.isError, text(landed)).toBe(false);
    expect(landed.structuredContent).toMatchObject({ kind: 'landed', exitCode: 0, note: { state: 'landed' } });
    expect(git(upstream, ['log', '--format=%s', 'main']).stdout).toMatch(/change b/);
  });

  it('wrong argument types, a bad task id, an unknown tool, no agent id, not a git repository: errors with a fix, never a crash', { timeout: 60_000 }, async () => {
    const { clones } = sharedRepo(['agent-1']);
    const c = await connect(clones['agent-1']!, 'agent-1');
    const wrongType = await c.call('claim', { task: 42, files: 'src/**' }).catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }) as Result);
    expect(wrongType.isError).toBe(true);
    expect(text(wrongType)).toMatch(/task/);
    const ttl = await c.call('claim', { task: 'parser', ttl: 5 }).catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }) as Result);
    expect(ttl.isError).toBe(true);
    expect(text(ttl)).toMatch(/ttl/);
    const badId = await c.call('claim', { task: '../etc/passwd' });
    expect(badId).toMatchObject({ isError: true, structuredContent: { kind: 'usage', exitCode: 2 } });
    // The CLI's usage error is that line, then the command's help.
    expect(text(badId)).toBe(cli(['claim', '../etc/passwd'], { cwd: clones['agent-1']!, env: { AGENT_ID: 'agent-1' } }).stderr.split('\n')[0]);
    const unknown = await c.call('delete_everything', {}).catch((e: Error) => ({ isError: true, content: [{ type: 'text', text: e.message }] }) as Result);
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/delete_everything/);
    // The server is still there.
    expect((await c.call('status', {})).isError).toBe(false);

    const noAgent = await connect(clones['agent-1']!);
    git(clones['agent-1']!, ['config', 'user.name', 'not an id']);
    expect(await noAgent.call('claim', { task: 'parser' })).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/^ERROR: no agent id; fix: set AGENT_ID/) }] });

    const plain = tempDir();
    const outside = await connect(plain, 'agent-1');
    const r = await outside.call('status', {});
    expect(r).toMatchObject({ isError: true, structuredContent: { exitCode: 2 } });
    expect(text(r)).toBe(`ERROR: ${plain} is not in a git repository; fix: cd into your clone (or worktree) of the shared repository`);
  });

  it('a cancelled call and a client that disconnects mid-call: the call ends (its test processes too), the server keeps answering, then exits, having written nothing but protocol', { timeout: 60_000 }, async () => {
    const { clones } = sharedRepo(['agent-1']);
    const clone = clones['agent-1']!;
    const marks = join(clone, '..', 'marks');
    mkdirSync(marks);
    const started = (n: number) => existsSync(join(marks, `started.${n}`));
    // Each run of the test command marks its start and, 4 s later, its end.
    commit(clone, { 'agent-hooks.json': JSON.stringify({ test: { command: ['sh', 'test/run.sh'], files: ['test/**/*.test.sh'], sample: 1 } }), 'test/run.sh': `n=$(ls ${marks} | grep -c started); touch ${marks}/started.$n; sleep 4; touch ${marks}/done.$n\n`, 'test/a.test.sh': 'true\n' }, 'slow tests');
    expect(push(clone).exitCode).toBe(0);
    git(clone, ['fetch', '--quiet', 'origin']);
    const server = spawn(process.execPath, [CLI, 'mcp'], { cwd: clone, env: fixtureEnv({ AGENT_ID: 'agent-1' }), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    server.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => server.on('exit', (c) => resolve(c)));
    const send = (m: object) => server.stdin.write(`${JSON.stringify(m)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } });
    await waitFor(() => out.includes('"id":1'), 20_000);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'test_fast', arguments: {} } });
    await waitFor(() => started(0), 20_000);
    send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2, reason: 'changed my mind' } });
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'test_fast', arguments: {} } });
    await waitFor(() => started(1), 20_000);
    // The server still answers while the slow call runs (it runs in a child process).
    send({ jsonrpc: '2.0', id: 4, method: 'tools/list' });
    await waitFor(() => out.includes('"id":4'), 20_000);
    server.stdin.end();
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/"id":[23]\b/);
    // Both test commands ended with their calls: neither ever finishes.
    await new Promise((r) => setTimeout(r, 5000));
    expect(readdirSync(marks).sort()).toEqual(['started.0', 'started.1']);
    for (const line of out.split('\n').filter(Boolean)) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
  });
});
