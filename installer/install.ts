// `agent-hooks install <repo>`: pre-receive and post-receive into a bare repo, pre-commit into a
// clone or worktree (its common hooks dir, so every linked worktree is covered); idempotent,
// chaining whatever hook was there. Planned first as a list of steps, so --dry-run shows
// exactly what a real run does.
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { cleanGitEnv, gitText, runGit } from '../git/git.js';
import { CHECKER, checkerSocket, stopChecker } from '../server/checker.js';
import { lockHolder } from '../server/pid-lock.js';
import { statePaths } from '../server/state.js';
import { CLIENT_HOOKS, GITOLITE_HOOK, installLayout, layoutBaseDir, SERVER_HOOKS, type LayoutKind } from '../server/layout.js';
import bundles from './bundles.json' with { type: 'json' };
import { isExecutable, lexists, readIfExists, writeFileAtomic } from './files.js';
import { findInstallation, type Manifest } from './manifest.js';
import { readRepo, RepoError, type Repo } from '../git/repo.js';
import { formatPostReceiveStub, formatStub, parseStub } from './stub.js';

/** Inputs of an install: where the built hook bundles are, which node runs them, the version. */
export interface InstallOptions {
  bundleDir: string;
  nodePath: string;
  version: string;
  dryRun?: boolean;
  /** Install into a `core.hooksPath` outside the repository's git dir (a hook manager's). */
  force?: boolean;
  /** Bare repos: git's hooks dir (default), GitLab's custom_hooks/<hook>.d, Gitea's hooks/<hook>.d, or gitolite's repo-specific hooks (hooks/layout.ts). */
  layout?: LayoutKind;
  /** Create the bare repo when the path does not exist or is an empty directory (never without it: a typo must not become a repository). */
  create?: boolean;
  /**
   * Bare repos: pre-receive hands pushes to the resident checker (server/checker.ts), one
   * long-running process per repository, instead of starting node for each (issue 18). Each
   * install writes the stub its options ask for: installing again without it turns it off.
   */
  resident?: boolean;
}

/** One thing install does (or, with --dry-run, would do). */
export interface Step {
  description: string;
  apply: () => void;
}

/** What install did: the steps, and the repository (undefined in a dry run of a new repo). */
export interface InstallReport {
  steps: string[];
  repo?: Repo;
  /** Where the hooks are: the hooks dir, or a platform's base dir (`custom_hooks` for GitLab). */
  where?: string;
}

/**
 * Installs into a bare repo (pre-receive, post-receive), creating it with `create` (`git init
 * --bare`, branch `main`) when the path does not exist or is an empty directory; or into a clone or worktree
 * (pre-commit). Running it again changes nothing; a new version replaces the old one's files.
 * @throws RepoError when the path does not exist or is an empty directory (without `create`), is
 * not a repository, a foreign hook would be lost or cannot run, or (without `force`)
 * `core.hooksPath` points outside its git dir (a hook manager's, or a dir other repositories share).
 */
export function install(path: string, options: InstallOptions): InstallReport {
  const steps: Step[] = [];
  if (!existsSync(path) || isEmptyDir(path)) {
    if (!options.create) {
      const what = existsSync(path) ? 'is an empty directory, not a git repository' : 'does not exist';
      throw new RepoError(`${resolve(path)} ${what}; fix: check the path, or agent-hooks install --create ${path} to make a new bare repository there`, { usage: true });
    }
    steps.push({ description: `create bare repository ${path} (default branch main)`, apply: () => runGit(['init', '--quiet', '--bare', '--initial-branch=main', path], { env: cleanGitEnv() }) });
    if (options.dryRun) {
      steps.push({ description: `install pre-receive and post-receive ${options.version} into ${path}/hooks`, apply: () => {} });
      return { steps: steps.map((s) => s.description) };
    }
    steps.pop()!.apply();
  }
  const repo = readRepo(path);
  if (repo.bare && !options.force && !isInside(layoutBaseDir(options.layout ?? 'git', repo.gitDir, repo.hooksDir), repo.commonDir)) {
    throw new RepoError(
      `core.hooksPath of ${repo.path} points to ${repo.hooksDir}, outside its git dir: other repositories that share that directory would start running agent-hooks' pre-receive and rejecting pushes. ` +
        `Unset it (git -C ${repo.path} config --unset core.hooksPath) to install into the repository's own hooks dir, or run install with --force to write there anyway`,
    );
  }
  if (!repo.bare && !options.force && !isInside(repo.hooksDir, repo.commonDir)) {
    throw new RepoError(
      `core.hooksPath of ${repo.path} points to ${repo.hooksDir}, outside its git dir: those hooks belong to a hook manager (husky?) or are shared with other repositories. ` +
        'Call the guard from that manager instead (for husky, add the line "npx agent-hooks pre-commit" to .husky/pre-commit), or run install with --force to write there anyway',
    );
  }
  if (!repo.bare && options.layout && options.layout !== 'git') throw new RepoError(`--layout ${options.layout} is for the bare repository on the git server; ${repo.path} is a clone or worktree`);
  if (!repo.bare && options.resident) throw new RepoError(`--resident is for the bare repository on the git server (its pre-receive); ${repo.path} is a clone or worktree: install without --resident`, { usage: true });
  steps.push(...planInstall(repo, options));
  if (!options.dryRun) for (const step of steps) step.apply();
  return { steps: steps.map((s) => s.description), repo, where: layoutBaseDir(options.layout ?? 'git', repo.gitDir, repo.hooksDir) };
}

