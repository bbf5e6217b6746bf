// Where an installation lives inside a hooks dir. Shared by the installer and the hooks, so
// the two can never disagree.
//
//   <hooks-dir>/pre-receive                         stub: exec <node> <hooks-dir>/agent-hooks/<version>/pre-receive.mjs
//   <hooks-dir>/agent-hooks/<version>/*.mjs          the bundled hook code, copied at install
//   <hooks-dir>/agent-hooks/chained/<hook>           a hook that was there before; runs first
//   <hooks-dir>/agent-hooks/install.json             what install did, for uninstall and doctor
//
// The platform layouts leave the platform's own hooks alone and add one executable to the
// directory of hooks the platform runs in turn, each with the same stdin:
//   gitlab  <git-dir>/custom_hooks/<hook>.d/agent-hooks, code in <git-dir>/custom_hooks/agent-hooks/
//           (Gitaly's repository server hooks: docs.gitlab.com/administration/server_hooks)
//   gitea   <git-dir>/hooks/<hook>.d/agent-hooks, code in <git-dir>/hooks/agent-hooks/
//           (Gitea and Forgejo generate hooks/<hook> that runs every file of hooks/<hook>.d/)
//   gitolite <git-dir>/hooks/agent-hooks/hooks/<hook>, code in <git-dir>/hooks/agent-hooks/;
//           gitolite's repo-specific hooks run them through a dispatcher (<hooks-dir>/agent-hooks/
//           gitolite-hook, copied by the admin into LOCAL_CODE/hooks/repo-specific/), beside
//           gitolite's own update hook (docs/gitolite.md)
import { join } from 'node:path';

/** The hooks agent-hooks installs in a bare repo (githooks(5)). */
export const SERVER_HOOKS = ['pre-receive', 'post-receive'] as const;
/** The hooks agent-hooks installs in a clone or worktree. */
export const CLIENT_HOOKS = ['pre-commit'] as const;
/** Every hook agent-hooks may have installed. */
export const ALL_HOOKS = [...SERVER_HOOKS, ...CLIENT_HOOKS] as const;

/** Where a server's hooks go: git's own hooks dir, or a platform's directory of hooks. */
export const LAYOUTS = ['git', 'gitlab', 'gitea', 'gitolite'] as const;
export type LayoutKind = (typeof LAYOUTS)[number];

/**
 * Paths of one installation, all absolute. `baseDir` is the hooks dir for `git`, `gitea` and
 * `gitolite`, and `<git-dir>/custom_hooks` for `gitlab` (see {@link layoutBaseDir}).
 */
export function installLayout(baseDir: string, version: string, kind: LayoutKind = 'git') {
  const home = join(baseDir, 'agent-hooks');
  return {
    kind,
    hooksDir: baseDir,
    home,
    versionDir: join(home, version),
    chainedDir: join(home, 'chained'),
    manifest: join(home, 'install.json'),
    // gitolite: not hooks/<hook>.d, which its multi-hook driver would take for hooks/<hook>.* to run.
    stub: (hook: string) => (kind === 'git' ? join(baseDir, hook) : kind === 'gitolite' ? join(home, 'hooks', hook) : join(baseDir, `${hook}.d`, 'agent-hooks')),
    bundle: (hook: string) => join(home, version, `${hook}.mjs`),
    // Platform layouts chain nothing: the platform runs every hook of the directory.
    chained: (hook: string) => join(home, 'chained', hook),
    /** gitolite: where install writes {@link GITOLITE_HOOK}, for the admin to copy into LOCAL_CODE. */
    gitoliteHook: join(home, 'gitolite-hook'),
  };
}

/**
 * The gitolite repo-specific hook (the same for every repository and version): gitolite links
 * it as hooks/<hook>.hNN-agent-hooks and its multi-hook driver runs it with the hook's stdin; it
 * runs the repository's own agent-hooks stub for that hook.
 */
export const GITOLITE_HOOK = `#!/bin/sh
# agent-hooks for gitolite's repo-specific hooks (option hook.pre-receive = agent-hooks, and the same
# for post-receive). gitolite runs this as hooks/<hook>.hNN-agent-hooks; it runs the stub that
# \`agent-hooks install --layout gitolite <repo>\` wrote for that hook.
hook=$(basename "$0")
hook=\${hook%%.h[0-9]*}
stub="\${GIT_DIR:-.}/hooks/agent-hooks/hooks/$hook"
if [ ! -x "$stub" ]; then
  cat >/dev/null
  echo "WARNING: agent-hooks is not installed in this repository (uninstalled?); nothing checked; fix: remove 'option hook.$hook = agent-hooks' from gitolite.conf, or agent-hooks install --layout gitolite" >&2
  exit 0
fi
exec "$stub" "$@"
`;

/** The base dir of a layout for a repository: `<git-dir>/custom_hooks` for GitLab, else the hooks dir. */
export function layoutBaseDir(kind: LayoutKind, gitDir: string, hooksDir: string): string {
  return kind === 'gitlab' ? join(gitDir, 'custom_hooks') : hooksDir;
}

/** The chained hook beside a running bundle (`<home>/<version>/<hook>.mjs` -> `<home>/chained/<hook>`). */
export function chainedHookBeside(bundleDir: string, hook: string): string {
  return join(bundleDir, '..', 'chained', hook);
}
