// The selection methods the bench compares. Each takes one change and returns the test files it
// would run: `select({ paths, tests, changed, seed, sample, repoDir, commit })` -> string[].
// `random` and the hash fill are agent-hooks' own code (core/sampling.ts, bundled at run time);
// `affected` is the real affected-first selection when this checkout has it.
import { build } from 'esbuild';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The checkout whose selection code is measured: this one, or `AGENT_HOOKS_BENCH_CODE` (run.mjs --code). */
const ROOT = resolve(process.env.AGENT_HOOKS_BENCH_CODE ?? join(import.meta.dirname, '..', '..'));

/** Bundles a TypeScript module of the measured checkout into a temp .mjs and imports it. */
export async function importTs(relPath) {
  const out = join(mkdtempSync(join(tmpdir(), 'ah-bench-')), `${basename(relPath, '.ts')}.mjs`);
  await build({ entryPoints: [join(ROOT, relPath)], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error', mainFields: ['module', 'main'], define: { __AGENT_HOOKS_VERSION__: '"bench"' } });
  return import(pathToFileURL(out).href);
}

/** The stem a name match compares: `src/a/b.test.ts`, `test/a/b.js`, `test_b.py`, `b_test.go` -> `b`. */
export const stemOf = (path) =>
  basename(path)
    .replace(/\.[cm]?[jt]sx?$|\.py$|\.go$|\.rs$/, '')
    .replace(/[._-](test|spec|test-d|test-prop)$/, '')
    .replace(/^test[_-]/, '');

/**
 * Loads the methods. `random`: the pusher's hash sample of `ceil(sample x n)` files (the
 * selection before affected-first). `name`: tests whose stem equals a changed source file's stem,
 * then the hash sample fills up to the same budget. `affected` and `name (agent-hooks)`: the
 * measured checkout's own selection (affected.mjs), when it has one.
 */
export async function loadMethods() {
  const sampling = await importTs('core/sampling.ts');
  // After affected-first selection, core/sampling.ts keeps the sample's rank in core/selection.ts.
  if (!sampling.rankOf) Object.assign(sampling, { rankOf: (await importTs('core/selection.ts')).rankOf });
  const policyOf = (sample) => ({ command: ['true'], files: ['**'], sample, always: [], timeout: 300 });
  const hashSample = (tests, seed, sample) => sampling.selectTests(tests, policyOf(sample), seed, []).sampled;
  const methods = {
    random: ({ tests, seed, sample }) => hashSample(tests, seed, sample),
    name: ({ tests, changed, seed, sample }) => {
      const stems = new Set(changed.map(stemOf));
      const named = tests.filter((t) => stems.has(stemOf(t)));
      const budget = Math.max(1, Math.ceil(sample * tests.length));
      const fill = [...tests].sort((a, b) => (sampling.rankOf(seed, a) < sampling.rankOf(seed, b) ? -1 : 1)).filter((t) => !named.includes(t));
      return [...named, ...fill.slice(0, Math.max(0, budget - named.length))];
    },
  };
  return { ...methods, ...(await loadAffected()) };
}

/**
 * The affected-first selection, when this checkout has one: `bench/selection/affected.mjs`
 * adapts it (it imports the real selection code, so the bench measures what pre-receive runs).
 */
async function loadAffected() {
  const adapter = join(import.meta.dirname, 'affected.mjs');
  if (!existsSync(adapter)) return undefined;
  const mod = await import(pathToFileURL(adapter).href);
  return mod.loadAffected({ importTs, codeRoot: ROOT });
}
