// A trace of one push (issue 18): which processes git starts for the hooks of a 20-file push to a
// feature branch and of a claim push, and when, from GIT_TRACE2_EVENT. Each row is a process the
// push started: its start and end in ms after `git push` started, and its argv. Each kind is
// pushed once untraced first, so the trace shows the steady state (the claims cache warm, as
// for every push but the first). Run after `npm run build`: node bench/trace-push.mjs [dist]
// (dist defaults to this checkout's dist/).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cloneOf, generateRepo, git, run } from './fixture.mjs';

const dist = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'dist'));
const root = mkdtempSync(join(tmpdir(), 'agent-hooks-trace-'));

/** Processes of one trace2 event file: sid, argv, start and exit (ms, absolute). */
function processesOf(file) {
  const byId = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line);
    const t = Date.parse(e.time) + (Number(/\.(\d+)Z$/.exec(e.time)?.[1]?.padEnd(6, '0').slice(3, 6) ?? 0) / 1000);
    const p = byId.get(e.sid) ?? byId.set(e.sid, { sid: e.sid }).get(e.sid);
    if (e.event === 'start') Object.assign(p, { argv: e.argv, start: t });
    if (e.event === 'exit' || e.event === 'atexit') p.end = Math.max(p.end ?? 0, t);
    if (e.event === 'child_start') (p.children ??= []).push({ argv: e.argv, cls: e.child_class, start: t, id: e.child_id });
    if (e.event === 'child_exit') {
      const c = p.children?.find((x) => x.id === e.child_id);
      if (c) c.end = t;
    }
  }
  return [...byId.values()];
}

try {
  const base = generateRepo(join(root, 'base.git'));
  run(root, process.execPath, [join(dist, 'cli.mjs'), 'install', base.path]);
  const clone = cloneOf(base.path, join(root, 'clone'));
  for (const [n, kind] of ['feature', 'claim', 'feature', 'claim'].entries()) {
    if (kind === 'feature') {
      git(clone, 'checkout', '--quiet', '-B', 'feature-t', 'origin/main');
      for (const p of base.free.slice(0, 20)) writeFileSync(join(clone, p), `export const traced = ${n};\n`);
    } else {
      git(clone, 'checkout', '--quiet', 'main');
      const lock = { agent: 'bench', started: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), files: [`free/f${n + 1}.ts`] };
      writeFileSync(join(clone, 'current_tasks', `bench-t${n}.json`), `${JSON.stringify(lock)}\n`);
    }
    git(clone, 'add', '-A');
    git(clone, 'commit', '--quiet', '-m', kind);
    const trace = join(root, `${kind}-${n}.json`);
    run(clone, 'git', ['push', '--quiet', '-o', 'agent=bench', 'origin', kind === 'feature' ? '+HEAD:refs/heads/feature-t' : 'HEAD:main'], { env: { ...(n >= 2 ? { GIT_TRACE2_EVENT: trace } : {}), NODE_EXTRA_CA_CERTS: '' } });
    if (n < 2) continue; // the untraced first push of each kind
    const procs = processesOf(trace).filter((p) => p.start !== undefined);
    const t0 = Math.min(...procs.map((p) => p.start));
    const rows = [];
    for (const p of procs) {
      for (const c of p.children ?? []) if (c.cls === 'hook') rows.push({ start: c.start, end: c.end, what: `hook ${c.argv.join(' ')} (from ${p.argv[1]})` });
      if (p.argv[0]?.endsWith('git') && p.sid.split('/').length > 2) rows.push({ start: p.start, end: p.end, what: `git ${p.argv.slice(1).join(' ')}` });
    }
    console.log(`\n${kind} push: processes started during receive-pack (ms after \`git push\` started)`);
    console.log('| start | end | ms | process |');
    console.log('|---|---|---|---|');
    for (const r of rows.sort((a, b) => a.start - b.start)) {
      console.log(`| ${(r.start - t0).toFixed(1)} | ${r.end ? (r.end - t0).toFixed(1) : '?'} | ${r.end ? (r.end - r.start).toFixed(1) : '?'} | ${r.what.replace(/\|/g, '\\|')} |`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
