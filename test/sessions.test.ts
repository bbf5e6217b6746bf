// Agent sessions through the built CLI against real bare repos and clones: the run loop (logs,
// backoff, signals, commands that cannot start), the heartbeat (a short-ttl claim kept alive past
// its ttl, lapsing after the loop is SIGKILLed, never taken back), the holder's notice after a
// takeover (status, pre-commit, Claude/Codex hook context, MCP), and the Codex and MCP configs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { parse } from 'smol-toml';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readCommonDirAt } from '../git/claim-memory.js';
import { CLI, cli, cliAsync, commit, fixtureEnv, git, lockText, push, sharedRepo, tempDir, waitFor, writeScript } from './helpers/git.js';

const logsOf = (clone: string, agent: string) => {
  const dir = join(clone, '.git', 'agent-hooks', 'logs', agent);
  return existsSync(dir) ? readdirSync(dir).sort().map((f) => join(dir, f)) : [];
};

/** Starts `agent-hooks run` in the background; its output is collected; it is killed after the test. */
function startRun(cwd: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, 'run', ...args], { cwd, env: fixtureEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, out: () => out, exited };
}

/** Kills a process recorded in a pid file (the command a SIGKILLed loop left behind). */
function killPidFile(path: string): void {
  try {
    process.kill(Number(readFileSync(path, 'utf8').trim()), 'SIGKILL');
  } catch {}
}

