// The sandbox for pushed code (DESIGN.md "Fast test sampling", issue 13 items 6, 7, 10): setup and
// tests are code from the pusher, so they run under bubblewrap (bwrap) where they cannot see the
// bare repo, its config, the hook's environment or other processes. One runner for pre-receive,
// `agent-hooks test --fast` and the lander: {@link runIsolated}.
//
// Inside the sandbox:
//   /work                 the materialized work tree, bound read-write: the only writable place
//   /tmp                  a private tmpfs, gone with the sandbox (also HOME and TMPDIR)
//   /usr /etc/<allowed>   read-only system files; /bin, /lib* as the host's symlinks or binds
//   <node>/bin, <node>/lib/node_modules   read-only, when node is not under /usr
//   /proc /dev            a fresh procfs of the sandbox's own pid namespace; a minimal /dev
// Not there: the bare repo and its state dir (masked with an empty tmpfs if a bound dir holds
// them), /home, /root, /run, /var, /etc/gitconfig and /etc/shadow; a system gitconfig of a git
// built under /usr/local reads as empty (/dev/null over it). Namespaces: all unshared
// (user, pid, ipc, uts, cgroup, net); the network comes back for setup when the policy allows
// (`test.setupNetwork`, default true) and for tests only when `test.network` is true.
// A fresh pid namespace whose init dies with bwrap (--die-with-parent): when the command exits or
// the hard timeout SIGKILLs bwrap, every process the test started dies with it.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, fstatSync, lstatSync, mkdtempSync, openSync, readlinkSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { formatTime } from '../core/text.js';
import { readConfig, type GitOptions } from '../git/git.js';

/** `git config agenthooks.testSandbox`: `required` refuses to test without bwrap, `auto` (default) falls back with a WARNING, `off` never sandboxes. */
export type SandboxMode = 'required' | 'auto' | 'off';
export const SANDBOX_MODES: readonly SandboxMode[] = ['required', 'auto', 'off'];

/** Where the work tree appears inside the sandbox. Nothing above it leads anywhere. */
export const SANDBOX_WORK_DIR = '/work';

/** A log file is cut at this size (bytes); the run goes on, the tail is still kept. */
export const MAX_LOG_BYTES = 8 * 1024 * 1024;
/** After the command exits (or is killed), how long to keep reading output that a stray process still holds open, in ms. */
export const DRAIN_MS = 1000;

/**
 * Parses `agenthooks.testSandbox` (missing: `auto`). Pure.
 * @returns the mode, or a problem naming the valid values.
 */
export function parseSandboxMode(value: string | undefined): { mode: SandboxMode } | { problem: string } {
  if (value === undefined) return { mode: 'auto' };
  const v = value.trim().toLowerCase();
  return (SANDBOX_MODES as readonly string[]).includes(v) ? { mode: v as SandboxMode } : { problem: `agenthooks.testSandbox is ${JSON.stringify(value)}; it must be one of ${SANDBOX_MODES.join(', ')}` };
}

/**
 * Reads `git config agenthooks.testSandbox` of the repository `git` points at (a bare repo for
 * pre-receive and the lander; a clone for `test --fast`, which passes `off` as the default).
 */
export function readSandboxMode(git: GitOptions, fallback: SandboxMode = 'auto'): { mode: SandboxMode } | { problem: string } {
  return parseSandboxMode(readConfig('^agenthooks\\.testsandbox$', git).get('agenthooks.testsandbox')?.at(-1) ?? fallback);
}

/** System files a build needs from /etc; everything else there (gitconfig, shadow, ssh keys...) stays out. */
export const ETC_ALLOWED = [
  'alternatives', 'ca-certificates', 'ca-certificates.conf', 'debian_version', 'group', 'host.conf', 'hostname', 'hosts',
  'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime', 'mime.types', 'nsswitch.conf', 'os-release', 'passwd',
  'protocols', 'resolv.conf', 'services', 'ssl', 'timezone',
] as const;

/** Where a git built with another prefix keeps its system config (`git config --system`). */
const SYSTEM_GITCONFIGS = ['/usr/local/etc/gitconfig', '/usr/etc/gitconfig'] as const;

/** Top-level dirs bound read-only when they are real dirs, recreated as symlinks when they are symlinks (merged /usr). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;

/** What a path is on the host, for {@link bwrapArgv}: `missing`, a `dir`/`file`, or a symlink with its target. */
export type HostPath = { kind: 'missing' } | { kind: 'dir' | 'file' } | { kind: 'symlink'; target: string };

