// Affected-first selection with real pushes (issue 19, DESIGN.md "Which tests a change runs"):
// the issue's 40-module scenario, transitive imports, TS path aliases, `test --fast --list
// [--json]`, and the bad inputs (unparsable files, symlinks, huge files, a corrupt cache, an
// invalid test.map, bounded history, no tests).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../core/policy.js';
import { selectTests } from '../core/sampling.js';
import { readImportGraph, readImportsIndex, readRecentCommits, readTreeFiles } from '../server/test-evidence.js';
import { cli, cloneAs, commit, git, makeUpstream, push, tempDir, type FileChange } from './helpers/git.js';

const pad = (i: number) => String(i).padStart(2, '0');
const TESTS = Array.from({ length: 40 }, (_, i) => `test/t${pad(i)}.test.mjs`);
const POLICY = { command: ['node', '--test', '{files}'], files: ['test/**/*.test.mjs'], sample: 0.1, always: [], timeout: 60 };

/** The repo: src/mNN.mjs, each tested by test/tNN.test.mjs that imports it; t05 also imports src/lib.mjs. */
function modules(policy: Record<string, unknown> = {}): Record<string, FileChange> {
  const files: Record<string, FileChange> = {
    'agent-hooks.json': JSON.stringify({ test: { ...POLICY, ...policy } }),
    'package.json': '{"type":"module"}\n',
    'src/lib.mjs': "export { f as g } from './m27.mjs';\n",
  };
  for (let i = 0; i < 40; i++) {
    files[`src/m${pad(i)}.mjs`] = `export const f = (x) => x + ${i};\n`;
    const extra = i === 5 ? "import { g } from '../src/lib.mjs';\ntest('lib', () => assert.equal(g(1), 28));\n" : '';
    files[`test/t${pad(i)}.test.mjs`] = `import test from 'node:test';\nimport assert from 'node:assert';\nimport { f } from '../src/m${pad(i)}.mjs';\n${extra}test('m${pad(i)} adds ${i}', () => assert.equal(f(1), ${i + 1}));\n`;
  }
  return files;
}

function project(agent: string, policy: Record<string, unknown> = {}) {
  const upstream = makeUpstream();
  const a = cloneAs(upstream, agent);
  commit(a, modules(policy), 'project');
  expect(push(a).exitCode).toBe(0);
  return { upstream, a };
}

/** An agent whose hash sample does not hold these test files (so only evidence can select them). */
const seedMissing = (files: string[]) => Array.from({ length: 100 }, (_, i) => `agent-${i}`).find((s) => files.every((f) => !selectTests(TESTS, POLICY, s, []).files.includes(f)))!;

const listJson = (clone: string, agent: string) => {
  const r = cli(['test', '--fast', '--list', '--json', '--agent', agent], { cwd: clone });
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { seed: string; total: number; files: { path: string; reasons: string[] }[] };
};

