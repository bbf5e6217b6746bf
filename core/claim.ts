// The nouns shared by the rules, the plans and the readers: a claim, and one entry of a tree.
// Pure types only.
import type { LockFile } from './lock-file.js';

/** One entry of `git ls-tree -r -l`: mode (`100644`, `120000`...), type, oid, size in bytes, full path. */
export interface TreeEntry {
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  oid: string;
  size?: number;
  path: string;
}

/** A claim as found on the claims ref: a valid lock file and when it expires (epoch ms). */
export interface Claim {
  taskId: string;
  path: string;
  lock: LockFile;
  expiresAt: number;
}
