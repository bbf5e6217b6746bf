// One agent of the landing-queue benchmark (bench/queue.mjs): a process with its own clone that
// makes `changes` changes, each a new file on a fresh branch from origin/main, and lands each
// with `agent-hooks push origin HEAD:main` (mode direct) or `agent-hooks land` (mode queue). Every
// change is appended to a JSON-lines journal with its start and end (ms since the epoch) and exit.
// Usage: node queue-agent.mjs <clone> <agent-id> <changes> <direct|queue> <journal>
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [clone, agent, changesText, mode, journal] = process.argv.slice(2);
const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.mjs');
const env = { ...process.env, AGENT_ID: agent };
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: clone, env, encoding: 'utf8' });
  return { exit: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
};
const git = (...args) => run('git', args);

for (let k = 0; k < Number(changesText); k++) {
  const t0 = Date.now();
  git('fetch', '--quiet', 'origin');
  git('checkout', '--quiet', '-B', `work/${agent}`, 'origin/main');
  mkdirSync(join(clone, 'src', agent), { recursive: true });
  writeFileSync(join(clone, 'src', agent, `change-${k}.txt`), `${agent} change ${k}\n`);
  git('add', '-A');
  git('commit', '--quiet', '-m', `${agent}: change ${k}`);
  const r = mode === 'queue' ? run(process.execPath, [CLI, 'land', '--timeout', '900']) : run(process.execPath, [CLI, 'push', 'origin', 'HEAD:main']);
  if (r.exit !== 0 && mode !== 'queue') git('rebase', '--abort');
  appendFileSync(journal, `${JSON.stringify({ agent, k, t0, t1: Date.now(), exit: r.exit, ...(r.exit !== 0 ? { out: r.out.slice(-400) } : {}) })}\n`);
}
writeFileSync(`${journal}.done`, '');
