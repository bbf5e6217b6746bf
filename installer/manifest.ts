// install.json: what install did, so uninstall restores exactly that and doctor can check it.
import { readIfExists } from './files.js';

/**
 * The install record at `<hooks-dir>/agent-hooks/install.json`. `previousAdvertisePushOptions`
 * (bare repos only) is the git config value from before the first install (null: unset).
 * Chained hooks need no record: they are the files in `<hooks-dir>/agent-hooks/chained/`.
 */
export interface Manifest {
  version: string;
  nodePath: string;
  hooks: string[];
  previousAdvertisePushOptions?: string | null;
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
