// Issue 13 items 11 and 17: what the glob limits buy and what case-variant matching costs.
// 1. A ReDoS glob (`gen/**/` then N `*?`) against one 34-character path: raw picomatch (what
//    matching did before) against compilePattern (now: over the cost limit, judged by its base).
// 2. Rule 5's lookup on 10,000 paths x 300 globs (the lease-match fixture): match() alone against
//    match() plus matchCaseVariants() (the case-variant pass added for item 17).
// Interleaved runs, medians.
import picomatch from 'picomatch';
import { compilePattern } from '../core/glob.js';
import { LeaseTable, leasesOf } from '../core/lease.js';
import { claims, exempt, NOW, paths } from './lease-fixture.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (fn: () => unknown) => {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
};

const path = `gen/${'a'.repeat(27)}.ts`;
for (const n of [6, 8, 10]) {
  const glob = `gen/**/${'*?'.repeat(n)}x`;
  const raw: number[] = [];
  const bounded: number[] = [];
  for (let i = 0; i < 5; i++) {
    raw.push(time(() => picomatch(glob, { dot: true, flags: 's' })(path)));
    bounded.push(time(() => compilePattern(glob)(path)));
  }
  console.log(`| ${glob} on a ${path.length}-character path | ${median(raw).toFixed(1)} | ${median(bounded).toFixed(3)} | ${(median(raw) / median(bounded)).toFixed(0)}x |`);
}

const exact: number[] = [];
const withVariants: number[] = [];
for (let i = 0; i < 15; i++) {
  exact.push(time(() => {
    const table = new LeaseTable(leasesOf(claims, NOW), exempt);
    for (const p of paths) table.match(p);
  }));
  withVariants.push(time(() => {
    const table = new LeaseTable(leasesOf(claims, NOW), exempt);
    for (const p of paths) if (table.match(p).length === 0) table.matchCaseVariants(p);
  }));
}
console.log(`| 10,000 paths x 300 globs: match + matchCaseVariants vs match | ${median(withVariants).toFixed(1)} | ${median(exact).toFixed(1)} | ${(median(withVariants) / median(exact)).toFixed(2)}x |`);