describe('affected-first selection in pre-receive', () => {
  it("the issue's scenario: breaking src/m27.mjs selects t27 (and t05 through src/lib.mjs) by imports, and the push is rejected", () => {
    const agent = seedMissing(['test/t27.test.mjs', 'test/t05.test.mjs']);
    const { a } = project(agent);
    commit(a, { 'src/m27.mjs': 'export const f = () => -1;\n' }, 'break m27');
    const listed = listJson(a, agent);
    expect(listed.seed).toBe(agent);
    expect(listed.total).toBe(40);
    expect(listed.files.slice(0, 2)).toEqual([
      { path: 'test/t27.test.mjs', reasons: ['imports src/m27.mjs'] },
      { path: 'test/t05.test.mjs', reasons: ['imports src/m27.mjs'] },
    ]);
    expect(listed.files.slice(2).map((f) => f.reasons)).toEqual([['sample'], ['sample']]);
    const r = push(a);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`remote: Tests: failed with exit code 1 \\(4 files\\) \\(2 affected, 2 sampled of 40 files, seed ${agent}\\)`));
    expect(r.errors.join('\n')).toMatch(/m27 adds 27/);
    expect(r.errors.join('\n')).toMatch(/lib/);
  });

  it('--list shows each reason; a docs change runs only the sample; test.map and a changed test file come first', () => {
    const agent = seedMissing(['test/t10.test.mjs', 'test/t11.test.mjs', 'test/t12.test.mjs']);
    const { a } = project(agent, { map: { 'docs/**': ['test/t1{0,1}.test.mjs'] } });
    commit(a, { 'README.md': 'docs\n' });
    const plain = cli(['test', '--fast', '--list', '--agent', agent], { cwd: a });
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout.trim().split('\n')).toHaveLength(5);
    expect(plain.stdout).toMatch(new RegExp(`^0 affected, 4 sampled of 40 files, seed ${agent}$`, 'm'));
    commit(a, { 'docs/guide.md': 'guide\n', 'test/t12.test.mjs': "import test from 'node:test';\ntest('new', () => {});\n" });
    const lines = cli(['test', '--fast', '--list', '--agent', agent], { cwd: a }).stdout.trim().split('\n');
    expect(lines.slice(0, 3).map((l) => l.replace(/ +/g, ' '))).toEqual(['test/t12.test.mjs changed', 'test/t10.test.mjs map', 'test/t11.test.mjs map']);
    expect(lines.at(-1)).toBe(`1 changed, 2 affected, 1 sampled of 40 files, seed ${agent}`);
    const r = push(a);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`remote: Tests: 4/4 passed \\(1 changed, 2 affected, 1 sampled of 40 files, seed ${agent}\\)`));
  });

  it('follows a TypeScript path alias, a .js name written for a .ts file, an index file and a symlink', () => {
    const upstream = makeUpstream();
    const a = cloneAs(upstream, 'agent-1');
    const tsTests = Array.from({ length: 20 }, (_, i) => [`test/u${pad(i)}.test.ts`, `import { x } from '../src/u${pad(i)}.js';\n`] as const);
    commit(a, {
      'agent-hooks.json': JSON.stringify({ test: { ...POLICY, files: ['test/**/*.test.ts'], sample: 0.05 } }),
      'tsconfig.json': '{\n  // aliases\n  "compilerOptions": { "baseUrl": ".", "paths": { "@core/*": ["src/core/*"] } },\n}\n',
      'src/core/parser/index.ts': 'export const parse = (s: string): string => s;\n',
      'src/core/linked.ts': { symlink: 'parser/index.ts' },
      'test/alias.test.ts': "import { parse } from '@core/parser';\nexport const t = parse('x');\n",
      'test/link.test.ts': "import '../src/core/linked';\n",
      ...Object.fromEntries(tsTests.map(([p, text]) => [p, text])),
      ...Object.fromEntries(tsTests.map((_, i) => [`src/u${pad(i)}.ts`, `export const x: number = ${i};\n`])),
    });
    expect(push(a).exitCode).toBe(0);
    commit(a, { 'src/core/parser/index.ts': 'export const parse = (s: string): string => s + s;\n', 'src/u07.ts': 'export const x: number = -7;\n' });
    const listed = listJson(a, 'agent-1');
    const reasons = Object.fromEntries(listed.files.map((f) => [f.path, f.reasons]));
    expect(reasons['test/alias.test.ts']).toEqual(['imports src/core/parser/index.ts']);
    expect(reasons['test/link.test.ts']).toEqual(['imports src/core/parser/index.ts']);
    expect(reasons['test/u07.test.ts']).toEqual(['imports src/u07.ts', 'name']);
  });
});

