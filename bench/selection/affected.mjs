// The affected-first selection for the bench: agent-hooks' own readers and pure selection
// (server/test-evidence.ts readTestSelection: the import graph of the project's tree, the
// co-changes in its real history, name matches; then the hash sample fills up to the budget),
// exactly as pre-receive calls them, on the adopted project's git repository. Also `name`: the
// same pure selection fed no import graph and no history, so only name matches count.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Returns the methods this checkout's selection code gives, or undefined when it has none yet
 * (before affected-first selection landed). `importTs(path)` bundles a module of the code under
 * measure; `codeRoot` is that checkout.
 */
export async function loadAffected({ importTs, codeRoot }) {
  if (!existsSync(join(codeRoot, 'server', 'test-evidence.ts'))) return undefined;
  const evidence = await importTs('server/test-evidence.ts');
  const selection = await importTs('core/selection.ts');
  const policyOf = (globs, sample) => ({ files: globs, sample, always: [] });
  const trees = new Map();
  const filesOf = (commit, git) => {
    if (!trees.has(commit)) trees.set(commit, evidence.readTreeFiles(commit, git));
    return trees.get(commit);
  };
  const methods = {
    'name (agent-hooks)': ({ paths, changed, seed, sample, testGlobs }) => selection.selectTestFiles({ paths, changed, seed, policy: policyOf(testGlobs, sample) }).files.map((f) => f.path),
  };
  // Affected-first with the default cap (test.maxAffected 0.5), and capped at 0.2 and 0.1 of the
  // test files: the cap bounds the share run when a shared module is imported by most tests.
  for (const [label, maxAffected] of [['affected', undefined], ['affected, maxAffected 0.2', 0.2], ['affected, maxAffected 0.1', 0.1]]) {
    methods[label] = async ({ changed, seed, sample, repoDir, commit, testGlobs, cacheDir }) => {
      mkdirSync(cacheDir, { recursive: true });
      const git = { env: { ...process.env, GIT_DIR: join(repoDir, '.git') } };
      const policy = { ...policyOf(testGlobs, sample), ...(maxAffected ? { maxAffected } : {}) };
      const { selection: chosen } = await evidence.readTestSelection({ git, treeish: commit, files: filesOf(commit, git), claimsTip: commit, changed, policy, seed, stateDir: cacheDir });
      return chosen.files.map((f) => f.path);
    };
  }
  return methods;
}
