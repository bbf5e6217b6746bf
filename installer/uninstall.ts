// `agent-hooks uninstall <repo>`: removes only what install wrote and puts back what it moved.
import { existsSync, readdirSync, renameSync, rmdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { cleanGitEnv, gitText, runGit } from '../git/git.js';
import { statePaths } from '../server/state.js';
import { CHECKER, stopChecker } from '../server/checker.js';
import { lockHolder } from '../server/pid-lock.js';
import { ALL_HOOKS, installLayout, layoutBaseDir } from '../server/layout.js';
import { lexists, readIfExists } from './files.js';
import { findInstallation } from './manifest.js';
import { readRepo } from '../git/repo.js';
import { parseStub } from './stub.js';

/** What uninstall did, one line per step; `kept`: the state it left in place (without `purge`); `warnings` for what it left alone and why. */
export interface UninstallReport {
  steps: string[];
  kept: string[];
  warnings: string[];
}

/**
 * Uninstalls from a bare repo (any layout: git's hooks dir, GitLab's or Gitea's `<hook>.d`): deletes the stubs it wrote, moves chained hooks back, restores
 * `receive.advertisePushOptions`, removes `<hooks-dir>/agent-hooks`. A hook file that is no
 * longer an agent-hooks stub is left alone (and its chained predecessor kept), with a warning.
 * A chained hook that was a relative symlink gets its original link text back. The agent-hooks
 * dir is removed only when every chained hook in it was put back: never delete what cannot be restored.
 * The state (`<git-dir>/agent-hooks/`: spool, logs, test slots; `agenthooks.*` git config) is
 * kept and listed in `kept`, so a reinstall carries on; `purge` removes it too.
 * @throws RepoError when the path is not a git repository.
 */
export function uninstall(path: string, options: { dryRun?: boolean; purge?: boolean } = {}): UninstallReport {
  const repo = readRepo(path);
  const { kind, manifest } = findInstallation(repo.gitDir, repo.hooksDir);
  const layout = installLayout(layoutBaseDir(kind, repo.gitDir, repo.hooksDir), 'any', kind);
  const report: UninstallReport = { steps: [], kept: [], warnings: [] };
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
  // The resident checker (install --resident) would see its bundle gone within 30 s; stop it now.
  if (repo.bare && lockHolder(statePaths(repo.gitDir).workerLock(CHECKER)) !== undefined) {
    step('stop the resident checker', () => {
      const pid = stopChecker(repo.gitDir);
      if (pid === undefined) report.warnings.push(`the pid in ${statePaths(repo.gitDir).workerLock(CHECKER)} is not a checker of this repository; left it alone`);
    });
  }
  const state = statePaths(repo.gitDir).home;
  const gitEnv = { cwd: repo.gitDir, env: cleanGitEnv() };
  // Names only: values such as agenthooks.slack.webhookUrl are secrets.
  const keys = [...new Set(gitText(['config', '--local', '--name-only', '--get-regexp', '^agenthooks\\.'], { ...gitEnv, okExitCodes: [0, 1] }).split('\n').filter(Boolean))];
  if (options.purge) {
    if (existsSync(state)) step(`remove the state ${state} (Slack spool, logs, test slots)`, () => rmSync(state, { recursive: true, force: true }));
    for (const key of keys) step(`unset git config ${key}`, () => runGit(['config', '--local', '--unset-all', key], { ...gitEnv, okExitCodes: [0, 5] }));
  } else {
    if (existsSync(state)) report.kept.push(`the state ${state} (Slack spool, logs, test slots); agent-hooks uninstall --purge ${path} removes it`);
    if (keys.length > 0) report.kept.push(`the git config ${keys.join(', ')}; agent-hooks uninstall --purge ${path} removes it`);
  }
  return report;
}