describe('bad input', () => {
  it('a test file that cannot be parsed falls back (said once), a huge generated file is skipped, a corrupt cache is ignored', () => {
    const agent = 'agent-1';
    const { upstream, a } = project(agent);
    const huge = `export const blob = ${JSON.stringify('x'.repeat(2 * 1024 * 1024))};\nimport './m01.mjs';\n`;
    commit(a, {
      'test/jsx.test.mjs': "import { f } from '../src/m03.mjs';\nconst el = <div>{f(1) / 2}</div>;\n",
      'src/generated.mjs': huge,
      'src/m03.mjs': 'export const f = (x) => x + 3; // touched\n',
    });
    mkdirSync(join(upstream, 'agent-hooks'), { recursive: true });
    writeFileSync(join(upstream, 'agent-hooks', 'imports-index'), `agent-hooks imports-index 1\nnot-an-oid\tsrc/m03.mjs\t-\n${'0'.repeat(40)}\ttest/t03.test.mjs\t-\t./x\n\u0000\u0001garbage`);
    const list = cli(['test', '--fast', '--list', '--agent', agent], { cwd: a });
    expect(list.exitCode, list.stderr).toBe(0);
    const notes = list.stdout.split('\n').filter((l) => l.startsWith('NOTE: '));
    expect(notes.filter((l) => l.includes('test/jsx.test.mjs'))).toHaveLength(1);
    expect(notes.join('\n')).toMatch(/test\/jsx\.test\.mjs: cannot parse .*text scan, with name and history/);
    expect(notes.join('\n')).toMatch(/1 changed file\(s\) over 1048576 bytes not parsed for imports \(src\/generated\.mjs\)/);
    expect(list.stdout).toMatch(/^test\/jsx\.test\.mjs +changed$/m);
    expect(list.stdout).toMatch(/^test\/t03\.test\.mjs +imports src\/m03\.mjs$/m);
    // The server reads the same tree with the corrupt cache in place, and rewrites it whole.
    const r = push(a);
    expect(r.stderr).toMatch(/remote: NOTE: test\/jsx\.test\.mjs: cannot parse/);
    expect(r.stderr).toMatch(/remote: Tests: failed .*\(1 changed, 1 affected, 3 sampled of 41 files/);
    const cache = readImportsIndex(join(upstream, 'agent-hooks', 'imports-index'));
    expect(cache.get('test/t03.test.mjs')?.specifiers).toEqual(['node:test', 'node:assert', '../src/m03.mjs']);
    expect(cache.get('test/jsx.test.mjs')?.error).toMatch(/Parse error/);
    expect(cache.get('src/generated.mjs')).toMatchObject({ large: true, specifiers: [] }); // never parsed
    expect(readFileSync(join(upstream, 'agent-hooks', 'imports-index'), 'utf8')).not.toMatch(/garbage|not-an-oid/);
  });

  it('the imports cache: a second read of a tree parses only the files whose blob changed; no cache dir parses all', async () => {
    const { a } = project('agent-1');
    const state = tempDir();
    const first = await readImportGraph(readTreeFiles('HEAD', { cwd: a }), { cwd: a }, state);
    expect([first.parsed, first.cached]).toEqual([81, 0]); // 40 modules, 40 tests, src/lib.mjs
    commit(a, { 'src/m01.mjs': 'export const f = (x) => x + 1; // edited\n', 'src/m02.mjs': 'export const f = (x) => x + 2; // edited\n' });
    const second = await readImportGraph(readTreeFiles('HEAD', { cwd: a }), { cwd: a }, state);
    expect([second.parsed, second.cached]).toEqual([2, 79]);
    expect(second.importers.get('src/m01.mjs')).toEqual(['test/t01.test.mjs']);
    expect((await readImportGraph(readTreeFiles('HEAD', { cwd: a }), { cwd: a })).parsed).toBe(81);
  });

  it('a failure is remembered: the next change of the same file selects the test that failed ("failed before")', () => {
    const agent = seedMissing(['test/t09.test.mjs']);
    const { upstream, a } = project(agent);
    // src/m20.mjs breaks test t09 through a global; no import, name or history links them.
    commit(a, { 'src/m20.mjs': 'export const f = (x) => x + 20;\nglobalThis.__broken = true;\n', 'test/t09.test.mjs': "import test from 'node:test';\nimport assert from 'node:assert';\nimport '../src/m20.mjs';\ntest('t09', () => assert.equal(globalThis.__broken, undefined));\n" });
    const first = push(a);
    expect(first.exitCode, first.stderr).toBe(1); // t09 is changed, so it runs and fails
    expect(JSON.parse(readFileSync(join(upstream, 'agent-hooks', 'failed-before.json'), 'utf8'))).toEqual({ 'src/m20.mjs': { 'test/t09.test.mjs': 1 } });
    git(a, ['reset', '--quiet', '--hard', 'HEAD~1']);
    commit(a, { 'src/m20.mjs': 'export const f = (x) => x + 20; // again\n' });
    const listed = listJson(a, agent); // the client keeps no failures: its selection lacks t09
    expect(listed.files.map((f) => f.path)).not.toContain('test/t09.test.mjs');
    const second = push(a);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/remote: Tests: 4\/4 passed \(2 affected, 2 sampled of 40 files/);
    const ran = readFileSync(/remote: log: (\S+)/.exec(second.stderr)![1]!, 'utf8').split('\n')[0]!;
    expect(ran).toMatch(/^\$ node --test test\/t20\.test\.mjs test\/t09\.test\.mjs /);
  });

  it('rejects an invalid test.map naming the key; history is bounded; no tests matching test.files lists none', () => {
    const bad = parsePolicy(JSON.stringify({ test: { ...POLICY, map: { 'src/[': ['test/**'], 'src/**': [] } } }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems).toEqual([expect.stringMatching(/^test\.map: key "src\/\[" is not a valid glob|^test\.map: "src\/\*\*" must map to a non-empty array/)]);
    const bad2 = parsePolicy(JSON.stringify({ test: { ...POLICY, map: { 'src/**': ['../up/**'] }, maxAffected: 2, history: -1 } }));
    expect(bad2.ok ? [] : bad2.problems).toEqual(['test.map: glob "../up/**" of "src/**" must not contain ".."', 'test.maxAffected: must be a number greater than 0 and at most 1', 'test.history: must be a whole number of commits from 0 to 100000']);

    const upstream = makeUpstream();
    const a = cloneAs(upstream, 'agent-1');
    for (let i = 0; i < 12; i++) commit(a, { [`src/n${i}.mjs`]: `${i}\n` }, `c${i}`);
    expect(readRecentCommits('HEAD', 5, { cwd: a })).toEqual([['src/n11.mjs'], ['src/n10.mjs'], ['src/n9.mjs'], ['src/n8.mjs'], ['src/n7.mjs']]);
    expect(readRecentCommits('HEAD', 0, { cwd: a })).toEqual([]);
    // Kept between pushes: a later tip reads only its new commits, with the same answer.
    const state = tempDir();
    const oid = (rev: string) => git(a, ['rev-parse', rev]).stdout.trim();
    expect(readRecentCommits(oid('HEAD~3'), 5, { cwd: a }, state)).toEqual(readRecentCommits(oid('HEAD~3'), 5, { cwd: a }));
    expect(readFileSync(join(state, 'history-cache'), 'utf8')).toContain(oid('HEAD~3'));
    expect(readRecentCommits(oid('HEAD'), 5, { cwd: a }, state)).toEqual(readRecentCommits('HEAD', 5, { cwd: a }));
    writeFileSync(join(state, 'history-cache'), 'garbage');
    expect(readRecentCommits(oid('HEAD'), 5, { cwd: a }, state)).toEqual(readRecentCommits('HEAD', 5, { cwd: a }));
    commit(a, { 'agent-hooks.json': JSON.stringify({ test: { ...POLICY, files: ['spec/**'] } }) });
    expect(push(a).exitCode).toBe(0);
    commit(a, { 'src/n1.mjs': 'changed\n' });
    expect(cli(['test', '--fast', '--list'], { cwd: a }).stdout.trim()).toBe('no test files match spec/**');
    expect(JSON.parse(cli(['test', '--fast', '--list', '--json'], { cwd: a }).stdout)).toEqual({ seed: 'agent-1', total: 0, files: [] });
    const r = push(a);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/remote: Tests: none \(no file matches test\.files spec\/\*\*\)/);
  });
});
