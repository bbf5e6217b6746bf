// The git CLI without blocking: the runner of long-lived processes (the lander, the MCP server,
// the dashboard, the run loop), where a spawnSync would stall every other request. Same errors
// and results as the sync runner in git/git.ts; a timeout or an AbortSignal ends git.
import { spawn } from 'node:child_process';
import type { TreeEntry } from '../core/claim.js';
import { batchInput, GitError, listTreeArgs, parseBatchOutput, parseTreeListing, type GitObject, type GitOptions, type GitResult } from './git.js';

/** Options of {@link runGitAsync}: those of the sync runner, plus a signal that kills git when aborted. */
export interface AsyncGitOptions extends GitOptions {
  signal?: AbortSignal;
}

/**
 * Runs `git <args>` without blocking and resolves with its output.
 * `okExitCodes` (default [0]) as in the sync runner; `null` in it makes a git killed by a signal
 * (a timeout, an abort) an answer too. `timeoutMs` kills git with SIGTERM after that many ms.
 * @throws GitError (the promise rejects) when git cannot start, or exits with a code not in
 * `okExitCodes` (killed by a signal included).
 */
export function runGitAsync(args: readonly string[], options: AsyncGitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      signal: options.signal,
      timeout: options.timeoutMs,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    if (options.input !== undefined) {
      child.stdin!.on('error', () => {}); // git may exit before reading all its input (EPIPE)
      child.stdin!.end(options.input);
    }
    let failed = false;
    child.on('error', (error) => {
      // An abort also emits 'error' (AbortError) and then 'close' with a signal: the close decides.
      if ((error as NodeJS.ErrnoException).name === 'AbortError') return;
      failed = true;
      reject(new GitError(args, null, error.message, { cause: error }));
    });
    child.on('close', (code, signal) => {
      if (failed) return;
      const result = { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode: code };
      if ((options.okExitCodes ?? [0]).includes(code)) resolve(result);
      else reject(new GitError(args, code, code === null ? `${result.stderr.toString()}\nkilled by ${signal ?? 'a signal'}` : result.stderr.toString()));
    });
  });
}

/** `git <args>` with stdout as text, the trailing newline removed. @throws GitError */
export async function gitTextAsync(args: readonly string[], options: AsyncGitOptions = {}): Promise<string> {
  return (await runGitAsync(args, options)).stdout.toString('utf8').replace(/\n$/, '');
}

/** {@link import('./git.js').readObjects} without blocking: one `git cat-file --batch`. @throws GitError */
export async function readObjectsAsync(specs: readonly string[], options: AsyncGitOptions = {}): Promise<Map<string, GitObject | undefined>> {
  if (specs.length === 0) return new Map();
  const input = batchInput(specs);
  return parseBatchOutput((await runGitAsync(['cat-file', '--batch'], { ...options, input })).stdout, specs);
}

/** {@link import('./git.js').listTree} without blocking. @throws GitError */
export async function listTreeAsync(treeish: string, dir: string, options: AsyncGitOptions = {}): Promise<TreeEntry[]> {
  return parseTreeListing((await runGitAsync(listTreeArgs(treeish, dir), options)).stdout.toString('utf8'));
}