/** The text of the symlink at `path`, or undefined when it is not a symlink. */
function symlinkText(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

const isEmptyDir = (path: string) => statSync(path).isDirectory() && readdirSync(path).length === 0;
const isInside = (path: string, dir: string) => path === dir || path.startsWith(`${dir}${sep}`);

/**
 * The platform whose hooks a bare repo already has, from the hook files themselves: Gitea and
 * Forgejo generate `hooks/pre-receive` with an "AUTO GENERATED BY GITEA" line; GitLab keeps
 * `custom_hooks/` or links its hooks to gitlab-shell or Gitaly; gitolite's repo-specific hooks
 * link `hooks/pre-receive` to its multi-hook-driver.
 */
export function detectPlatform(gitDir: string, hooksDir: string): LayoutKind | undefined {
  const hook = join(hooksDir, 'pre-receive');
  const text = readIfExists(hook)?.toString('utf8') ?? '';
  if (/AUTO GENERATED BY (GITEA|FORGEJO)/i.test(text)) return 'gitea';
  let target = '';
  try {
    target = lstatSync(hook).isSymbolicLink() ? readlinkSync(hook) : '';
  } catch {
    target = '';
  }
  if (existsSync(join(gitDir, 'custom_hooks')) || /gitlab-shell|gitaly/.test(target)) return 'gitlab';
  if (/multi-hook-driver/.test(target)) return 'gitolite';
  return undefined;
}

/** The platforms' names, for messages. */
export const PLATFORM_NAMES: Record<LayoutKind, string> = { git: 'plain git', gitlab: 'GitLab', gitea: 'Gitea or Forgejo', gitolite: 'gitolite (repo-specific hooks)' };

function planInstall(repo: Repo, options: InstallOptions): Step[] {
  const kind = options.layout ?? 'git';
  const found = findInstallation(repo.gitDir, repo.hooksDir);
  if (found.manifest && found.kind !== kind) {
    throw new RepoError(`agent-hooks is installed in ${repo.path} with --layout ${found.kind}; run agent-hooks uninstall ${repo.path} first, then install with --layout ${kind}`);
  }
  const platform = repo.bare && kind === 'git' && !found.manifest ? detectPlatform(repo.gitDir, repo.hooksDir) : undefined;
  if (platform) {
    throw new RepoError(`${repo.path} looks like a ${PLATFORM_NAMES[platform]} repository; its hooks belong to the platform: run agent-hooks install --layout ${platform} ${repo.path}`);
  }
  const layout = installLayout(layoutBaseDir(kind, repo.gitDir, repo.hooksDir), options.version, kind);
  const previous = found.manifest;
  const hooks = repo.bare ? SERVER_HOOKS : CLIENT_HOOKS;
  const steps: Step[] = [];
  const chainedLinks: Record<string, string> = Object.fromEntries(Object.entries(previous?.chainedLinks ?? {}).filter(([hook]) => lexists(layout.chained(hook))));
  const write = (path: string, content: string | Buffer, mode: number, what: string, current = readIfExists(path)) => {
    if (current && current.equals(Buffer.from(content))) return;
    steps.push({
      description: `${current ? 'update' : 'write'} ${what} ${path}`,
      apply: () => {
        mkdirSync(dirname(path), { recursive: true });
        writeFileAtomic(path, content, mode);
      },
    });
  };

  // post-receive is plain sh (formatPostReceiveStub): it has no bundle of its own.
  for (const hook of Object.keys(repo.bare ? bundles.server : bundles.client)) {
    const bundle = readIfExists(join(options.bundleDir, `${hook}.mjs`));
    if (!bundle) throw new Error(`the built hook ${join(options.bundleDir, `${hook}.mjs`)} is missing; run npm run build`);
    write(layout.bundle(hook), bundle, 0o644, `${hook} code`);
  }

  for (const hook of hooks) {
    const stubPath = layout.stub(hook);
    const link = symlinkText(stubPath);
    const existing = link !== undefined && !existsSync(stubPath) ? Buffer.alloc(0) : readIfExists(stubPath);
    const isOurs = existing !== undefined && parseStub(existing.toString('utf8')) !== undefined;
    if (existing !== undefined && !isOurs && kind !== 'git') {
      throw new RepoError(`${stubPath} is not an agent-hooks stub; rename it (the platform runs every file in ${dirname(stubPath)}), then run install again`);
    }
    if (existing !== undefined && !isOurs) {
      if (lexists(layout.chained(hook))) {
        throw new RepoError(`${stubPath} is not an agent-hooks stub, and ${layout.chained(hook)} already holds an earlier hook; merge the two by hand, then run install again`);
      }
      // git skips a hook it cannot execute; chained, it would refuse every push (fail closed). Say so now.
      if (!isExecutable(stubPath)) {
        const what = link === undefined ? 'is not executable' : `is a symlink to ${link}, which ${existsSync(stubPath) ? 'is not executable' : 'does not exist'}`;
        throw new RepoError(`${stubPath} ${what}, so git skips it today and chained it would refuse every push; fix: chmod +x ${stubPath} (or fix its link, or remove it), then run install again`);
      }
      if (link !== undefined && !isAbsolute(link)) {
        // A relative link moved into chained/ would resolve against the wrong dir: link to where it points.
        const target = resolve(dirname(stubPath), link);
        chainedLinks[hook] = link;
        steps.push({
          description: `keep the existing ${hook} hook (a symlink to ${link}): link ${layout.chained(hook)} to ${target}, where it runs first`,
          apply: () => {
            mkdirSync(layout.chainedDir, { recursive: true });
            symlinkSync(target, layout.chained(hook));
            unlinkSync(stubPath);
          },
        });
      } else {
        steps.push({
          description: `keep the existing ${hook} hook: move it to ${layout.chained(hook)}, where it runs first`,
          apply: () => {
            mkdirSync(layout.chainedDir, { recursive: true });
            renameSync(stubPath, layout.chained(hook));
          },
        });
      }
    }
    const text = hook === 'post-receive'
      ? formatPostReceiveStub(options.version, options.nodePath, layout.bundle('notify-sender'), layout.chained(hook))
      : formatStub(options.version, options.nodePath, layout.bundle(hook), {
          ...(kind === 'gitlab' ? { env: { AGENT_HOOKS_LAYOUT: 'gitlab' } } : {}),
          ...(options.resident && hook === 'pre-receive' ? { resident: { socket: checkerSocket(options.version) } } : {}),
        });
    write(stubPath, text, 0o755, `${hook} stub`, isOurs ? existing : undefined);
  }

  if (kind === 'gitolite') write(layout.gitoliteHook, GITOLITE_HOOK, 0o755, 'gitolite repo-specific hook');

  const manifest: Manifest = { version: options.version, nodePath: options.nodePath, hooks: [...hooks], ...(Object.keys(chainedLinks).length > 0 ? { chainedLinks } : {}), ...(kind !== 'git' ? { layout: kind } : {}) };
  if (repo.bare) {
    const gitEnv = { cwd: repo.gitDir, env: cleanGitEnv() };
    const advertised = gitText(['config', '--get', 'receive.advertisePushOptions'], { ...gitEnv, okExitCodes: [0, 1] });
    if (advertised !== 'true') {
      steps.push({ description: 'set git config receive.advertisePushOptions true (for -o agent=<id>)', apply: () => runGit(['config', 'receive.advertisePushOptions', 'true'], gitEnv) });
    }
    // Remember the value from before the first install, so uninstall can put it back.
    manifest.previousAdvertisePushOptions = previous?.previousAdvertisePushOptions !== undefined ? previous.previousAdvertisePushOptions : advertised || null;
  }
  write(layout.manifest, `${JSON.stringify(manifest, null, 2)}\n`, 0o644, 'install record');

  for (const stale of existsSync(layout.home) ? readdirSync(layout.home) : []) {
    const dir = join(layout.home, stale);
    if (/^\d+\.\d+\.\d+/.test(stale) && stale !== options.version) {
      steps.push({ description: `remove the code of version ${stale} ${dir}`, apply: () => rmSync(dir, { recursive: true, force: true }) });
    }
  }
  // A resident checker runs the code it started with: once anything changed, it makes way, and
  // the next push starts one with the code just written.
  if (repo.bare && steps.length > 0 && lockHolder(statePaths(repo.gitDir).workerLock(CHECKER)) !== undefined) {
    steps.push({ description: 'stop the resident checker (the next push starts it with this code)', apply: () => void stopChecker(repo.gitDir) });
  }
  return steps;
}
