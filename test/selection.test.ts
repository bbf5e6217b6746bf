// Affected-first selection (DESIGN.md "Which tests a change runs"): the pure function as tables,
// and the import graph's parsing and resolution against a tree's paths.
import { describe, expect, it } from 'vitest';
import { buildImporters, initImportParser, joinPath, lazyImporters, makeResolver, parseImports, parseTsconfigAliases, reachedByImports } from '../core/imports.js';
import { countCoChanges, formatSelectionCounts, namesMatch, selectTestFiles, stemOf, type SelectionInput } from '../core/selection.js';

const N = 40;
const pad = (i: number) => String(i).padStart(2, '0');
const SRC = Array.from({ length: N }, (_, i) => `src/m${pad(i)}.mjs`);
const TESTS = Array.from({ length: N }, (_, i) => `test/t${pad(i)}.test.mjs`);
const POLICY = { files: ['test/**/*.test.mjs'], sample: 0.1, always: [] as string[] };
/** Each test imports its module (the scenario); test/t00 also imports src/shared.mjs. */
const IMPORTERS = new Map<string, string[]>([...SRC.map((s, i) => [s, [TESTS[i]!]] as [string, string[]]), ['src/shared.mjs', ['src/m05.mjs', 'src/m06.mjs']]]);
const base = (over: Partial<SelectionInput> = {}): SelectionInput => ({ paths: [...SRC, 'src/shared.mjs', ...TESTS], changed: [], seed: 'agent-1', policy: POLICY, importers: IMPORTERS, ...over });
const table = (s: ReturnType<typeof selectTestFiles>) => s.files.map((f) => `${f.path}: ${f.reasons.join(', ')}`);

describe('selectTestFiles', () => {
  it('a change to m27 selects t27 by its import first, then the sample fills to ceil(0.1 x 40)', () => {
    const s = selectTestFiles(base({ changed: ['src/m27.mjs'] }));
    expect(s.files[0]).toEqual({ path: 'test/t27.test.mjs', reasons: ['imports src/m27.mjs'] });
    expect(s.files).toHaveLength(4);
    expect(s.files.slice(1).every((f) => f.reasons.join() === 'sample')).toBe(true);
    expect([s.affected, s.sampled, s.total, s.target]).toEqual([1, 3, 40, 4]);
    expect(formatSelectionCounts(s)).toBe('1 affected, 3 sampled of 40 files, seed agent-1');
  });
  it('follows transitive imports, and names the changed file', () => {
    const s = selectTestFiles(base({ changed: ['src/shared.mjs'] }));
    expect(table(s).slice(0, 2)).toEqual(['test/t05.test.mjs: imports src/shared.mjs', 'test/t06.test.mjs: imports src/shared.mjs']);
  });
  it('orders changed tests, affected, always, then sample; a changed test is not counted twice', () => {
    const s = selectTestFiles(base({ changed: ['test/t03.test.mjs', 'src/m03.mjs', 'src/m09.mjs'], policy: { ...POLICY, always: ['test/t39.test.mjs'] } }));
    expect(table(s).slice(0, 3)).toEqual(['test/t03.test.mjs: changed', 'test/t09.test.mjs: imports src/m09.mjs', 'test/t39.test.mjs: always']);
    expect([s.changed, s.affected, s.always, s.sampled]).toEqual([1, 1, 1, 1]);
  });
  it('is deterministic whatever the order of paths, and the sample differs between seeds', () => {
    const a = selectTestFiles(base());
    expect(selectTestFiles(base({ paths: [...TESTS, ...SRC].reverse() }))).toEqual(a);
    expect(selectTestFiles(base({ seed: 'agent-2' })).files).not.toEqual(a.files);
  });
  it('ranks evidence: import > map > name > failed before > co-change, and cuts at maxAffected', () => {
    const paths = ['src/a/widget.ts', 'test/a/widget.test.ts', 'test/imp.test.ts', 'test/map.test.ts', 'test/fail.test.ts', 'test/co.test.ts', 'test/weak.test.ts', ...Array.from({ length: 14 }, (_, i) => `test/other${i}.test.ts`)];
    const input: SelectionInput = {
      paths,
      changed: ['src/a/widget.ts'],
      seed: 's',
      policy: { files: ['test/**/*.test.ts'], sample: 0.1, always: [], map: { 'src/a/**': ['test/map.test.ts'] } },
      importers: new Map([['src/a/widget.ts', ['test/imp.test.ts']]]),
      failedBefore: new Map([['src/a/widget.ts', new Map([['test/fail.test.ts', 2]])]]),
      coChanges: new Map([['src/a/widget.ts', new Map([['test/co.test.ts', 7], ['test/weak.test.ts', 1]])]]),
    };
    const s = selectTestFiles(input);
    expect(table(s).slice(0, 5)).toEqual(['test/imp.test.ts: imports src/a/widget.ts', 'test/map.test.ts: map', 'test/a/widget.test.ts: name', 'test/fail.test.ts: failed before', 'test/co.test.ts: co-changed 7x']);
    expect(s.files.map((f) => f.path)).not.toContain('test/weak.test.ts'); // one co-change is noise
    const cut = selectTestFiles({ ...input, policy: { ...input.policy, maxAffected: 0.1 } }); // 21 tests: 2 affected at most
    expect(cut.affected).toBe(2);
    expect(cut.cut).toBe(3);
    expect(table(cut).slice(0, 2)).toEqual(['test/imp.test.ts: imports src/a/widget.ts', 'test/map.test.ts: map']);
  });
  it('with no test files selects nothing; with --all selects every one', () => {
    expect(selectTestFiles(base({ paths: SRC, changed: ['src/m01.mjs'] })).files).toEqual([]);
    const all = selectTestFiles(base({ changed: ['src/m01.mjs'], all: true }));
    expect(all.files).toHaveLength(40);
    expect(all.files[0]).toEqual({ path: 'test/t01.test.mjs', reasons: ['imports src/m01.mjs'] });
    expect(all.files[1]!.reasons).toEqual(['all']);
  });
  it('ignores a deleted test file and a map whose key matches nothing changed', () => {
    const s = selectTestFiles(base({ changed: ['test/gone.test.mjs'], policy: { ...POLICY, map: { 'lib/**': ['test/**'] } } }));
    expect(s.changed).toBe(0);
    expect(s.affected).toBe(0);
  });
});

