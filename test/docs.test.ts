// The docs that name the code's vocabulary stay complete: every rule a verdict can carry has a row
// in docs/errors.md, and every word of DESIGN.md's "Words" table is in docs/glossary.md.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(resolve(__dirname, '..', path), 'utf8');

describe('docs', () => {
  it('docs/errors.md has a row for every verdict rule', () => {
    const union = /export type Rule =([^;]+);/.exec(read('core/verdict.ts'))?.[1] ?? '';
    const rules = [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!);
    expect(rules.length).toBeGreaterThan(5);
    const doc = read('docs/errors.md');
    expect(rules.filter((r) => !doc.includes(`| \`${r}\` |`))).toEqual([]);
  });

  it('docs/glossary.md defines the words of the README architecture and the contract', () => {
    const glossary = read('docs/glossary.md');
    const words = ['agent', 'ref update', 'quarantine', 'lock file', 'claim', 'lease', 'claims ref', 'pusher', 'policy', 'queue entry', 'batch', 'lander', 'verdict', 'affected test'];
    expect(words.filter((w) => !glossary.includes(`| ${w} |`))).toEqual([]);
  });
});
