// Matching 10,000 paths against a lease table of 300 globs (100 claims): LeaseTable (compiled
// once, bucketed by literal base directory) against the naive loop (every path against every
// compiled picomatch matcher). Interleaved runs, medians, ratio in one run.
import picomatch from 'picomatch';
import { LeaseTable, leasesOf } from '../core/lease.js';
import { claims, exempt, NOW, paths } from './lease-fixture.js';

const RUNS = Number(process.argv[2] ?? 15);

function ours(): number {
  const table = new LeaseTable(leasesOf(claims, NOW), exempt);
  let hits = 0;
  for (const p of paths) hits += table.match(p).length;
  return hits;
}

function naive(): number {
  const matchers = claims.flatMap((c) => c.lock.files.map((g) => picomatch(g, { dot: true })));
  const exempts = exempt.map((g) => picomatch(g, { dot: true }));
  let hits = 0;
  for (const p of paths) {
    if (exempts.some((m) => m(p))) continue;
    for (const m of matchers) if (m(p)) hits++;
  }
  return hits;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (fn: () => number) => {
  const start = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
};
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const x = time(ours);
  const y = time(naive);
  if (x.result !== y.result) throw new Error(`results differ: ${x.result} vs ${y.result}`);
  a.push(x.ms);
  b.push(y.ms);
}
console.log(`| 10,000 paths x 300 globs (100 claims), compile + match | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} | ${(median(a) / median(b)).toFixed(2)}x |`);