/** Reads what a path is on the host (lstat, readlink). */
export function readHostPath(path: string): HostPath {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return { kind: 'symlink', target: readlinkSync(path) };
    return { kind: st.isDirectory() ? 'dir' : 'file' };
  } catch {
    return { kind: 'missing' };
  }
}

/** The inputs of {@link bwrapArgv}. Paths absolute. */
export interface SandboxLayout {
  /** The host dir bound read-write at {@link SANDBOX_WORK_DIR}. */
  workDir: string;
  /** Whether the sandbox keeps the host's network (false: only its own loopback). */
  network: boolean;
  /** Paths that must never be visible (the bare repo, its state dir): masked if a bound dir holds them. */
  hide: readonly string[];
  /** `process.execPath`: node's prefix is bound read-only when it is not under /usr. */
  execPath: string;
  /** What a host path is (injected so the argv is a pure function of the host). */
  host: (path: string) => HostPath;
}

const under = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/**
 * The bwrap options (everything before the command) for one run. Pure given `layout.host`.
 * Source of the flags: bwrap(1) of bubblewrap 0.4 to 0.8.
 */
export function bwrapArgv(layout: SandboxLayout): string[] {
  const args = ['--unshare-all', ...(layout.network ? ['--share-net'] : []), '--die-with-parent', '--new-session', '--cap-drop', 'ALL'];
  const bound: string[] = [];
  const bindRo = (path: string) => {
    args.push('--ro-bind', path, path);
    bound.push(path);
  };
  for (const dir of SYSTEM_DIRS) {
    const p = layout.host(dir);
    if (p.kind === 'dir') bindRo(dir);
    else if (p.kind === 'symlink') args.push('--symlink', p.target, dir);
  }
  // node outside /usr (nvm, /opt/node, ~/.local): its bin and its global modules (npm), not the
  // whole prefix, which may be a home directory's ~/.local.
  const nodePrefix = dirname(dirname(layout.execPath));
  for (const dir of [join(nodePrefix, 'bin'), join(nodePrefix, 'lib', 'node_modules')]) {
    if (!bound.some((b) => under(dir, b)) && layout.host(dir).kind === 'dir') bindRo(dir);
  }
  for (const name of ETC_ALLOWED) {
    const path = `/etc/${name}`;
    const p = layout.host(path);
    if (p.kind === 'dir' || p.kind === 'file') bindRo(path);
    else if (p.kind === 'symlink') {
      // resolv.conf is often a link into /run; keep the link and bind only the file it names.
      args.push('--symlink', p.target, path);
      const target = p.target.startsWith('/') ? p.target : join('/etc', p.target);
      if (!under(target, '/etc') && layout.host(target).kind === 'file' && !bound.some((b) => under(target, b))) bindRo(target);
    }
  }
  // git's system config (agenthooks.slack.webhookUrl may live there) when git was built under /usr.
  for (const path of SYSTEM_GITCONFIGS) if (bound.some((b) => under(path, b)) && layout.host(path).kind === 'file') args.push('--ro-bind', '/dev/null', path);
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--bind', layout.workDir, SANDBOX_WORK_DIR, '--chdir', SANDBOX_WORK_DIR);
  // A bound system dir that holds the bare repo (a repo under /usr/local, say) gets it masked.
  for (const hidden of layout.hide) if (bound.some((b) => under(hidden, b))) args.push('--tmpfs', hidden);
  return args;
}

const KEEP_ENV = /^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|TZ|TMPDIR|TERM|SHELL|NODE_EXTRA_CA_CERTS|LC_[A-Z_]+)$/;

/**
 * The environment of the test process: only what a build needs (PATH, HOME, locale, TMPDIR...)
 * plus `CI=1`. Nothing of git's (`GIT_DIR`, `GIT_QUARANTINE_PATH`, push options), nothing of
 * agent-hooks', no secret such as the Slack webhook.
 */
export function testEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(env).filter(([k]) => KEEP_ENV.test(k))), CI: '1' };
}

/**
 * The environment inside the sandbox: the caller's (already cleaned) environment with HOME and
 * TMPDIR on the private /tmp, and PWD at the work dir.
 */
export function sandboxEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, HOME: '/tmp', TMPDIR: '/tmp', PWD: SANDBOX_WORK_DIR };
}

/** Whether bwrap can run here, and why not. */
export type SandboxProbe = { ok: true; bwrap: string } | { ok: false; reason: string };

let probed: SandboxProbe | undefined;

