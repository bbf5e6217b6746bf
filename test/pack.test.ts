// The package as users get it: `npm pack`, then `npx`-style execution of the tarball into a
// fresh bare repo, then real pushes, after the npx cache is gone.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloneAs, commit, fixtureEnv, lockText, push, ROOT, tempDir } from './helpers/git.js';

describe('npm pack tarball', () => {
  it('installs with npm exec (npx) and keeps working after the npx cache is cleaned', { timeout: 180_000 }, () => {
    const dir = tempDir();
    const cache = join(dir, 'npm-cache');
    // dist/ is built by `npm test` before vitest runs; --ignore-scripts keeps pack from rebuilding
    // it under the feet of the test files running beside this one.
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', env: fixtureEnv() });
    expect(pack.status, pack.stderr).toBe(0);
    const [{ filename, files }] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path).sort();
    expect(paths).toEqual(expect.arrayContaining(['README.md', 'dist/cli.mjs', 'dist/hooks/notify-sender.mjs', 'dist/hooks/pre-receive.mjs', 'package.json', 'schema/lock-file.schema.json', 'schema/policy.schema.json']));
    expect(paths.some((p) => /^(core|test|hooks|installer|shim)\//.test(p))).toBe(false);

    // The README's user path is this one: pack, then npx -p the tarball, install --create.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`npx -p ./${filename} agent-hooks --help`);
    expect(readme).toContain('agent-hooks install --create path/to/upstream.git');
    const upstream = join(dir, 'upstream.git');
    const npx = spawnSync('npm', ['exec', '--yes', `--package=${join(dir, filename)}`, '--', 'agent-hooks', 'install', '--create', upstream], {
      cwd: dir,
      encoding: 'utf8',
      env: fixtureEnv({ npm_config_cache: cache, npm_config_update_notifier: 'false' }),
    });
    expect(npx.status, npx.stderr).toBe(0);
    expect(npx.stdout).toMatch(/agent-hooks 0\.1\.0 installed in /);
    rmSync(cache, { recursive: true, force: true });

    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'README.md': '# x\n', 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/**'] }) });
    expect(push(a)).toMatchObject({ exitCode: 0, errors: [] });
    const b = cloneAs(upstream, 'agent-2');
    commit(b, { 'current_tasks/parser.txt': null });
    const rejected = push(b);
    expect(rejected.exitCode).toBe(1);
    expect(rejected.errors).toEqual([expect.stringMatching(/^ERROR: refs\/heads\/main: current_tasks\/parser\.txt: removes the active claim of task parser held by agent-1 until /)]);
  });
});
