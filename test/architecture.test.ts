// The house's floors (README "Architecture"): core < git < server < hooks, commands <
// front, installer. An import may go to the same floor or a lower one, never up, and never
// around a circle; the pure core touches neither the disk nor processes. Imports are read with
// TypeScript's own pre-processor, so comments and strings that look like imports do not count.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');

/** Floor of each folder; a higher number is a higher floor. */
const FLOORS: Record<string, number> = { core: 0, git: 1, server: 2, hooks: 3, commands: 3, front: 4, installer: 4 };

/** Modules the pure core must never import (STYLE.md: "the pure policy core never imports node:fs or node:child_process"). */
const IMPURE = /^node:(fs|child_process|net|http|https)(\/|$)|^(fs|child_process)$/;

function sourceFiles(): string[] {
  return Object.keys(FLOORS).flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(dir, f)),
  );
}

/** Every import of a file (static, dynamic with a literal, type-only, re-exports): specifiers as written. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** A relative specifier resolved to a repository path (`../core/x.js` -> `core/x.ts`), else undefined. */
function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return relative(root, resolve(root, dirname(from), spec)).replace(/\.js$/, '.ts');
}

const floorOf = (file: string) => FLOORS[file.split('/')[0]!];

/** Import edges between our own modules: file -> files it imports. */
function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of sourceFiles()) edges.set(file, importsOf(file).map((s) => resolveLocal(file, s)).filter((t): t is string => t !== undefined && floorOf(t) !== undefined));
  return edges;
}

/** Every circle in a graph, each as the list of files around it (Tarjan's strongly connected components of size > 1, or a self-import). */
function circlesOf(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) circles.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return circles;
}

/** Arrows that run from a lower floor to a higher one, as `from -> to` lines. */
function upwardArrowsOf(edges: ReadonlyMap<string, readonly string[]>): string[] {
  return [...edges].flatMap(([from, tos]) => tos.filter((to) => floorOf(to)! > floorOf(from)!).map((to) => `${from} -> ${to}`));
}

describe('the architecture', () => {
  const edges = graph();

  it('reads a real import graph', () => {
    // Guards the walk itself: were the parser or the resolution broken, every other check would pass on nothing.
    expect(edges.size).toBeGreaterThan(40);
    expect(edges.get('hooks/judge-push.ts')).toContain('core/push-rules.ts');
  });

  it('has no import circle', () => {
    expect(circlesOf(edges)).toEqual([]);
  });

  it('has no arrow from a lower floor to a higher one', () => {
    expect(upwardArrowsOf(edges)).toEqual([]);
  });

  it('keeps the core pure: no disk, no processes, no network', () => {
    const impure = [...edges.keys()].filter((f) => f.startsWith('core/')).flatMap((f) => importsOf(f).filter((s) => IMPURE.test(s)).map((s) => `${f} imports ${s}`));
    expect(impure).toEqual([]);
  });

  it('finds a circle and an upward arrow when there is one', () => {
    // The checks above must be able to fail: a made-up graph with both faults.
    const bad = new Map([
      ['core/a.ts', ['core/b.ts']],
      ['core/b.ts', ['core/a.ts', 'server/x.ts']],
      ['server/x.ts', []],
    ]);
    expect(circlesOf(bad)).toEqual([['core/a.ts', 'core/b.ts']]);
    expect(upwardArrowsOf(bad)).toEqual(['core/b.ts -> server/x.ts']);
  });
});
