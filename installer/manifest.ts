// install.json: what install did, so uninstall restores exactly that and doctor can check it.
import { existsSync } from 'node:fs';
import { installLayout, layoutBaseDir, type LayoutKind } from '../server/layout.js';
import { readIfExists } from './files.js';

/**
 * The install record at `<hooks-dir>/agent-hooks/install.json`. `previousAdvertisePushOptions`
 * (bare repos only) is the git config value from before the first install (null: unset).
 * Chained hooks are the files in `<hooks-dir>/agent-hooks/chained/`; `chainedLinks` records the
 * original text of a foreign hook that was a relative symlink (chained as an absolute one, so it
 * still resolves), for uninstall to put back exactly.
 */
export interface Manifest {
  version: string;
  nodePath: string;
  hooks: string[];
  previousAdvertisePushOptions?: string | null;
  /** Hook name -> the relative symlink text the hook had before install. */
  chainedLinks?: Record<string, string>;
  /** Where the server hooks went (absent: `git`, as before layouts existed). */
  layout?: LayoutKind;
}

/**
 * The installation in a repository, if any: its layout and record. GitLab's lives in
 * `<git-dir>/custom_hooks/agent-hooks/`; git's and Gitea's in `<hooks-dir>/agent-hooks/`, told
 * apart by the record's `layout`.
 * @throws Error when a record is not valid JSON.
 */
export function findInstallation(gitDir: string, hooksDir: string): { kind: LayoutKind; manifest?: Manifest } {
  const gitlab = installLayout(layoutBaseDir('gitlab', gitDir, hooksDir), 'any', 'gitlab');
  if (existsSync(gitlab.manifest)) return { kind: 'gitlab', manifest: readManifest(gitlab.manifest) };
  const manifest = readManifest(installLayout(hooksDir, 'any').manifest);
  return { kind: manifest?.layout ?? 'git', manifest };
}

/** Reads the install record; undefined when there is none. @throws Error when it is not valid JSON. */
export function readManifest(path: string): Manifest | undefined {
  const content = readIfExists(path);
  if (content === undefined) return undefined;
  try {
    return JSON.parse(content.toString('utf8')) as Manifest;
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); remove it and run install again`, { cause: error });
  }
}
