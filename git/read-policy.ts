// The policy at a commit of the claims ref: `agent-hooks.json` at the root of its tree (DESIGN.md
// "Settings"), read with one `git cat-file`; a missing file means the defaults.
import { POLICY_FILE, policyFromText, type Policy } from '../core/policy.js';
import { readObjects, type GitOptions } from './git.js';

/** What {@link readPolicyAt} found: the policy in force, the problems of an invalid file, and its text (undefined: no file). */
export interface PolicyAt {
  policy: Policy;
  problems: string[];
  text: string | undefined;
}

/**
 * The policy of commit `oid` (undefined: no commit yet, the defaults). An invalid file gives the
 * defaults and its problems, never a throw. @throws GitError when git cannot read the repository.
 */
export function readPolicyAt(oid: string | undefined, git: GitOptions): PolicyAt {
  const text = oid ? readObjects([`${oid}:${POLICY_FILE}`], git).get(`${oid}:${POLICY_FILE}`)?.content.toString('utf8') : undefined;
  return { ...policyFromText(text), text };
}
