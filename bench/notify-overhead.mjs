// A push with notifications on and Slack hanging, against the same push with notifications off
// (same bare repo setup, interleaved, medians): post-receive must not wait for Slack.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PAIRS = Number(process.argv[2] ?? 15);
const CLI = resolve(import.meta.dirname, '..', 'dist', 'cli.mjs');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
Object.assign(env, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', NODE_EXTRA_CA_CERTS: '' });
const run = (cwd, cmd, args) => {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// A Slack that never answers, in a child process so that this one may block on pushes.
const slack = spawn(process.execPath, ['-e', "require('http').createServer(() => {}).listen(0, '127.0.0.1', function () { console.log(this.address().port) })"], { stdio: ['ignore', 'pipe', 'ignore'] });
const port = await new Promise((r) => slack.stdout.once('data', (d) => r(Number(String(d).trim()))));

const root = mkdtempSync(join(tmpdir(), 'agent-hooks-bench-'));
try {
  const clones = {};
  for (const name of ['on', 'off']) {
    const upstream = join(root, `${name}.git`);
    run(root, process.execPath, [CLI, 'install', '--create', upstream]);
    if (name === 'on') run(upstream, 'git', ['config', 'agenthooks.slack.webhookUrl', `http://127.0.0.1:${port}/services/T/B/X`]);
    const clone = join(root, name);
    run(root, 'git', ['clone', '--quiet', upstream, clone]);
    for (const [k, v] of [['user.name', 'agent-1'], ['user.email', 'a@x']]) run(clone, 'git', ['config', k, v]);
    clones[name] = clone;
  }
  const times = { on: [], off: [] };
  for (let i = 0; i < PAIRS; i++) {
    for (const name of ['on', 'off']) {
      writeFileSync(join(clones[name], 'f.txt'), `${i}\n`);
      run(clones[name], 'git', ['add', '-A']);
      run(clones[name], 'git', ['commit', '--quiet', '-m', `round ${i}`]);
      const start = process.hrtime.bigint();
      run(clones[name], 'git', ['push', '--quiet', 'origin', 'HEAD:main']);
      times[name].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  console.log(`| push with notifications on and Slack hanging vs notifications off | ${median(times.on).toFixed(1)} | ${median(times.off).toFixed(1)} | ${(median(times.on) / median(times.off)).toFixed(2)}x |`);
} finally {
  slack.kill();
  spawnSync('pkill', ['-f', `${root}/on.git`]);
  rmSync(root, { recursive: true, force: true });
}
