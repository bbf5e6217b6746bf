// Where an installation lives inside a hooks dir. Shared by the installer and the hooks, so
// the two can never disagree.
//
//   <hooks-dir>/pre-receive                         stub: exec <node> <hooks-dir>/agent-hooks/<version>/pre-receive.mjs
//   <hooks-dir>/agent-hooks/<version>/*.mjs          the bundled hook code, copied at install
//   <hooks-dir>/agent-hooks/chained/<hook>           a hook that was there before; runs first
//   <hooks-dir>/agent-hooks/install.json             what install did, for uninstall and doctor
import { join } from 'node:path';

/** The hooks agent-hooks installs in a bare repo (githooks(5)). */
export const SERVER_HOOKS = ['pre-receive', 'post-receive'] as const;
/** The hooks agent-hooks installs in a clone or worktree. */
export const CLIENT_HOOKS = ['pre-commit'] as const;
/** Code that server hooks load or start on demand (the test stage, the Slack sender), copied beside them. */
export const SERVER_MODULES = ['run-tests', 'notify-sender'] as const;
/** Every hook agent-hooks may have installed. */
export const ALL_HOOKS = [...SERVER_HOOKS, ...CLIENT_HOOKS] as const;

/** Paths of one installation, all absolute, given the absolute hooks dir. */
export function installLayout(hooksDir: string, version: string) {
  const home = join(hooksDir, 'agent-hooks');
  return {
    hooksDir,
    home,
    versionDir: join(home, version),
    chainedDir: join(home, 'chained'),
    manifest: join(home, 'install.json'),
    stub: (hook: string) => join(hooksDir, hook),
    bundle: (hook: string) => join(home, version, `${hook}.mjs`),
    chained: (hook: string) => join(home, 'chained', hook),
  };
}

/** The chained hook beside a running bundle (`<home>/<version>/<hook>.mjs` -> `<home>/chained/<hook>`). */
export function chainedHookBeside(bundleDir: string, hook: string): string {
  return join(bundleDir, '..', 'chained', hook);
}
