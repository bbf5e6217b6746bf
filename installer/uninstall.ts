// `agent-hooks uninstall <repo>`: removes only what install wrote and puts back what it moved.
import { existsSync, readdirSync, renameSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { cleanGitEnv, runGit } from '../git/git.js';
import { ALL_HOOKS, installLayout, layoutBaseDir } from '../server/layout.js';
import { readIfExists } from './files.js';
import { findInstallation } from './manifest.js';
import { readRepo } from '../git/repo.js';
import { parseStub } from './stub.js';

/** What uninstall did, one line per step; `warnings` for what it left alone and why. */
export interface UninstallReport {
  steps: string[];
  warnings: string[];
}

/**
 * Uninstalls from a bare repo (any layout: git's hooks dir, GitLab's or Gitea's `<hook>.d`): deletes the stubs it wrote, moves chained hooks back, restores
 * `receive.advertisePushOptions`, removes `<hooks-dir>/agent-hooks`. A hook file that is no
 * longer an agent-hooks stub is left alone (and its chained predecessor kept), with a warning.
 * @throws RepoError when the path is not a git repository.
 */
export function uninstall(path: string, options: { dryRun?: boolean } = {}): UninstallReport {
  const repo = readRepo(path);
  const { kind, manifest } = findInstallation(repo.gitDir, repo.hooksDir);
  const layout = installLayout(layoutBaseDir(kind, repo.gitDir, repo.hooksDir), 'any', kind);
  const report: UninstallReport = { steps: [], warnings: [] };
  const step = (description: string, apply: () => void) => {
    report.steps.push(description);
    if (!options.dryRun) apply();
  };
  let keepHome = false;
  for (const hook of ALL_HOOKS) {
    const stubPath = layout.stub(hook);
    const existing = readIfExists(stubPath);
    const ours = existing !== undefined && parseStub(existing.toString('utf8')) !== undefined;
    if (existing !== undefined && !ours) {
      if (existsSync(layout.chained(hook))) {
        report.warnings.push(`${stubPath} was replaced by something else since install; left it, and kept the earlier hook in ${layout.chained(hook)}`);
        keepHome = true;
      }
      continue;
    }
    if (ours) step(`remove the ${hook} stub ${stubPath}`, () => unlinkSync(stubPath));
    // A platform's <hook>.d that install created and that is empty now goes too.
    if (ours && (kind === 'gitea' || kind === 'gitlab')) step(`remove ${dirname(stubPath)} if it is empty`, () => {
      if (readdirSync(dirname(stubPath)).length === 0) rmdirSync(dirname(stubPath));
    });
    if (existsSync(layout.chained(hook))) step(`restore the earlier ${hook} hook from ${layout.chained(hook)}`, () => renameSync(layout.chained(hook), stubPath));
  }
  if (manifest?.previousAdvertisePushOptions !== undefined) {
    const gitEnv = { cwd: repo.gitDir, env: cleanGitEnv() };
    const previous = manifest.previousAdvertisePushOptions;
    if (previous === null) step('unset git config receive.advertisePushOptions (it was unset before install)', () => runGit(['config', '--unset', 'receive.advertisePushOptions'], { ...gitEnv, okExitCodes: [0, 5] }));
    else if (previous !== 'true') step(`restore git config receive.advertisePushOptions ${previous}`, () => runGit(['config', 'receive.advertisePushOptions', previous], gitEnv));
  }
  if (kind === 'gitolite') report.warnings.push(`gitolite still runs agent-hooks' repo-specific hook for this repository, which now only warns; remove "option hook.pre-receive = agent-hooks" and "option hook.post-receive = agent-hooks" from gitolite.conf and push gitolite-admin`);
  if (existsSync(layout.home) && !keepHome) step(`remove ${layout.home}`, () => rmSync(layout.home, { recursive: true, force: true }));
  return report;
}
