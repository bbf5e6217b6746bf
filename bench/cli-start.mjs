// Start-up of the agent-hooks command itself, two builds side by side (issue 12/17: the CLI's
// parser went from yargs to a table over node:util parseArgs): `--version`, `claim --help`, and
// a usage error (`clam parser`), interleaved A B A B after a warm-up, medians and the ratio A/B.
//   node bench/cli-start.mjs <old-checkout>/dist dist [pairs]
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { median } from './fixture.mjs';

const [distA, distB, pairsArg] = process.argv.slice(2);
if (!distA || !distB) {
  console.error('usage: node bench/cli-start.mjs <distA> <distB> [pairs]');
  process.exit(2);
}
const PAIRS = Number(pairsArg ?? 21);
const time = (dist, args) => {
  const start = process.hrtime.bigint();
  spawnSync(process.execPath, [join(resolve(dist), 'cli.mjs'), ...args], { encoding: 'utf8' });
  return Number(process.hrtime.bigint() - start) / 1e6;
};
console.log('| command | A ms (median) | B ms (median) | A/B |');
console.log('|---|---|---|---|');
for (const args of [['--version'], ['claim', '--help'], ['clam', 'parser']]) {
  time(distA, args);
  time(distB, args);
  const a = [];
  const b = [];
  for (let i = 0; i < PAIRS; i++) {
    a.push(time(distA, args));
    b.push(time(distB, args));
  }
  console.log(`| agent-hooks ${args.join(' ')} | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} | ${(median(a) / median(b)).toFixed(2)}x |`);
}
