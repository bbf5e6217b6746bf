// The real projects of the selection bench: where their git history comes from, which files are
// tests and which are sources, how to install them, and how to run their suite so that each test
// file gets a verdict of its own. Nothing of theirs is kept in this repository: run.mjs clones
// them into a cache directory at run time.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sh = (cwd, cmd, args) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}): exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return r.stdout;
};

/** Runs `node <file>` for each file, `jobs` at a time, each with a timeout; resolves to path -> passed. */
function runEachWithNode(dir, files, jobs = 2, timeoutMs = 60_000) {
  const results = new Map();
  let next = 0;
  const one = () =>
    new Promise((resolve) => {
      if (next >= files.length) return resolve(false);
      const file = files[next++];
      const child = spawn(process.execPath, [file], { cwd: dir, stdio: 'ignore', env: { ...process.env, CI: '1', TAP: '1' } });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        results.set(file, code === 0);
        resolve(true);
      });
    });
  const worker = async () => {
    while (await one());
  };
  return Promise.all(Array.from({ length: jobs }, worker)).then(() => results);
}

/**
 * Each project: `repo` (a git URL; `--mirrors DIR` replaces it by `DIR/<mirror>/repo`, a local
 * copy), the pinned `commit`, `isTest` and `isSource` over tree paths, `install(dir)`, and
 * `runSuite(dir, tests, partial)` resolving to a Map of test path -> passed (`partial`: `tests` is
 * a part of the suite, run again to confirm failures).
 */
export const PROJECTS = {
  semver: {
    what: 'npm/node-semver (the semver package, CommonJS, tap)',
    repo: 'https://github.com/npm/node-semver.git',
    mirror: 'npm+node-semver',
    commit: '6e05b7637396ac66522cff8731f07cfe0ef49a29',
    isTest: (p) => /^test\/.*\.js$/.test(p) && !p.startsWith('test/fixtures/'),
    // What a user would put in test.files (the fixtures are data, not tests).
    testGlobs: ['test/*.js', 'test/{bin,classes,functions,integration,internal,ranges}/**/*.js'],
    isSource: (p) => /^(classes|functions|internal|ranges|bin)\/.*\.js$/.test(p) || p === 'index.js' || p === 'preload.js',
    install(dir) {
      if (!existsSync(join(dir, 'node_modules', 'tap'))) sh(dir, 'npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts']);
    },
    // tap test files are plain node programs: exit code 0 when every assertion passed.
    runSuite: (dir, tests) => runEachWithNode(dir, tests),
  },
  remeda: {
    what: 'remeda/remeda (TypeScript utility library, a monorepo; vitest, its runtime project)',
    repo: 'https://github.com/remeda/remeda.git',
    mirror: 'remeda+remeda',
    commit: '3b72f9fb6e5174243954467186301d352b742699',
    isTest: (p) => /^packages\/remeda\/src\/.*\.test\.ts$/.test(p),
    testGlobs: ['packages/remeda/src/**/*.test.ts'],
    isSource: (p) => /^packages\/remeda\/src\/.*\.ts$/.test(p) && !/\.(test|test-d|test-prop)\.ts$/.test(p) && !p.includes('/internal/types/'),
    // The monorepo's root install pulls the docs site too; the runtime tests need only these.
    install(dir) {
      const deps = join(dir, '..', `${dir.split('/').pop()}-deps`);
      if (!existsSync(join(deps, 'node_modules', 'vitest'))) {
        mkdirSync(deps, { recursive: true });
        writeFileSync(join(deps, 'package.json'), '{"private":true}\n');
        sh(deps, 'npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', 'vitest@4.1.12', '@fast-check/vitest@0.4.1', 'fast-check@4', 'type-fest@5']);
      }
      const link = join(dir, 'packages', 'remeda', 'node_modules');
      if (!existsSync(link)) symlinkSync(join(deps, 'node_modules'), link);
    },
    runSuite(dir, tests, partial = false) {
      const pkg = join(dir, 'packages', 'remeda');
      const out = join(dir, '..', 'remeda-report.json');
      rmSync(out, { force: true });
      return new Promise((resolve) => {
        // A part of the suite: its files as vitest's filters (paths inside the package).
        const filters = partial ? tests.map((t) => t.slice('packages/remeda/'.length)) : [];
        const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--project', 'runtime', '--reporter=json', `--outputFile=${out}`, ...filters], { cwd: pkg, stdio: 'ignore', env: { ...process.env, CI: '1' } });
        const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
        child.on('close', () => {
          clearTimeout(timer);
          const results = new Map();
          // No report (vitest itself crashed, e.g. its config failed to load): every file failed.
          const report = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : { testResults: [] };
          const byPath = new Map(report.testResults.map((r) => [r.name.slice(dir.length + 1), r.status === 'passed']));
          for (const t of tests) results.set(t, byPath.get(t) ?? false);
          resolve(results);
        });
      });
    },
  },
};