describe('name matching and co-change', () => {
  it.each([
    ['src/a/b.ts', 'test/a/b.test.ts', true],
    ['src/a/b.ts', 'test/b.test.ts', true],
    ['src/a/b.ts', 'test/c/b.test.ts', false],
    ['pkg/x/b.go', 'pkg/x/b_test.go', true],
    ['app/b.py', 'tests/test_b.py', true],
    ['src/b.rs', 'tests/b.rs', true],
    ['src/x/index.ts', 'test/index.test.ts', false],
    ['src/x/index.ts', 'test/x/index.test.ts', true],
    ['src/a/b.ts', 'test/a/bb.test.ts', false],
  ])('namesMatch(%s, %s) is %s', (source, test, expected) => expect(namesMatch(source, test)).toBe(expected));
  it('stemOf', () => expect(['a/b.spec.tsx', 'b_test.go', 'test_b.py', 'b.test.mjs', 'b.ts'].map(stemOf)).toEqual(['b', 'b', 'b', 'b', 'b']));
  it('counts commits that changed a source and a test together, skipping sweeping commits', () => {
    const isTest = (p: string) => p.startsWith('test/');
    const big = Array.from({ length: 101 }, (_, i) => `x${i}`).concat(['src/a.ts', 'test/z.test.ts']);
    const counts = countCoChanges([['src/a.ts', 'test/a.test.ts'], ['src/a.ts', 'test/a.test.ts', 'test/b.test.ts'], ['src/b.ts', 'test/b.test.ts'], big], ['src/a.ts'], isTest);
    expect(counts).toEqual(new Map([['src/a.ts', new Map([['test/a.test.ts', 2], ['test/b.test.ts', 1]])]]));
  });
});

