// One agent of the soak (bench/soak.mjs): a process with its own clone that, for a fixed number
// of rounds, claims a random task, commits to its own branch and to main, pushes with retry and
// releases; sometimes it tries to change a file of another task (a "rogue" push that the hooks
// must refuse when that task is held), and in its first round some agents never release (their
// claims are left to expire). Every action is appended to a JSON-lines journal with its start and
// end time (ms since the epoch), so the soak can check each accepted push against the claims.
// Usage: node soak-agent.mjs <clone> <agent-id> <rounds> <tasks> <seed> <journal> <abandon 0|1>
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [clone, agent, roundsText, tasksText, seedText, journal, abandonText] = process.argv.slice(2);
const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.mjs');
const rounds = Number(roundsText);
const tasks = Number(tasksText);
let seed = Number(seedText) || 1;
const random = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return Math.floor((seed / 2147483648) * n);
};
const env = { ...process.env, AGENT_ID: agent };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: clone, env, encoding: 'utf8' });
  return { exit: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
const git = (...args) => run('git', args);
const cli = (...args) => run(process.execPath, [CLI, ...args]);
const log = (entry) => appendFileSync(journal, `${JSON.stringify({ agent, ...entry })}\n`);

/** Runs `fn`, journals it with its times, returns its result. */
function timed(kind, extra, fn) {
  const t0 = Date.now();
  const r = fn();
  const t1 = Date.now();
  log({ kind, ...extra, t0, t1, exit: r.exit, ...(r.exit !== 0 ? { out: r.out.slice(-600) } : {}) });
  return r;
}

/** A commit on a fresh branch from origin/main that appends a line to `path`. */
function commitOn(branch, path, line) {
  git('fetch', '--quiet', 'origin');
  git('checkout', '--quiet', '-B', branch, 'origin/main');
  const file = join(clone, path);
  writeFileSync(file, `${readFileSync(file, 'utf8')}${line}\n`);
  git('commit', '--quiet', '-am', `${agent}: ${line}`);
}

for (let round = 0; round < rounds; round++) {
  const abandon = abandonText === '1' && round === 0;
  let task;
  for (let attempt = 0; attempt < 4 && task === undefined; attempt++) {
    const candidate = `task-${random(tasks)}`;
    const r = timed('claim', { task: candidate, round }, () => cli('claim', candidate, '--files', `src/${candidate}/**`, '--ttl', abandon ? '60' : '900', '-m', `soak round ${round}`));
    if (r.exit === 0) task = candidate;
  }
  if (task === undefined) continue;

  const own = `refs/heads/agent/${agent}/r${round}`;
  commitOn(`agent/${agent}/r${round}`, `src/${task}/a.txt`, `${agent} round ${round} branch`);
  timed('push', { ref: own, task, paths: [`src/${task}/a.txt`] }, () => cli('push', 'origin', `HEAD:${own}`));

  commitOn('main', `src/${task}/b.txt`, `${agent} round ${round} main`);
  const pushed = timed('push', { ref: 'refs/heads/main', task, paths: [`src/${task}/b.txt`] }, () => cli('push', 'origin', 'HEAD:main'));
  if (pushed.exit !== 0) git('rebase', '--abort');

  if (random(4) === 0) {
    // A rogue change to another task's file, pushed with plain git: the hooks must refuse it
    // whenever another agent holds that task.
    let other = `task-${random(tasks)}`;
    if (other === task) other = `task-${(Number(task.slice(5)) + 1) % tasks}`;
    const rogue = `refs/heads/agent/${agent}/rogue-${round}`;
    commitOn(`agent/${agent}/rogue-${round}`, `src/${other}/a.txt`, `${agent} round ${round} rogue`);
    timed('rogue', { ref: rogue, task: other, paths: [`src/${other}/a.txt`] }, () => git('push', '--quiet', '-o', `agent=${agent}`, 'origin', `HEAD:${rogue}`));
  }

  if (!abandon) timed('release', { task, round }, () => cli('release', task));
}
log({ kind: 'done', t0: Date.now(), t1: Date.now(), exit: 0 });
