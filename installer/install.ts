// `agent-hooks install <repo>`: pre-receive and post-receive into a bare repo, pre-commit into a
// clone or worktree (its common hooks dir, so every linked worktree is covered); idempotent,
// chaining whatever hook was there. Planned first as a list of steps, so --dry-run shows
// exactly what a real run does.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { cleanGitEnv, gitText, runGit } from '../git/git.js';
import { CLIENT_HOOKS, installLayout, SERVER_HOOKS, SERVER_MODULES } from '../hooks/layout.js';
import { readIfExists, writeFileAtomic } from './files.js';
import { readManifest, type Manifest } from './manifest.js';
import { readRepo, RepoError, type Repo } from './repo.js';
import { formatStub, parseStub } from './stub.js';

/** Inputs of an install: where the built hook bundles are, which node runs them, the version. */
export interface InstallOptions {
  bundleDir: string;
  nodePath: string;
  version: string;
  dryRun?: boolean;
  /** Install into a `core.hooksPath` outside the repository's git dir (a hook manager's). */
  force?: boolean;
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
}

/**
 * Installs into a bare repo (pre-receive, post-receive), creating it (`git init --bare`, branch
 * `main`) when the path does not exist or is an empty directory; or into a clone or worktree
 * (pre-commit). Running it again changes nothing; a new version replaces the old one's files.
 * @throws RepoError when the path is not a repository, a foreign hook would be lost, or (without
 * `force`) `core.hooksPath` of a clone points outside its git dir.
 */
export function install(path: string, options: InstallOptions): InstallReport {
  const steps: Step[] = [];
  if (!existsSync(path) || isEmptyDir(path)) {
    steps.push({ description: `create bare repository ${path} (default branch main)`, apply: () => runGit(['init', '--quiet', '--bare', '--initial-branch=main', path], { env: cleanGitEnv() }) });
    if (options.dryRun) {
      steps.push({ description: `install pre-receive and post-receive ${options.version} into ${path}/hooks`, apply: () => {} });
      return { steps: steps.map((s) => s.description) };
    }
    steps.pop()!.apply();
  }
  const repo = readRepo(path);
  if (!repo.bare && !options.force && !isInside(repo.hooksDir, repo.commonDir)) {
    throw new RepoError(
      `core.hooksPath of ${repo.path} points to ${repo.hooksDir}, outside its git dir: those hooks belong to a hook manager (husky?) or are shared with other repositories. ` +
        'Call the guard from that manager instead (for husky, add the line "npx agent-hooks pre-commit" to .husky/pre-commit), or run install with --force to write there anyway',
    );
  }
  steps.push(...planInstall(repo, options));
  if (!options.dryRun) for (const step of steps) step.apply();
  return { steps: steps.map((s) => s.description), repo };
}

const isEmptyDir = (path: string) => statSync(path).isDirectory() && readdirSync(path).length === 0;
const isInside = (path: string, dir: string) => path === dir || path.startsWith(`${dir}${sep}`);

function planInstall(repo: Repo, options: InstallOptions): Step[] {
  const layout = installLayout(repo.hooksDir, options.version);
  const previous = readManifest(layout.manifest);
  const hooks = repo.bare ? SERVER_HOOKS : CLIENT_HOOKS;
  const steps: Step[] = [];
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

  for (const hook of repo.bare ? [...SERVER_HOOKS, ...SERVER_MODULES] : hooks) {
    const bundle = readIfExists(join(options.bundleDir, `${hook}.mjs`));
    if (!bundle) throw new Error(`the built hook ${join(options.bundleDir, `${hook}.mjs`)} is missing; run npm run build`);
    write(layout.bundle(hook), bundle, 0o644, `${hook} code`);
  }

  for (const hook of hooks) {
    const stubPath = layout.stub(hook);
    const existing = readIfExists(stubPath);
    const isOurs = existing !== undefined && parseStub(existing.toString('utf8')) !== undefined;
    if (existing !== undefined && !isOurs) {
      if (existsSync(layout.chained(hook))) {
        throw new RepoError(`${stubPath} is not an agent-hooks stub, and ${layout.chained(hook)} already holds an earlier hook; merge the two by hand, then run install again`);
      }
      steps.push({
        description: `keep the existing ${hook} hook: move it to ${layout.chained(hook)}, where it runs first`,
        apply: () => {
          mkdirSync(layout.chainedDir, { recursive: true });
          renameSync(stubPath, layout.chained(hook));
        },
      });
    }
    write(stubPath, formatStub(options.version, options.nodePath, layout.bundle(hook), hook === 'post-receive' ? { notifyOnlyChained: layout.chained(hook) } : {}), 0o755, `${hook} stub`, isOurs ? existing : undefined);
  }

  const manifest: Manifest = { version: options.version, nodePath: options.nodePath, hooks: [...hooks] };
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
  return steps;
}
