// Real git fixtures for tests: temp bare repos with agent-hooks installed through the built CLI,
// real clones, real pushes. Nothing is mocked. Temp dirs are removed after each test.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { onTestFinished } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.mjs');

/** The environment for fixture git commands: no inherited GIT_*, no user config, no signing. */
export function fixtureEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
  return { ...env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...extra };
}

/** A result of a command: exit code and output as text. */
export interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs git synchronously in `cwd`; throws when the exit code is not 0 unless `allowFail`. */
export function git(cwd: string, args: string[], options: { allowFail?: boolean; env?: Record<string, string>; input?: string } = {}): Run {
  const r = spawnSync('git', args, { cwd, env: fixtureEnv(options.env), encoding: 'utf8', input: options.input });
  const run = { exitCode: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  if (run.exitCode !== 0 && !options.allowFail) throw new Error(`git ${args.join(' ')} in ${cwd} failed (${run.exitCode}): ${run.stderr}`);
  return run;
}

/** Runs the built `agent-hooks` CLI. */
export function cli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env: fixtureEnv(options.env), encoding: 'utf8' });
  return { exitCode: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Ends the processes still working in `dir` once its test is over: detached workers a push
 * started (the lander, the red-test bisector, the Slack sender: each names its bare repo in its
 * arguments) and what they run. They write into the repo until they end, so removing it under
 * them fails with ENOTEMPTY.
 */
function stopProcessesIn(dir: string): void {
  const list = () =>
    spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && m[2]!.includes(dir) && Number(m[1]) !== process.pid)
      .map((m) => Number(m[1]));
  for (const pid of list()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const end = Date.now() + 5000;
  while (list().length > 0 && Date.now() < end) spawnSync('sleep', ['0.05']);
}

/** A temp dir removed when the current test finishes (after the processes still working in it). */
export function tempDir(prefix = 'agent-hooks-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  // Retries: a process that just ended may have left its last write in flight.
  onTestFinished(() => {
    stopProcessesIn(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });
  return dir;
}

/** A bare repo with agent-hooks installed (unless `install: false`), in a fresh temp dir. */
export function makeUpstream(options: { install?: boolean; objectFormat?: 'sha1' | 'sha256' } = {}): string {
  const dir = tempDir();
  const upstream = join(dir, 'upstream.git');
  git(dir, ['init', '--quiet', '--bare', '--initial-branch=main', `--object-format=${options.objectFormat ?? 'sha1'}`, upstream]);
  git(upstream, ['config', 'gc.auto', '0']);
  if (options.install !== false) {
    const r = cli(['install', upstream]);
    if (r.exitCode !== 0) throw new Error(`install failed: ${r.stderr}`);
  }
  return upstream;
}

/** A clone of `upstream` working as `agent` (user.name is the agent id), next to it. */
export function cloneAs(upstream: string, agent: string): string {
  const dir = join(dirname(upstream), agent);
  const objectFormat = git(upstream, ['rev-parse', '--show-object-format']).stdout.trim();
  if (objectFormat === 'sha1') git(dirname(upstream), ['clone', '--quiet', upstream, dir]);
  else {
    // git 2.39 does not carry the object format over when cloning an empty repository.
    git(dirname(upstream), ['init', '--quiet', `--object-format=${objectFormat}`, '--initial-branch=main', dir]);
    git(dir, ['remote', 'add', 'origin', upstream]);
    git(dir, ['fetch', '--quiet', 'origin']);
    if (git(dir, ['rev-parse', '-q', '--verify', 'origin/main'], { allowFail: true }).exitCode === 0) git(dir, ['reset', '--quiet', '--hard', 'origin/main']);
  }
  for (const [key, value] of [['user.name', agent], ['user.email', `${agent}@example.com`], ['commit.gpgSign', 'false'], ['gc.auto', '0']] as const) {
    git(dir, ['config', key, value]);
  }
  return dir;
}

/** A file change for {@link commit}: text, bytes, null to delete, or a symlink target. */
export type FileChange = string | Buffer | null | { symlink: string };

/** Writes, deletes or links files in a clone and commits them all (`git add -A`). */
export function commit(clone: string, files: Record<string, FileChange>, message = 'change'): string {
  for (const [path, content] of Object.entries(files)) {
    const full = join(clone, path);
    rmSync(full, { force: true });
    if (content === null) continue;
    mkdirSync(dirname(full), { recursive: true });
    if (typeof content === 'object' && 'symlink' in content) symlinkSync(content.symlink, full);
    else writeFileSync(full, content);
  }
  git(clone, ['add', '-A']);
  git(clone, ['commit', '--quiet', '--allow-empty', '-m', message]);
  return git(clone, ['rev-parse', 'HEAD']).stdout.trim();
}

/** The result of a push, with the hook's `ERROR:` and `WARNING:` lines picked out. */
export interface Push extends Run {
  errors: string[];
  warnings: string[];
}

const linesOf = (stderr: string, kind: string) =>
  stderr.split('\n').filter((l) => l.startsWith(`remote: ${kind}: `)).map((l) => l.replace(/^remote: /, '').trimEnd());

function toPush(run: Run): Push {
  return { ...run, errors: linesOf(run.stderr, 'ERROR'), warnings: linesOf(run.stderr, 'WARNING') };
}

/** `git push <args>` from a clone (default `origin HEAD:main`). */
export function push(clone: string, args: string[] = ['origin', 'HEAD:main'], env: Record<string, string> = {}): Push {
  return toPush(git(clone, ['push', ...args], { allowFail: true, env }));
}

/** The same push, without blocking, for pushes that must race. */
export function pushAsync(clone: string, args: string[] = ['origin', 'HEAD:main']): Promise<Push> {
  return new Promise((done) => {
    const child = spawn('git', ['push', ...args], { cwd: clone, env: fixtureEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done(toPush({ exitCode: code ?? -1, stdout, stderr })));
  });
}

/** RFC 3339 UTC, to the second. */
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A lock file in the text format. */
export function lockText(agent: string, options: { started?: number; ttl?: number; files?: string[]; description?: string } = {}): string {
  const lines = [`agent: ${agent}`, `started: ${iso(options.started ?? Date.now())}`];
  if (options.description) lines.push(`description: ${options.description}`);
  if (options.files) lines.push(`files: ${options.files.join(', ')}`);
  if (options.ttl) lines.push(`ttl: ${options.ttl}`);
  return `${lines.join('\n')}\n`;
}

/** Every ref of a repo with its oid (`git for-each-ref`), to show a rejected push changed nothing. */
export function refsOf(repo: string): string {
  return git(repo, ['for-each-ref', '--format=%(objectname) %(refname)']).stdout;
}

/** A bare repo with one initial commit on main, installed, and a clone per agent. */
export function sharedRepo(agents: string[], options: { objectFormat?: 'sha1' | 'sha256' } = {}): { upstream: string; clones: Record<string, string> } {
  const upstream = makeUpstream(options);
  const clones: Record<string, string> = {};
  const [first, ...rest] = agents;
  clones[first!] = cloneAs(upstream, first!);
  commit(clones[first!]!, { 'README.md': '# project\n', 'current_tasks/.gitkeep': '' }, 'start');
  const r = push(clones[first!]!);
  if (r.exitCode !== 0) throw new Error(`initial push failed: ${r.stderr}`);
  for (const agent of rest) clones[agent] = cloneAs(upstream, agent);
  return { upstream, clones };
}

/** Fetches and hard-resets a clone to origin/main. */
export function sync(clone: string): void {
  git(clone, ['fetch', '--quiet', 'origin']);
  git(clone, ['reset', '--quiet', '--hard', 'origin/main']);
}

/** Writes an executable script. */
export function writeScript(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  try {
    unlinkSync(path);
  } catch {}
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

/** Runs the built CLI without blocking, for commands that must race. */
export function cliAsync(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: fixtureEnv(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ exitCode: code ?? -1, stdout, stderr }));
  });
}

/** Waits until no detached Slack sender is running for this bare repo (it writes into the repo until it ends). */
export async function sendersDone(upstream: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
    if (!ps.split('\n').some((l) => l.includes('notify-sender.mjs') && l.includes(upstream))) return;
    if (Date.now() > end) throw new Error(`a Slack sender for ${upstream} is still running after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `what` every 50 ms until it holds; throws after `ms`. */
export async function waitFor(what: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