/**
 * Runs bwrap once per process with the same isolation as a test (`true` in an empty work dir,
 * no network) and caches the answer. `AGENT_HOOKS_BWRAP` names another binary (tests use a
 * missing one to see the fallback).
 */
export function probeSandbox(env: NodeJS.ProcessEnv = process.env): SandboxProbe {
  if (probed) return probed;
  const bwrap = env.AGENT_HOOKS_BWRAP || 'bwrap';
  const work = mkdtempSync(join(tmpdir(), 'agent-hooks-probe-'));
  try {
    const args = [...bwrapArgv({ workDir: work, network: false, hide: [], execPath: process.execPath, host: readHostPath }), 'true'];
    const r = spawnSync(bwrap, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.error) probed = { ok: false, reason: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${bwrap} is not installed` : r.error.message };
    else if (r.status !== 0) probed = { ok: false, reason: `${bwrap} cannot create a sandbox here: ${(r.stderr || `exit code ${r.status ?? r.signal}`).trim().split('\n')[0]}` };
    else probed = { ok: true, bwrap };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return probed;
}

/** What to do about the sandbox for one run, from the mode and the probe. Pure. */
export type SandboxDecision = { sandbox: true; bwrap: string } | { sandbox: false; warning?: string } | { sandbox: false; refused: string };

/**
 * `off`: never sandboxed, no warning (the admin chose it). `auto`: sandboxed when bwrap runs,
 * else unsandboxed with a warning. `required`: refused without bwrap. The texts are the part after
 * `WARNING: <where>: ` / `ERROR: <where>: `.
 */
export function decideSandbox(mode: SandboxMode, probe: () => SandboxProbe): SandboxDecision {
  if (mode === 'off') return { sandbox: false };
  const p = probe();
  if (p.ok) return { sandbox: true, bwrap: p.bwrap };
  if (mode === 'required') return { sandbox: false, refused: `tests must run in a sandbox (agenthooks.testSandbox is required), but ${p.reason}; fix: apt-get install bubblewrap (or git config agenthooks.testSandbox auto)` };
  return { sandbox: false, warning: `tests ran without a sandbox (${p.reason}): pushed code can read this server's files and processes; fix: apt-get install bubblewrap (or git config agenthooks.testSandbox off to accept this)` };
}

/** One run of pushed code. */
export interface IsolatedRun {
  /** The materialized work tree (host path); the command runs there (at {@link SANDBOX_WORK_DIR} when sandboxed). */
  workDir: string;
  argv: readonly string[];
  /** The environment, already clean (see `testEnvironment`); HOME and TMPDIR are replaced in the sandbox. */
  env: NodeJS.ProcessEnv;
  /** Hard timeout in ms: the whole sandbox (or process group) is SIGKILLed, and reading stops. */
  timeoutMs: number;
  /** Whether the command may use the host's network (sandboxed runs only). */
  network: boolean;
  /** The bwrap binary from {@link decideSandbox}; missing: run unsandboxed in a process group. */
  bwrap?: string;
  /** Host paths that must stay invisible (the bare repo, its state dir). */
  hide?: readonly string[];
  /** Output is appended here (cut at {@link MAX_LOG_BYTES}). */
  logPath?: string;
  /** Called every `tickMs` with the seconds so far. */
  onTick?: (seconds: number) => void;
  tickMs?: number;
  /** Called with each chunk of output as it comes (`test --fast` streams it to the terminal). */
  onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  /** A file that names the process group while it runs, so a later run can kill what a killed hook left. */
  groupFile?: string;
}

/** How a run ended: exit code or signal, whether the hard timeout hit, and the last lines of output (stdout and stderr, at most 200). */
export interface IsolatedResult {
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  /** Wall time in whole seconds (the timeout itself when it hit). */
  seconds: number;
  output: string[];
  spawnError?: string;
  sandboxed: boolean;
}

/**
 * Runs an argv (no shell) of pushed code: in a bwrap sandbox when `run.bwrap` is set, else in its
 * own process group. A hard timeout SIGKILLs the group (and with it the sandbox, whose pid
 * namespace takes every child along). Reading stops at most {@link DRAIN_MS} after the command
 * ended or was killed, so a process that escaped the group and holds stdout open cannot keep the
 * caller (a push) waiting. Never throws: a command that cannot start gives `spawnError`.
 */
export function runIsolated(run: IsolatedRun): Promise<IsolatedResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const sandboxed = run.bwrap !== undefined;
    const log = run.logPath ? openSync(run.logPath, 'a') : undefined;
    const where = sandboxed ? `sandboxed at ${SANDBOX_WORK_DIR}, ${run.network ? 'with' : 'no'} network` : `in ${run.workDir}, not sandboxed`;
    if (log !== undefined) writeSync(log, `$ ${run.argv.join(' ')}   (${where}, ${formatTime(started)})\n`);
    // The cap is for the whole log: reruns of failing files (a retry, the old tip) append to it.
    let written = log !== undefined ? fstatSync(log).size : 0;
    let tail: string[] = [];
    let partial = '';
    let timedOut = false;
    let done = false;
    // bwrap reads its options from fd 3 (--args), so the sandbox's /proc/1/cmdline names no host path.
    // bwrap itself starts in the work dir too, so a later run can tell a group it left is ours (killOrphanGroup).
    const [file, args, env] = sandboxed ? [run.bwrap!, ['--args', '3', '--', ...run.argv], sandboxEnvironment(run.env)] : [run.argv[0]!, run.argv.slice(1), run.env];
    const cwd = run.workDir;
    const child = spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe', ...(sandboxed ? (['pipe'] as const) : [])] });
    if (sandboxed) {
      const options = bwrapArgv({ workDir: run.workDir, network: run.network, hide: run.hide ?? [], execPath: process.execPath, host: readHostPath });
      const fd3 = child.stdio[3] as NodeJS.WritableStream | null;
      fd3?.on('error', () => {}); // bwrap that failed to start: the exit says why
      fd3?.end(options.map((o) => `${o}\0`).join(''));
    }
    // If the hook is killed (SIGKILL runs no handler), the next taker of the slot kills the group.
    if (run.groupFile && child.pid) writeFileSync(run.groupFile, String(child.pid));
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const onData = (chunk: Buffer, stream: 'stdout' | 'stderr') => {
      if (done) return;
      run.onOutput?.(chunk, stream);
      if (log !== undefined && written < MAX_LOG_BYTES) {
        const room = MAX_LOG_BYTES - written;
        writeSync(log, chunk.subarray(0, room));
        written += Math.min(room, chunk.length);
        if (written >= MAX_LOG_BYTES) writeSync(log, `\n[agent-hooks: log cut at ${MAX_LOG_BYTES} bytes]\n`);
      }
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = (lines.pop() ?? '').slice(-4096);
      tail = [...tail, ...lines].slice(-200);
    };
    child.stdout!.on('data', (chunk: Buffer) => onData(chunk, 'stdout'));
    child.stderr!.on('data', (chunk: Buffer) => onData(chunk, 'stderr'));
    let exit: { code: number | null; signal: string | null } | undefined;
    let drain: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
      drain ??= setTimeout(() => finish(), DRAIN_MS);
    }, run.timeoutMs);
    const ticker = run.onTick ? setInterval(() => run.onTick!(Math.round((Date.now() - started) / 1000)), run.tickMs ?? 5000) : undefined;
    function finish(spawnError?: string) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (drain) clearTimeout(drain);
      if (ticker) clearInterval(ticker);
      // Stop reading: a stray process may still hold the pipes; it gets EPIPE, not our attention.
      child.stdout!.destroy();
      child.stderr!.destroy();
      if (run.groupFile) rmSync(run.groupFile, { force: true });
      const seconds = Math.round((Date.now() - started) / 1000);
      let code = exit?.code ?? null;
      let signal = exit?.signal ?? undefined;
      // bwrap reports a command killed by a signal as exit code 128 + the signal's number.
      const bySignal = sandboxed && code !== null && code > 128 ? Object.entries(constants.signals).find(([, n]) => n === code! - 128)?.[0] : undefined;
      if (bySignal) [code, signal] = [null, bySignal];
      const how = timedOut ? `killed after ${Math.round(run.timeoutMs / 1000)} s` : spawnError ? `could not start: ${spawnError}` : signal ? `signal ${signal}` : `exit code ${code}`;
      if (log !== undefined) {
        writeSync(log, `\n[agent-hooks: ${how}, ${seconds} s]\n`);
        closeSync(log);
      }
      resolve({ exitCode: timedOut ? null : code, ...(signal && !timedOut ? { signal } : {}), timedOut, seconds: timedOut ? Math.round(run.timeoutMs / 1000) : seconds, output: partial ? [...tail, partial] : tail, ...(spawnError ? { spawnError } : {}), sandboxed });
    }
    child.on('error', (error) => finish(error.message));
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // The command is done: whatever it left in its group goes too; give the pipes a moment.
      killGroup();
      drain ??= setTimeout(() => finish(), DRAIN_MS);
    });
    child.on('close', () => finish());
  });
}
