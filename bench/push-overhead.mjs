// Push overhead (issue 7, figure 1; issue 18): a 1-commit, 20-file push to a feature branch, and a
// claim push, to the generated repository with agent-hooks (tests off) against a copy without
// hooks, and a bare `node -e 0` beside them (same environment). Interleaved (A B C A B C ...),
// wall-time medians and CPU-time means (user + system of the push and every process it started,
// fixture.mjs childrenCpu) over PAIRS rounds, one run. The overhead is with minus without; the
// issue-18 aim is an overhead of at most 1.5x `node -e 0`. A fourth copy, the floor, has the same
// stubs but an empty pre-receive bundle: what any hook costs that starts node and keeps the sh
// post-receive, before it reads anything. A fifth copy is installed with --resident: its pushes are
// judged by the resident checker, whose own CPU time (from /proc/<pid>/stat) is added to the
// push's. Prints Markdown table rows, the CPU ratio last.
// Run after `npm run build`: node bench/push-overhead.mjs [pairs]
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caVariants, CLI, cloneOf, copyRepo, fmt, generateRepo, git, mean, median, processCpu, ratio, run, timeWithCpu, benchPush, prepareBenchPush } from './fixture.mjs';

const PAIRS = Number(process.argv[2] ?? 15);
const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
const resident = join(root, 'resident.git');
/** The resident checker's pid, or undefined while none runs. */
const checkerPid = () => {
  try {
    return Number(readFileSync(join(resident, 'agent-hooks', 'workers', 'checker.lock', 'pid'), 'utf8')) || undefined;
  } catch {
    return undefined;
  }
};
/** CPU time (ms) the checker and the git processes it started and reaped have used so far (proc(5): utime, stime, cutime, cstime); 0 when none runs. */
const checkerCpu = () => {
  const pid = checkerPid();
  if (pid === undefined) return 0;
  const { own, children } = processCpu(pid);
  return Number.isNaN(own) ? 0 : own + children;
};
try {
  const plain = generateRepo(join(root, 'plain.git'));
  const hooked = copyRepo(plain.path, join(root, 'hooked.git'));
  run(root, process.execPath, [CLI, 'install', hooked]);
  const floor = copyRepo(plain.path, join(root, 'floor.git'));
  run(root, process.execPath, [CLI, 'install', floor]);
  const installed = join(floor, 'hooks', 'agent-hooks');
  for (const version of readdirSync(installed).filter((d) => /^\d/.test(d))) writeFileSync(join(installed, version, 'pre-receive.mjs'), '');
  copyRepo(plain.path, resident);
  run(root, process.execPath, [CLI, 'install', '--resident', resident]);
  const clones = { hooked: cloneOf(hooked, join(root, 'hooked')), plain: cloneOf(plain.path, join(root, 'plain')), floor: cloneOf(floor, join(root, 'floor')), resident: cloneOf(resident, join(root, 'resident')) };
  let round = 0;
  const residentRows = [];
  const prepare = (clone, kind, n) => prepareBenchPush(clone, kind, n, plain.free);
  const push = benchPush;
  for (const [label, env] of caVariants()) {
    for (const kind of ['feature', 'claim']) {
      round++;
      const samples = { hooked: [], plain: [], node: [], floor: [], resident: [] };
      // Interleaved, after two warm-up rounds; preparing each commit is not measured, only the push.
      for (let i = -2; i < PAIRS; i++) {
        for (const side of ['hooked', 'plain', 'node', 'floor', 'resident']) {
          const n = round * 1000 + i + 2;
          if (side !== 'node') prepare(clones[side], kind, n);
          const before = side === 'resident' ? checkerCpu() : 0;
          const t = timeWithCpu(() => (side === 'node' ? run(root, process.execPath, ['-e', '0'], { env }) : push(clones[side], kind, n, env)));
          if (side === 'resident') t.cpu += checkerCpu() - before;
          if (i >= 0) samples[side].push(t);
        }
      }
      const wall = (side) => median(samples[side].map((t) => t.wall));
      const cpu = (side) => mean(samples[side].map((t) => t.cpu));
      const what = kind === 'feature' ? '1 commit, 20 files, feature branch' : '1 lock file, claims ref';
      const [a, b, z] = [wall('hooked'), wall('plain'), wall('node')];
      const [ca, cb, cz] = [cpu('hooked'), cpu('plain'), cpu('node')];
      console.log(`| ${what} | ${label} | ${fmt(a)} | ${fmt(b)} | ${ratio(a, b)} | ${fmt(z)} | ${ratio(a - b, z)} | ${fmt(ca)} / ${fmt(cb)} / ${fmt(cz)} | ${ratio(cpu('floor') - cb, cz)} | ${ratio(ca - cb, cz)} |`);
      const [r, cr] = [wall('resident'), cpu('resident')];
      residentRows.push(`| ${what}, \`install --resident\` | ${label} | ${fmt(r)} | ${fmt(b)} | ${ratio(r, b)} | ${fmt(z)} | ${ratio(r - b, z)} | ${fmt(cr)} / ${fmt(cb)} / ${fmt(cz)} | ${ratio(cpu('floor') - cb, cz)} | ${ratio(cr - cb, cz)} |`);
    }
  }
  for (const row of residentRows) console.log(row);
} finally {
  const pid = checkerPid();
  if (pid) process.kill(pid, 'SIGTERM');
  rmSync(root, { recursive: true, force: true });
}
