// `agent-hooks uninstall <repo>`: removes only what install wrote and puts back what it moved.
import { existsSync, readdirSync, renameSync, rmdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { cleanGitEnv, runGit } from '../git/git.js';
import { ALL_HOOKS, installLayout, layoutBaseDir } from '../server/layout.js';
import { lexists, readIfExists } from './files.js';
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
 * A chained hook that was a relative symlink gets its original link text back. The agent-hooks
 * dir is removed only when every chained hook in it was put back: never delete what cannot be restored.
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
  const restored = new Set<string>();
  for (const hook of ALL_HOOKS) {
    const stubPath = layout.stub(hook);
    const existing = readIfExists(stubPath);
    const ours = existing !== undefined && parseStub(existing.toString('utf8')) !== undefined;
    if (existing !== undefined && !ours) {
      if (lexists(layout.chained(hook))) {
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
    const chained = layout.chained(hook);
    const link = manifest?.chainedLinks?.[hook];
    if (!lexists(chained)) continue;
    restored.add(hook);
    if (link !== undefined) {
      step(`restore the earlier ${hook} hook: ${stubPath} links to ${link} again`, () => {
        symlinkSync(link, stubPath);
        unlinkSync(chained);
      });
    } else step(`restore the earlier ${hook} hook from ${chained}`, () => renameSync(chained, stubPath));
  }
  const left = existsSync(layout.chainedDir) ? readdirSync(layout.chainedDir).filter((name) => !restored.has(name)) : [];
  if (left.length > 0 && !keepHome) {
    report.warnings.push(`${layout.chainedDir} holds ${left.join(', ')}, which uninstall cannot put back; kept ${layout.home}; fix: move them where they belong, then remove ${layout.home}`);
    keepHome = true;
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
