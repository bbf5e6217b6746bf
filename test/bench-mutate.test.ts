// The selection bench's bug planter (bench/selection/mutate.mjs): deterministic per seed, one
// bug per line, never in comments or strings, and applying a bug checks the line it expects.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs bench module without types
import { applyBug, candidatesOf, plantBugs } from '../bench/selection/mutate.mjs';

const SOURCE = `// if (a === b) in a comment
/* block
   return x; */
export function f(a, b) {
  if (a === b) return true;
  const s = "a === b";
  return a < b && b > 0;
}
`;

describe('planting bugs', () => {
  it('finds candidates in code only, never in comments or strings', () => {
    const found = candidatesOf('src/f.js', SOURCE) as { line: number; operator: string; after: string }[];
    expect(found.every((c) => c.line >= 4)).toBe(true);
    expect(found.some((c) => c.line === 6)).toBe(false);
    expect(found.map((c) => `${c.line} ${c.operator}`)).toEqual(expect.arrayContaining(['5 flip ===', '5 swap true', '5 negate if', '7 flip <', '7 flip >', '7 swap &&', '7 constant 0 to 1']));
  });
  it('is deterministic per seed, one bug per line, and a different seed plants different bugs', () => {
    const files = Array.from({ length: 10 }, (_, i) => ({ path: `src/f${i}.js`, text: SOURCE }));
    const a = plantBugs(files, 'seed-1', 12);
    expect(plantBugs([...files].reverse(), 'seed-1', 12)).toEqual(a);
    expect(new Set(a.map((b: { path: string; line: number }) => `${b.path}:${b.line}`)).size).toBe(a.length);
    expect(plantBugs(files, 'seed-2', 12)).not.toEqual(a);
  });
  it('applies a bug to its line, and refuses a file that changed', () => {
    const [bug] = plantBugs([{ path: 'src/f.js', text: SOURCE }], 'x', 1);
    expect(applyBug(SOURCE, bug).split('\n')[bug.line - 1]).toBe(bug.after);
    expect(() => applyBug(SOURCE.replace('a === b) return', 'a == b) return').replace('a < b', 'a<b'), bug)).toThrow(/is not what was planned/);
  });
});
