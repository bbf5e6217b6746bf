// Which selection catches a breaking change (issue 19, "Measure and report"). For each real
// project (projects.mjs): clone it at a pinned commit into a cache dir, install it, plant
// single-line bugs in its sources (mutate.mjs, seeded), find with the FULL suite which test files
// each bug breaks, then ask each selection method (methods.mjs) which files it would run for
// that change. Reports, per method, the share of breaking bugs whose selection holds a failing
// test file and the mean share of test files run. Ground truth is cached per project, commit,
// seed and count, so a second run only re-evaluates the methods.
//
//   node bench/selection/run.mjs [--projects semver,remeda] [--bugs 80] [--seed bench-1]
//     [--agents 10] [--sample 0.1] [--mirrors DIR] [--cache DIR] [--json FILE] [--code DIR] [--write]
// --write: replace the section of bench/RESULTS.md with this run's table. --cached-only: judge
// only the bugs whose ground truth is cached (runs no suite; for a look while a run goes on).
// --no-new: judge only the bugs with a cached full-suite run, confirming their failures (a run
// cut short for time).
// --mirrors DIR: clone from DIR/<owner>+<name>/repo instead of the network; --code DIR: measure
// the selection code of another agent-hooks checkout (default: this one).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import picomatch from 'picomatch';
import { applyBug, plantBugs } from './mutate.mjs';
import { PROJECTS } from './projects.mjs';

const { values: opts } = parseArgs({
  options: {
    projects: { type: 'string', default: Object.keys(PROJECTS).join(',') },
    bugs: { type: 'string', default: '80' },
    seed: { type: 'string', default: 'bench-1' },
    agents: { type: 'string', default: '10' },
    sample: { type: 'string', default: '0.1' },
    mirrors: { type: 'string' },
    cache: { type: 'string', default: join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'agent-hooks-bench', 'selection') },
    json: { type: 'string' },
    code: { type: 'string' },
    write: { type: 'boolean', default: false },
    'cached-only': { type: 'boolean', default: false },
    'no-new': { type: 'boolean', default: false },
  },
});
const SECTION = '## Test selection on real projects (issue 19)';
// Which checkout's selection code is measured (methods.mjs reads it when it loads).
if (opts.code) process.env.AGENT_HOOKS_BENCH_CODE = opts.code;
const BUGS = Number(opts.bugs);
const AGENTS = Array.from({ length: Number(opts.agents) }, (_, i) => `agent-${i + 1}`);
const SAMPLE = Number(opts.sample);
const log = (line) => process.stderr.write(`${line}\n`);

const git = (cwd, ...args) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** Clones (once) and checks out the pinned commit, clean; installs. Returns the work dir. */
function adopt(name, project) {
  const dir = join(opts.cache, name);
  if (!existsSync(join(dir, '.git'))) {
    const source = opts.mirrors ? join(opts.mirrors, project.mirror, 'repo') : project.repo;
    log(`${name}: cloning ${source}`);
    mkdirSync(opts.cache, { recursive: true });
    git(opts.cache, 'clone', '--quiet', '--no-checkout', source, dir);
  }
  git(dir, 'checkout', '--quiet', '--force', '--detach', project.commit);
  git(dir, 'clean', '-q', '-fdx', '-e', 'node_modules');
  log(`${name}: installing`);
  project.install(dir);
  return dir;
}

/**
 * Ground truth: for each bug, the test files that fail with it and pass without it (the
 * baseline). A file that fails once is run again with the bug before it counts ("confirmed"), so
 * a timing test that fails under load is not taken for a bug's victim. Cached per bug.
 */