describe('agent-hooks run', () => {
  it('a command that fails at once: backoff 1 s, 2 s, visible in one summary line per run, one log per run in the git dir, never in the tree', { timeout: 60_000 }, () => {
    const { clones } = sharedRepo(['agent-1']);
    const clone = clones['agent-1']!;
    const r = cli(['run', '--max-runs', '3', '--no-heartbeat', '--', 'sh', '-c', 'echo "run $AGENT_HOOKS_RUN as $AGENT_ID"; exit 1'], { cwd: clone });
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^agent-hooks run: run 1 exited 1 after \d+\.\d s; log .*\/\.git\/agent-hooks\/logs\/agent-1\/\S+\.log; next run in 1\.0 s$/);
    expect(lines[1]).toMatch(/^agent-hooks run: run 2 exited 1 after .*; next run in 2\.0 s$/);
    expect(lines[2]).toMatch(/^agent-hooks run: run 3 exited 1 after .*; stopping$/);
    const logs = logsOf(clone, 'agent-1');
    expect(logs).toHaveLength(3);
    expect(readFileSync(logs[1]!, 'utf8')).toMatch(/^# agent-hooks run 2 of agent agent-1 at \S+: \["sh","-c",.*\]\nrun 2 as agent-1\n# exit 1 after \d+ ms\n$/);
    expect(git(clone, ['status', '--porcelain', '--ignored']).stdout).toBe('');
  });

  it('a command that is not found or not executable: exit 2 with a fix after one try, no loop', { timeout: 60_000 }, () => {
    const { clones } = sharedRepo(['agent-1']);
    const clone = clones['agent-1']!;
    const missing = cli(['run', '--no-heartbeat', '--', 'no-such-agent-command-xyz', '--flag'], { cwd: clone });
    expect(missing).toMatchObject({ exitCode: 2, stdout: '' });
    expect(missing.stderr).toBe('ERROR: run: "no-such-agent-command-xyz": command not found (not on PATH, or no such file); fix: give an executable after --, e.g. agent-hooks run -- ./agent.sh\n');
    writeFileSync(join(clone, 'agent.sh'), 'echo hi\n');
    const notExecutable = cli(['run', '--no-heartbeat', '--', './agent.sh'], { cwd: clone });
    expect(notExecutable).toMatchObject({ exitCode: 2, stderr: 'ERROR: run: "./agent.sh" is not executable; fix: chmod +x ./agent.sh, or agent-hooks run -- sh ./agent.sh\n' });
    expect(logsOf(clone, 'agent-1')).toHaveLength(2);
    // A usage error: its line, then the command's help.
    const none = cli(['run', '--no-heartbeat'], { cwd: clone });
    expect(none.exitCode).toBe(2);
    expect(none.stderr.split('\n')[0]).toBe('ERROR: run: no command to run; fix: agent-hooks run -- <command...>');
    expect(cli(['run', '--agent', 'bad id', '--', 'true'], { cwd: clone })).toMatchObject({ exitCode: 2, stderr: expect.stringMatching(/^ERROR: run: "bad id" is not an agent id; fix: /) });
  });

  it("SIGTERM is passed to the command's process group and the loop stops; a second signal kills the group", { timeout: 60_000 }, async () => {
    const { clones } = sharedRepo(['agent-1']);
    const clone = clones['agent-1']!;
    // The grandchild (sleep) must get the signal too: it is in the command's process group.
    const sleepPid = join(clone, '..', 'sleep.pid');
    writeScript(join(clone, '..', 'polite.sh'), `#!/bin/sh\ntrap 'echo "got TERM"; exit 7' TERM\nsleep 30 & echo $! > ${sleepPid}\necho started\nwait\n`);
    onTestFinished(() => killPidFile(sleepPid));
    const polite = startRun(clone, ['--no-heartbeat', '--', join(clone, '..', 'polite.sh')]);
    await waitFor(() => logsOf(clone, 'agent-1').some((l) => readFileSync(l, 'utf8').includes('started')), 20_000);
    polite.child.kill('SIGTERM');
    expect(await polite.exited).toBe(7);
    expect(polite.out()).toMatch(/^agent-hooks run: SIGTERM: passed to the command; a second signal kills it\nagent-hooks run: run 1 exited 7 after .*; stopping\n$/);
    expect(readFileSync(logsOf(clone, 'agent-1')[0]!, 'utf8')).toMatch(/started\ngot TERM\n# exit 7/);
    // The grandchild got the signal too (the whole group), without the script passing it on.
    await waitFor(() => {
      try {
        process.kill(Number(readFileSync(sleepPid, 'utf8')), 0);
        return false;
      } catch {
        return true;
      }
    }, 5000);

    writeScript(join(clone, '..', 'stubborn.sh'), `#!/bin/sh\ntrap '' TERM INT\necho $$ > ${join(clone, '..', 'stubborn.pid')}\necho started\nsleep 30\n`);
    const stubborn = startRun(clone, ['--no-heartbeat', '--agent', 'agent-9', '--', join(clone, '..', 'stubborn.sh')]);
    onTestFinished(() => killPidFile(join(clone, '..', 'stubborn.pid')));
    await waitFor(() => logsOf(clone, 'agent-9').some((l) => readFileSync(l, 'utf8').includes('started')), 20_000);
    stubborn.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 500));
    expect(stubborn.child.exitCode).toBeNull();
    stubborn.child.kill('SIGINT');
    expect(await stubborn.exited).toBe(137);
    expect(stubborn.out()).toMatch(/SIGINT again: killing the command\nagent-hooks run: run 1 was killed by SIGKILL after .*; stopping\n$/);
    const pid = Number(readFileSync(join(clone, '..', 'stubborn.pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('heartbeat', () => {
  it('keeps a 60 s claim alive past its ttl while the loop runs; after SIGKILL of the loop it lapses, another agent takes it over, the holder is told everywhere, and the heartbeat never takes it back', { timeout: 240_000 }, async () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    expect(cli(['install', a]).exitCode).toBe(0);
    // agent-1's claim started 50 s ago with the shortest ttl: without a heartbeat it ends in 10 s.
    const started = Date.now() - 50_000;
    commit(a, { 'current_tasks/parser.txt': lockText('agent-1', { started, ttl: 60, files: ['src/parser/**'] }) }, 'claim parser');
    expect(push(a).exitCode).toBe(0);
    const pidFile = join(a, '..', 'agent.pid');
    onTestFinished(() => killPidFile(pidFile));
    // --every 2: renew every 2 s instead of ttl/3 = 20 s, so the test does not wait for minutes.
    const loop = startRun(a, ['--every', '2', '--', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 600`]);
    await waitFor(() => Date.now() > started + 66_000, 30_000);
    // Past started + ttl: still agent-1's, and agent-2 cannot take it.
    const lockNow = git(upstream, ['show', 'main:current_tasks/parser.txt']).stdout;
    expect(lockNow).toMatch(/^agent: agent-1\n/);
    expect(lockNow).toMatch(/\nrenewed: /);
    const held = cli(['claim', 'parser'], { cwd: b });
    expect(held.exitCode, held.stderr).toBe(3);
    expect(loop.out()).toMatch(/agent-hooks heartbeat: renewed parser until /);
    // One commit per renewal, lock files only.
    const subjects = git(upstream, ['log', '--format=%s', 'main']).stdout.split('\n');
    expect(subjects.filter((s) => s === 'heartbeat: renew parser').length).toBeGreaterThanOrEqual(3);

    loop.child.kill('SIGKILL');
    await loop.exited;
    // A renewal already in flight (each tick is its own `heartbeat --once` process) may still land:
    // the claim lapses one ttl after the last renewal that did.
    const ticksIn = (dir: string) =>
      readdirSync('/proc').filter((p) => /^\d+$/.test(p)).some((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('heartbeat\0--once') && realpathSync(`/proc/${p}/cwd`) === realpathSync(dir);
        } catch {
          return false;
        }
      });
    await waitFor(() => !ticksIn(a), 60_000);
    const tip = git(upstream, ['rev-parse', 'main']).stdout;
    const renewed = Date.parse(/\nrenewed: (\S+)\n/.exec(git(upstream, ['show', 'main:current_tasks/parser.txt']).stdout)![1]!);
    await waitFor(() => Date.now() > renewed + 61_000, 90_000);
    // Nothing renewed it after the loop died.
    expect(git(upstream, ['rev-parse', 'main']).stdout).toBe(tip);
    const takeover = cli(['claim', 'parser', '--files', 'src/parser/**'], { cwd: b });
    expect(takeover.exitCode, takeover.stderr).toBe(0);

    // The holder is told: status (exit 1), pre-commit, the Claude/Codex hooks, MCP answers.
    const notice = new RegExp(`^WARNING: your claim parser expired at ${new Date(renewed + 60_000).toISOString().slice(0, 17)}\\d\\dZ; now held by agent-2 until \\S+; fix: stop changing its files; agent-hooks release parser forgets it$`, 'm');
    const status = cli(['status'], { cwd: a });
    expect(status.exitCode).toBe(1);
    expect(status.stderr).toMatch(notice);
    expect(status.stdout).toMatch(/^ {2}parser {2}agent-2 {2}until /m);
    // status --json: the same notice on stderr, and the lost claim in the JSON (stdout stays JSON).
    const asJson = cli(['status', '--json'], { cwd: a });
    expect(asJson.exitCode).toBe(1);
    expect(asJson.stderr).toMatch(notice);
    expect(JSON.parse(asJson.stdout).lost).toEqual([{ task: 'parser', kind: 'taken', expiredAt: expect.stringMatching(new RegExp(`^${new Date(renewed + 60_000).toISOString().slice(0, 17)}\\d\\dZ$`)), heldBy: 'agent-2', heldUntil: expect.stringMatching(/Z$/) }]);
    writeFileSync(join(a, 'notes.txt'), 'x\n');
    git(a, ['add', 'notes.txt']);
    const preCommit = git(a, ['commit', '-m', 'notes'], { allowFail: true });
    expect(preCommit.exitCode).toBe(0);
    expect(preCommit.stderr).toMatch(notice);
    expect(cli(['claude', 'user-prompt-submit'], { cwd: a }).stdout).toMatch(notice);
    expect(cli(['claude', 'session-start'], { cwd: a }).stdout).toMatch(notice);
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], cwd: a, env: fixtureEnv() as Record<string, string>, stderr: 'pipe' });
    const client = new Client({ name: 't', version: '0' });
    await client.connect(transport);
    onTestFinished(() => client.close());
    const answer = (await client.callTool({ name: "check_paths", arguments: { paths: ["src/parser/x.ts"] } })) as unknown as { content: { text: string }[]; structuredContent: { lost: unknown[] } };
    expect(answer.structuredContent.lost).toEqual([expect.objectContaining({ taskId: 'parser', kind: 'taken', holder: 'agent-2' })]);
    expect(answer.content[1]!.text).toMatch(notice);

    // A heartbeat (forced) does not steal it back.
    const beat = cli(['heartbeat', '--once', '--force', '--json'], { cwd: a });
    expect(beat.exitCode).toBe(1);
    expect(JSON.parse(beat.stdout)).toMatchObject({ kind: 'idle', renewed: [], lost: [{ taskId: 'parser', kind: 'taken', holder: 'agent-2' }] });
    expect(git(upstream, ['show', 'main:current_tasks/parser.txt']).stdout).toMatch(/^agent: agent-2\n/);
    // Releasing acknowledges the loss: the notice stops.
    expect(cli(['release', 'parser'], { cwd: a }).exitCode).toBe(3);
    expect(cli(['status'], { cwd: a })).toMatchObject({ exitCode: 0, stderr: '' });
    expect(JSON.parse(cli(['status', '--json'], { cwd: a }).stdout).lost).toEqual([]);
  });

  it('offline: a tick warns and the loop keeps running; the heartbeat alone says so with exit 1', { timeout: 60_000 }, async () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    expect(cli(['claim', 'parser', '--ttl', '60'], { cwd: a }).exitCode).toBe(0);
    git(a, ['remote', 'set-url', 'origin', join(a, '..', 'gone.git')]);
    const once = cli(['heartbeat', '--once', '--force', '--json'], { cwd: a });
    expect(once.exitCode).toBe(1);
    expect(JSON.parse(once.stdout)).toMatchObject({ kind: 'offline', lines: [expect.stringMatching(/^WARNING: heartbeat: could not reach the claims ref \(git fetch .* failed/)] });
    const r = await cliAsync(['run', '--every', '1', '--max-runs', '1', '--', 'sleep', '4'], { cwd: a });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^WARNING: heartbeat: could not reach the claims ref/m);
    expect(r.stdout).toMatch(/agent-hooks run: run 1 exited 0 after 4\.\d s; .*; stopping\n$/);
  });
});

describe('claim memory', () => {
  it('finds the git-common-dir from .git without starting git, in a clone and in a linked worktree (where the notices of pre-commit are kept)', () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    git(a, ['worktree', 'add', '--quiet', join(a, '..', 'wt'), '-b', 'wt']);
    const expected = realpathSync(join(a, '.git'));
    expect(realpathSync(readCommonDirAt(a, { cwd: a }))).toBe(expected);
    expect(realpathSync(readCommonDirAt(join(a, '..', 'wt'), { cwd: join(a, '..', 'wt') }))).toBe(expected);
    // Not the top level: git answers.
    mkdirSync(join(a, 'sub'));
    expect(realpathSync(readCommonDirAt(join(a, 'sub'), { cwd: join(a, 'sub'), env: fixtureEnv() }))).toBe(expected);
  });
});

describe('agent tool configs', () => {
  it('claude install keeps the other MCP servers in .mcp.json and is idempotent; the server it registers answers', { timeout: 60_000 }, async () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    writeFileSync(join(a, '.mcp.json'), JSON.stringify({ mcpServers: { other: { command: 'other-server', args: ['--x'] } }, extra: true }));
    expect(cli(['claude', 'install'], { cwd: a }).exitCode).toBe(0);
    const config = JSON.parse(readFileSync(join(a, '.mcp.json'), 'utf8'));
    expect(config.extra).toBe(true);
    expect(config.mcpServers.other).toEqual({ command: 'other-server', args: ['--x'] });
    expect(config.mcpServers['agent-hooks']).toEqual({ type: 'stdio', command: process.execPath, args: [expect.stringMatching(/\/\.git\/agent-hooks-claude\/0\.1\.0\/mcp\.mjs$/)] });
    const before = readFileSync(join(a, '.mcp.json'), 'utf8');
    expect(cli(['claude', 'install'], { cwd: a }).stdout).toMatch(/\.mcp\.json already has the agent-hooks MCP server; nothing changed\n$/);
    expect(readFileSync(join(a, '.mcp.json'), 'utf8')).toBe(before);
    const settings = JSON.parse(readFileSync(join(a, '.claude', 'settings.json'), 'utf8'));
    expect(settings.hooks.UserPromptSubmit[0].hooks[0].command).toMatch(/cli\.mjs' claude user-prompt-submit$/);
    // The registered command starts a working server (from the copy, not from dist/).
    const server = config.mcpServers['agent-hooks'];
    const client = new Client({ name: 't', version: '0' });
    await client.connect(new StdioClientTransport({ command: server.command, args: server.args, cwd: a, env: fixtureEnv() as Record<string, string>, stderr: 'pipe' }));
    onTestFinished(() => client.close());
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['check_paths', 'claim', 'land', 'push', 'release', 'renew', 'status', 'test_fast']);
  });

  it('codex install writes [mcp_servers.agent-hooks] and hooks into .codex/config.toml, keeps what was there, is idempotent; its PreToolUse denies an apply_patch to a leased path', { timeout: 60_000 }, () => {
    const { clones } = sharedRepo(['agent-1', 'agent-2']);
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    expect(cli(['claim', 'parser', '--files', 'src/parser/**'], { cwd: a }).exitCode).toBe(0);
    git(b, ['fetch', '--quiet', 'origin']);
    mkdirSync(join(b, '.codex'));
    const path = join(b, '.codex', 'config.toml');
    writeFileSync(path, 'model = "o4"\n\n[mcp_servers.docs]\ncommand = "docs-server"\nargs = ["--port", "1"]\n\n[[hooks.PreToolUse]]\nmatcher = "Bash"\n[[hooks.PreToolUse.hooks]]\ntype = "command"\ncommand = "my-guard"\n');
    const first = cli(['codex', 'install'], { cwd: b });
    expect(first).toMatchObject({ exitCode: 0, stdout: `wrote the MCP server agent-hooks and the PreToolUse, SessionStart and UserPromptSubmit hooks into ${path}\n` });
    const config = parse(readFileSync(path, 'utf8')) as any;
    expect(config.model).toBe('o4');
    expect(config.mcp_servers.docs).toEqual({ command: 'docs-server', args: ['--port', '1'] });
    expect(config.mcp_servers['agent-hooks']).toEqual({ command: process.execPath, args: [expect.stringMatching(/\/agent-hooks-claude\/0\.1\.0\/mcp\.mjs$/)] });
    expect(config.hooks.PreToolUse).toHaveLength(2);
    expect(config.hooks.PreToolUse[0]).toEqual({ matcher: 'Bash', hooks: [{ type: 'command', command: 'my-guard' }] });
    expect(config.hooks.PreToolUse[1]).toMatchObject({ matcher: 'apply_patch|Write|Edit|MultiEdit|NotebookEdit', hooks: [{ type: 'command', timeout: 10 }] });
    const before = readFileSync(path, 'utf8');
    expect(cli(['codex', 'install'], { cwd: b }).stdout).toBe(`${path} already has the agent-hooks MCP server and hooks; nothing changed\n`);
    expect(readFileSync(path, 'utf8')).toBe(before);

    // Codex runs the command through a shell with its PreToolUse JSON on stdin.
    const command = config.hooks.PreToolUse[1].hooks[0].command as string;
    const event = (patch: string) => JSON.stringify({ session_id: 's', hook_event_name: 'PreToolUse', tool_name: 'apply_patch', tool_input: { command: patch }, cwd: b });
    const denied = spawnSync('sh', ['-c', command], { input: event('*** Begin Patch\n*** Update File: README.md\n@@\n-a\n+b\n*** Add File: src/parser/new.ts\n+x\n*** End Patch\n'), encoding: 'utf8', env: fixtureEnv() });
    expect(denied.status).toBe(2);
    expect(JSON.parse(denied.stdout)).toMatchObject({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: expect.stringMatching(/^src\/parser\/new\.ts is leased by agent-1 \(task parser/) } });
    // Ways around it: a leased path spelled with ./ and .., absolute, as the target of a move, or after an allowed file.
    for (const sneaky of ['*** Update File: ./docs/../src/parser/x.ts\n', `*** Add File: ${join(b, 'src', 'parser', 'abs.ts')}\n+x\n`, '*** Update File: README.md\n*** Move to: src/parser/moved.ts\n', '*** Delete File: src/parser/old.ts\r\n']) {
      const r = spawnSync('sh', ['-c', command], { input: event(`*** Begin Patch\n${sneaky}*** End Patch\n`), encoding: 'utf8', env: fixtureEnv() });
      expect(r.status, sneaky).toBe(2);
    }
    const allowed = spawnSync('sh', ['-c', command], { input: event('*** Begin Patch\n*** Update File: README.md\n@@\n-a\n+b\n*** End Patch\n'), encoding: 'utf8', env: fixtureEnv() });
    expect(allowed).toMatchObject({ status: 0, stdout: '', stderr: '' });
    // Broken TOML is not overwritten.
    const broken = tempDir();
    git(broken, ['init', '--quiet']);
    mkdirSync(join(broken, '.codex'));
    writeFileSync(join(broken, '.codex', 'config.toml'), 'model = \n');
    const r = cli(['codex', 'install', '--dir', broken], { cwd: broken });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/config\.toml is not valid TOML .*; fix it by hand, then run again/);
    expect(readFileSync(join(broken, '.codex', 'config.toml'), 'utf8')).toBe('model = \n');
  });
});