describe('imports', () => {
  it('reads ESM, re-exports, dynamic imports, require and type-only imports; JSX by a text scan', async () => {
    await initImportParser();
    const ts = "import { a } from './a';\nimport type { T } from './t.js';\nexport * from '../b';\nexport { c } from '@/c';\nconst l = () => import('./lazy');\nconst r = require('./old');\nimport './side.css';\nconst x = 1 / 2; // import('./no') in a comment is skipped by the lexer\n";
    expect(parseImports(ts)).toEqual({ specifiers: ['./a', './t.js', '../b', '@/c', './lazy', './side.css', './old'] });
    const jsx = "import React from 'react';\nimport { Button } from './button';\nexport const App = () => <Button label='a / b'>{1 / 2}</Button>;\n";
    const parsed = parseImports(jsx);
    expect(parsed.specifiers).toEqual(['react', './button']);
    expect(parsed.error).toMatch(/Parse error/);
    expect(parseImports('import x from "./x"; const y = 1 +;').specifiers).toEqual(['./x']);
  });
  it('resolves relative paths, extensions, index files, .js written for .ts, and tsconfig aliases', () => {
    const paths = new Set(['src/a.ts', 'src/b/index.tsx', 'src/c.ts', 'src/d.mjs', 'lib/e.js', 'src/util/f.ts', 'pkg/g.cts', 'tsconfig.json']);
    const aliases = [parseTsconfigAliases('tsconfig.json', '{ // comment\n "compilerOptions": { "baseUrl": ".", "paths": { "@/*": ["src/*"], "#lib": ["lib/e.js"] }, },\n}')!];
    const r = makeResolver(paths, aliases);
    expect([
      r.resolve('src/x.ts', './a'),
      r.resolve('src/x.ts', './b'),
      r.resolve('src/x.ts', './c.js'),
      r.resolve('src/x.ts', './d.mjs'),
      r.resolve('src/x.ts', '../lib/e'),
      r.resolve('test/x.ts', '@/util/f'),
      r.resolve('test/x.ts', '#lib'),
      r.resolve('test/x.ts', 'src/a'), // baseUrl
      r.resolve('test/x.ts', '../pkg/g.cjs'),
      r.resolve('src/x.ts', './missing'),
      r.resolve('src/x.ts', 'react'),
      r.resolve('src/x.ts', '../../outside'),
      r.resolve('src/x.ts', 'node:fs'),
    ]).toEqual(['src/a.ts', 'src/b/index.tsx', 'src/c.ts', 'src/d.mjs', 'lib/e.js', 'src/util/f.ts', 'lib/e.js', 'src/a.ts', 'pkg/g.cts', undefined, undefined, undefined, undefined]);
    expect(joinPath('a/b', '../../..')).toBeUndefined();
    // The on-demand reverse edges give the same answers as the full ones.
    const imports = new Map<string, string[]>([['test/x.ts', ['#lib', '@/util/f', '../src/b', './missing']], ['src/c.ts', ['./a.js', '.']], ['src/b/index.tsx', ['..//c']]]);
    const full = buildImporters(imports, r);
    const lazy = lazyImporters(imports, r);
    for (const p of paths) expect([p, [...(lazy.get(p) ?? [])].sort()]).toEqual([p, [...(full.get(p) ?? [])].sort()]);
    expect(lazy.get('lib/e.js')).toEqual(['test/x.ts']);
    expect(parseTsconfigAliases('tsconfig.json', '{ not json')).toBeUndefined();
  });
  it('walks reverse edges transitively and ends on import cycles', () => {
    const r = makeResolver(new Set(['a.ts', 'b.ts', 'c.ts', 't.test.ts']));
    const importers = buildImporters(new Map([['a.ts', ['./b']], ['b.ts', ['./a', './c']], ['t.test.ts', ['./a', './missing']]]), r);
    expect(reachedByImports(['c.ts'], importers)).toEqual(new Map([['b.ts', { source: 'c.ts', depth: 1 }], ['a.ts', { source: 'c.ts', depth: 2 }], ['t.test.ts', { source: 'c.ts', depth: 3 }]]));
  });
});

describe('hostile sources', () => {
  it('the text scan stays linear: 1 MB built to make a lazy regex backtrack is read at once', async () => {
    await initImportParser();
    // A syntax error sends each file to the text scan; each used to cost O(n^2) there.
    for (const text of ['import '.repeat(140_000) + '(', 'export x from '.repeat(70_000) + '(', "import \"x'".repeat(100_000), "require('x\"".repeat(90_000)]) {
      const started = process.hrtime.bigint();
      const parsed = parseImports(text);
      expect(parsed.error).toBeDefined();
      // Not a timing assertion of the suite: a quadratic scan takes minutes here, a linear one milliseconds.
      expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(20);
    }
  });
  it('a tsconfig.json nested a million deep is ignored, not a crash', () => {
    expect(parseTsconfigAliases('tsconfig.json', '['.repeat(1_000_000))).toBeUndefined();
    expect(parseTsconfigAliases('tsconfig.json', `{"compilerOptions":{"paths":${'['.repeat(200_000)}}}`)).toBeUndefined();
  });
  it('specifiers cannot name a path outside the tree or an absolute one', () => {
    const r = makeResolver(new Set(['etc/passwd', 'a.ts']));
    expect(['../etc/passwd', '/etc/passwd', '../../a', 'file:///etc/passwd', './a/../../a'].map((s) => r.resolve('src/x.ts', s))).toEqual(['etc/passwd', undefined, undefined, undefined, 'a.ts']);
  });
});