async function groundTruth(name, project, dir, tests, bugs, baselineFailing) {
  const file = join(opts.cache, `${name}-truth-${project.commit.slice(0, 12)}-${opts.seed}.json`);
  const truth = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  for (const [i, bug] of bugs.entries()) {
    if (opts['cached-only'] || truth[bug.id]?.confirmed || (opts['no-new'] && !truth[bug.id])) continue;
    const path = join(dir, bug.path);
    const original = readFileSync(path, 'utf8');
    writeFileSync(path, applyBug(original, bug));
    const started = Date.now();
    try {
      let failing = truth[bug.id]?.failing;
      if (!failing) {
        const results = await project.runSuite(dir, tests);
        failing = tests.filter((t) => results.get(t) === false && !baselineFailing.has(t));
      }
      const first = failing.length;
      if (failing.length > 0) {
        const again = await project.runSuite(dir, failing, true);
        failing = failing.filter((t) => again.get(t) === false);
      }
      truth[bug.id] = { failing, seconds: truth[bug.id]?.seconds ?? (Date.now() - started) / 1000, confirmed: true, ...(first > failing.length ? { unconfirmed: first - failing.length } : {}) };
      log(`${name}: bug ${i + 1}/${bugs.length} ${bug.id}: ${failing.length} failing file(s)${first > failing.length ? ` (${first - failing.length} more failed once only)` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } finally {
      writeFileSync(path, original);
    }
    writeFileSync(file, JSON.stringify(truth, null, 1));
  }
  return truth;
}

const pct = (x) => `${(100 * x).toFixed(1)}%`;

const { loadMethods } = await import('./methods.mjs');
const methods = await loadMethods();
const report = { sample: SAMPLE, seed: opts.seed, agents: AGENTS.length, projects: {} };
for (const name of opts.projects.split(',')) {
  const project = PROJECTS[name];
  if (!project) throw new Error(`unknown project ${name}; known: ${Object.keys(PROJECTS).join(', ')}`);
  // --cached-only reads git objects only: another run may be planting bugs in the work tree.
  const dir = opts['cached-only'] ? join(opts.cache, name) : adopt(name, project);
  const paths = git(dir, 'ls-tree', '-r', '--name-only', project.commit).split('\n').filter(Boolean);
  const tests = paths.filter(project.isTest);
  const globbed = paths.filter(picomatch(project.testGlobs));
  if (globbed.join() !== tests.join()) throw new Error(`${name}: testGlobs select ${globbed.length} files, isTest ${tests.length}`);
  const sources = paths.filter(project.isSource);
  const baselineFile = join(opts.cache, `${name}-baseline-${project.commit.slice(0, 12)}.json`);
  if (!existsSync(baselineFile)) {
    log(`${name}: running the full suite without bugs (${tests.length} test files)`);
    const started = Date.now();
    const results = await project.runSuite(dir, tests);
    writeFileSync(baselineFile, JSON.stringify({ failing: tests.filter((t) => !results.get(t)), seconds: (Date.now() - started) / 1000 }));
  }
  const baseline = JSON.parse(readFileSync(baselineFile, 'utf8'));
  if (baseline.failing.length > 0) log(`${name}: ${baseline.failing.length} test files fail without any bug; left out: ${baseline.failing.join(', ')}`);
  const texts = sources.map((path) => ({ path, text: git(dir, 'show', `${project.commit}:${path}`) }));
  const bugs = plantBugs(texts, opts.seed, BUGS);
  const truth = await groundTruth(name, project, dir, tests, bugs, new Set(baseline.failing));
  const judged = bugs.filter((b) => truth[b.id]);
  const breaking = judged.filter((b) => truth[b.id].failing.length > 0);
  const rows = {};
  for (const [method, select] of Object.entries(methods)) {
    let caught = 0;
    let share = 0;
    const missed = new Map();
    for (const bug of breaking) {
      const failing = new Set(truth[bug.id].failing);
      for (const seed of AGENTS) {
        const files = await select({ paths, tests, changed: [bug.path], seed, sample: SAMPLE, repoDir: dir, commit: project.commit, testGlobs: project.testGlobs, cacheDir: join(opts.cache, `${name}-state`) });
        if (files.some((f) => failing.has(f))) caught++;
        else missed.set(bug.id, (missed.get(bug.id) ?? 0) + 1);
        share += files.length / tests.length;
      }
    }
    const n = breaking.length * AGENTS.length;
    rows[method] = { caught: caught / n, shareRun: share / n, missedBugs: [...missed.keys()] };
  }
  report.projects[name] = { what: project.what, commit: project.commit, tests: tests.length, sources: sources.length, planted: bugs.length, judged: judged.length, breaking: breaking.length, fullSuiteSeconds: baseline.seconds, methods: rows };
}

if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 1));
const lines = [`| project | test files | bugs judged | breaking | method | breaking bugs caught | mean share of test files run |`, `|---|---|---|---|---|---|---|`];
for (const [name, p] of Object.entries(report.projects)) {
  for (const [method, r] of Object.entries(p.methods)) {
    lines.push(`| ${name} | ${p.tests} | ${p.judged} | ${p.breaking} | ${method} | ${pct(r.caught)} | ${pct(r.shareRun)} |`);
  }
}
const command = `node bench/selection/run.mjs ${process.argv.slice(2).filter((a) => a !== '--write').join(' ')}`.trim();
const section = [
  SECTION,
  '',
  `\`${command}\`, ${new Date().toISOString().slice(0, 10)}. Each project is cloned at a pinned commit (with its history) and installed; ${BUGS} single-line bugs per project are planted by a seeded script (\`mutate.mjs\`: flipped comparisons and booleans, swapped \`&&\`/\`||\`, changed constants, negated conditions, dropped return values), and the project's full suite finds which test files each bug breaks (a bug that breaks none is left out). Each breaking bug is then judged as a push by ${AGENTS.length} agents (agent-1..agent-${AGENTS.length}, the seeds of the hash sample): caught when the method's selection holds a failing test file. Sample ${SAMPLE}. Aim (issue 19): at least 97% caught while running at most 20% of the test files.`,
  '',
  ...Object.entries(report.projects).map(([name, p]) => `- **${name}**: ${p.what}, commit ${p.commit.slice(0, 10)}; ${p.tests} test files, ${p.sources} source files; ${p.planted} bugs planted${p.judged < p.planted ? ` (${p.judged} judged: the run was cut short for time)` : ''}, ${p.breaking} break at least one test file; the full suite takes ${p.fullSuiteSeconds.toFixed(0)} s here.`),
  '',
  ...lines,
  '',
].join('\n');
console.log(section);
if (opts.write) {
  const results = join(import.meta.dirname, '..', 'RESULTS.md');
  const text = readFileSync(results, 'utf8');
  const at = text.indexOf(SECTION);
  const next = at >= 0 ? text.indexOf('\n## ', at + 1) : -1;
  writeFileSync(results, at >= 0 ? `${text.slice(0, at)}${section}${next >= 0 ? text.slice(next) : ''}` : `${text.trimEnd()}\n\n${section}`);
}
