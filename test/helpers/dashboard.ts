// Test helpers for the dashboard: what the lander writes, made by hand with git plumbing.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { git, push } from './git.js';

/** A committer identity for commits the tests make in a bare repo. */
export const IDENT = { GIT_AUTHOR_NAME: 'lander', GIT_AUTHOR_EMAIL: 'l@x', GIT_COMMITTER_NAME: 'lander', GIT_COMMITTER_EMAIL: 'l@x' };

/** Points the lander's marker ref at a batch of these queue refs, as the lander does: a commit on main whose message is the batch as JSON. */
export function markBatch(upstream: string, refs: string[]): void {
  const main = git(upstream, ['rev-parse', 'main']).stdout.trim();
  const tree = git(upstream, ['rev-parse', 'main^{tree}']).stdout.trim();
  const message = JSON.stringify({ onto: main, entries: refs.map((ref) => ({ ref, oid: git(upstream, ['rev-parse', ref]).stdout.trim() })) });
  git(upstream, ['update-ref', 'refs/agent-hooks/lander/testing', git(upstream, ['commit-tree', tree, '-p', main, '-m', message], { env: IDENT }).stdout.trim()]);
}

/**
 * Puts a clone's HEAD in the landing queue of `upstream` as `refs/land/<agent>/<topic>`, the state
 * the dashboard shows, without starting a lander (which would land it at once): the commits go up
 * with a real push to a scratch branch, then the queue ref is written in the bare repo. The
 * queue's own path (pre-receive's enqueue rules, the lander) is tested in test/queue.test.ts.
 * The lander's pid lock is held for the rest of the test, so a later push (whose post-receive
 * starts a lander while entries wait) leaves the entries as they are.
 */
export function enqueue(upstream: string, clone: string, ref: string): void {
  holdLander(upstream);
  const scratch = `refs/heads/scratch/${ref.replace(/^refs\/land\//, '').replace(/\//g, '-')}`;
  const pushed = push(clone, ['origin', `HEAD:${scratch}`]);
  if (pushed.exitCode !== 0) throw new Error(pushed.stderr);
  const oid = git(upstream, ['rev-parse', scratch]).stdout.trim();
  git(upstream, ['update-ref', ref, oid]);
  git(upstream, ['update-ref', '-d', scratch]);
}

const held = new Set<string>();

/** Holds `upstream`'s lander pid lock with a sleeping process until the test ends: no lander runs. */
function holdLander(upstream: string): void {
  if (held.has(upstream)) return;
  held.add(upstream);
  const holder = spawn('sleep', ['600'], { stdio: 'ignore' });
  onTestFinished(() => {
    holder.kill('SIGKILL');
    held.delete(upstream);
  });
  const lock = join(upstream, 'agent-hooks', 'workers', 'lander.lock');
  mkdirSync(lock, { recursive: true });
  writeFileSync(join(lock, 'pid'), String(holder.pid));
}
