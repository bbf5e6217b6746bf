// The Claude Code adapter fed real hook JSON, in a real clone with a real lease.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, fixtureEnv, ROOT, sharedRepo, tempDir } from './helpers/git.js';

const ADAPTER = join(ROOT, 'dist', 'claude-pre-tool-use.mjs');
const run = (input: string, env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [ADAPTER], { input, encoding: 'utf8', env: fixtureEnv(env) });
  return { exitCode: r.status, stdout: r.stdout, stderr: r.stderr };
};
const event = (tool: string, filePath: string, cwd: string) => JSON.stringify({ session_id: 's', hook_event_name: 'PreToolUse', tool_name: tool, tool_input: { file_path: filePath, content: 'x' }, cwd });

function leasedClone() {
  const { clones } = sharedRepo(['agent-1', 'agent-2']);
  expect(cli(['claim', 'parser', '--files', 'src/parser/**'], { cwd: clones['agent-1']! }).exitCode).toBe(0);
  const b = clones['agent-2']!;
  expect(cli(['status'], { cwd: b }).exitCode).toBe(0); // fetches the claims
  return { a: clones['agent-1']!, b };
}

describe('claude pre-tool-use', () => {
  it('denies an edit of a path leased by another agent: exit 2, the reason on stderr, the deny JSON on stdout', () => {
    const { a, b } = leasedClone();
    for (const [tool, path] of [['Write', join(b, 'src/parser/new.ts')], ['Edit', 'src/parser/a.ts'], ['MultiEdit', './src/parser/../parser/b.ts']] as const) {
      const r = run(event(tool, path, b));
      expect(r.exitCode, tool).toBe(2);
      const reason = expect.stringMatching(/^src\/parser\/\S+ is leased by agent-1 \(task parser, glob src\/parser\/\*\*\) until \S+; do not edit it/);
      expect(JSON.parse(r.stdout)).toEqual({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: reason } });
      expect(r.stderr.trim()).toEqual(reason);
    }
    // The adapter caches the claims by the oid of the claims ref: a release seen by a fetch counts.
    expect(cli(['release', 'parser'], { cwd: a }).exitCode).toBe(0);
    expect(cli(['status'], { cwd: b }).exitCode).toBe(0);
    expect(run(event('Edit', 'src/parser/a.ts', b))).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('allows silently: other paths, the holder, other tools, paths outside the repository', () => {
    const { a, b } = leasedClone();
    expect(run(event('Write', 'src/lexer/x.ts', b))).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(run(event('Edit', 'src/parser/a.ts', a))).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(run(JSON.stringify({ tool_name: 'Bash', tool_input: { command: 'rm -rf src/parser' }, cwd: b }))).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(run(event('Write', '/etc/hosts', b))).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(run(event('Write', join(tempDir(), 'x.ts'), tempDir()))).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('allows with a warning on malformed input', () => {
    expect(run('{not json')).toMatchObject({ exitCode: 0, stdout: '', stderr: expect.stringMatching(/^agent-hooks: WARNING: the PreToolUse input is not JSON .*; allowing the edit\n$/) });
    expect(run('')).toMatchObject({ exitCode: 0, stderr: expect.stringContaining('not JSON') });
    expect(run(JSON.stringify({ tool_name: 'Write', tool_input: {} }))).toMatchObject({ exitCode: 0, stderr: 'agent-hooks: WARNING: Write input has no file_path; allowing the edit\n' });
    expect(run('42')).toMatchObject({ exitCode: 0, stderr: expect.stringContaining('not a JSON object') });
  });

  it('session-start lists the agent\'s claims and the others\' leases', () => {
    const { a, b } = leasedClone();
    expect(cli(['claude', 'session-start'], { cwd: b }).stdout).toMatch(/You hold no claims\..*\nLeased by other agents .*:\n- parser \(agent-1, until \S+\): src\/parser\/\*\*\n$/s);
    expect(cli(['claude', 'session-start'], { cwd: b }).stdout).toMatch(/^agent-hooks: you are agent-2; claims as of refs\/heads\/main, \S+Z\./);
    expect(cli(['claude', 'session-start'], { cwd: a }).stdout).toMatch(/Your claims and leases:\n- parser \(agent-1, until \S+\): src\/parser\/\*\*\nNo other agent holds a lease\.\n$/);
  });
});

describe('claude install', () => {
  it('merges its hooks into .claude/settings.json, keeps the rest, and is idempotent', () => {
    const { b } = leasedClone();
    const settings = join(b, '.claude', 'settings.json');
    mkdirSync(join(b, '.claude'));
    const mine = { permissions: { allow: ['Bash(npm test)'] }, hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'my-guard' }] }], Stop: [{ hooks: [{ type: 'command', command: 'notify' }] }] } };
    writeFileSync(settings, JSON.stringify(mine));
    expect(cli(['claude', 'install'], { cwd: b })).toMatchObject({ exitCode: 0, stdout: `wrote the PreToolUse, SessionStart and UserPromptSubmit hooks into ${settings}\nregistered the MCP server agent-hooks in ${join(b, '.mcp.json')}\n` });
    const merged = JSON.parse(readFileSync(settings, 'utf8'));
    expect(merged.permissions).toEqual(mine.permissions);
    expect(merged.hooks.Stop).toEqual(mine.hooks.Stop);
    expect(merged.hooks.PreToolUse).toHaveLength(2);
    expect(merged.hooks.PreToolUse[0]).toEqual(mine.hooks.PreToolUse[0]);
    expect(merged.hooks.PreToolUse[1]).toMatchObject({ matcher: 'Write|Edit|MultiEdit|NotebookEdit', hooks: [{ type: 'command', command: expect.stringMatching(/agent-hooks-claude\/0\.1\.0\/claude-pre-tool-use\.mjs'$/) }] });
    expect(merged.hooks.SessionStart).toHaveLength(1);
    const before = readFileSync(settings, 'utf8');
    expect(cli(['claude', 'install'], { cwd: b }).stdout).toMatch(/already has the agent-hooks hooks; nothing changed/);
    expect(readFileSync(settings, 'utf8')).toBe(before);

    // The installed command works as Claude Code would run it (through a shell).
    const command = merged.hooks.PreToolUse[1].hooks[0].command as string;
    const r = spawnSync('sh', ['-c', command], { input: event('Write', 'src/parser/z.ts', b), encoding: 'utf8', env: fixtureEnv() });
    expect(r.status).toBe(2);
  });
});
