// Makes docs/dashboard.png: three agents at work against a fresh bare repo, through real pushes
// and the built CLI (claims, a push that passes the sampled tests, a queue entry, a push refused
// for touching another agent's lease), then `agent-hooks serve` photographed by Debian's
// chromium (playwright-core, no browser download).
//
//   npm run build && node docs/dashboard-screenshot.mjs
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.mjs');
const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_'))), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

function run(cwd, cmd, args, allowFail = false) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r;
}
const git = (cwd, ...args) => run(cwd, 'git', args);
const ah = (cwd, ...args) => run(cwd, process.execPath, [CLI, ...args]);
function write(clone, files) {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(clone, path)), { recursive: true });
    writeFileSync(join(clone, path), text);
  }
}
function commit(clone, files, message) {
  write(clone, files);
  git(clone, 'add', '-A');
  git(clone, 'commit', '-qm', message);
}

const dir = mkdtempSync(join(tmpdir(), 'agent-hooks-shot-'));
let server;
try {
  const upstream = join(dir, 'upstream.git');
  git(dir, 'init', '-q', '--bare', '--initial-branch=main', upstream);
  ah(dir, 'install', upstream);
  git(upstream, 'config', 'agenthooks.testSandbox', 'off');
  const clones = {};
  for (const agent of ['agent-1', 'agent-2', 'agent-3']) {
    clones[agent] = join(dir, agent);
    git(dir, 'clone', '-q', upstream, clones[agent]);
    for (const [k, v] of [['user.name', agent], ['user.email', `${agent}@example.com`], ['commit.gpgSign', 'false']]) git(clones[agent], 'config', k, v);
  }
  const policy = { test: { command: ['node', '--test'], files: ['test/**/*.test.mjs'], sample: 1 } };
  commit(clones['agent-1'], { 'agent-hooks.json': `${JSON.stringify(policy, null, 2)}\n`, 'current_tasks/.gitkeep': '', 'README.md': '# calc\n', 'src/parser/parse.mjs': 'export const parse = (s) => s.split(" ");\n', 'test/parse.test.mjs': 'import test from "node:test";\nimport assert from "node:assert";\nimport { parse } from "../src/parser/parse.mjs";\ntest("parse", () => assert.deepEqual(parse("a b"), ["a", "b"]));\n' }, 'start: parser and its test');
  git(clones['agent-1'], 'push', '-q', 'origin', 'HEAD:main');
  for (const c of Object.values(clones)) git(c, 'pull', '-q', '--rebase', 'origin', 'main');

  ah(clones['agent-1'], 'claim', 'parser-nested-calls', '--files', 'src/parser/**', '--files', 'test/parse.test.mjs', '-m', 'Fix the parser on nested function calls');
  ah(clones['agent-2'], 'claim', 'lexer-unicode', '--files', 'src/lexer/**', '--ttl', '1800', '-m', 'Unicode identifiers in the lexer');
  ah(clones['agent-3'], 'claim', 'docs-tutorial', '--files', 'docs/**', '--ttl', '5400', '-m', 'Write the getting-started tutorial');

  git(clones['agent-1'], 'pull', '-q', '--rebase', 'origin', 'main');
  commit(clones['agent-1'], { 'src/parser/parse.mjs': 'export const parse = (s) => s.trim().split(/\\s+/);\n' }, 'parser: split on any whitespace');
  ah(clones['agent-1'], 'push', 'origin', 'HEAD:main');

  git(clones['agent-2'], 'pull', '-q', '--rebase', 'origin', 'main');
  commit(clones['agent-2'], { 'src/lexer/ident.mjs': 'export const isIdent = (c) => /\\p{L}/u.test(c);\n' }, 'lexer: unicode letters in identifiers');
  // A queue entry waiting, as a real lander would see it before its turn (no lander runs here:
  // its pid lock is held by a sleeping process, so the page shows the entry waiting).
  const holder = spawn('sleep', ['600'], { stdio: 'ignore', detached: true });
  holder.unref();
  mkdirSync(join(upstream, 'agent-hooks', 'workers', 'lander.lock'), { recursive: true });
  writeFileSync(join(upstream, 'agent-hooks', 'workers', 'lander.lock', 'pid'), String(holder.pid));
  process.on('exit', () => holder.kill('SIGKILL'));
  git(clones['agent-2'], 'push', '-q', 'origin', 'HEAD:refs/heads/scratch/lexer-unicode');
  git(upstream, 'update-ref', 'refs/land/agent-2/lexer-unicode', 'refs/heads/scratch/lexer-unicode');
  git(upstream, 'update-ref', '-d', 'refs/heads/scratch/lexer-unicode');

  git(clones['agent-3'], 'pull', '-q', '--rebase', 'origin', 'main');
  commit(clones['agent-3'], { 'docs/tutorial.md': '# Getting started\n', 'src/parser/parse.mjs': 'export const parse = (s) => s.split(",");\n' }, 'docs: tutorial (and a parser tweak)');
  run(clones['agent-3'], 'git', ['push', 'origin', 'HEAD:main'], true);
  git(clones['agent-3'], 'reset', '-q', '--hard', 'HEAD~1');
  commit(clones['agent-3'], { 'docs/tutorial.md': '# Getting started\n\nInstall, claim, push.\n' }, 'docs: getting-started tutorial, first draft');
  git(clones['agent-3'], 'push', '-q', 'origin', 'HEAD:refs/heads/agent-3/docs');

  server = spawn(process.execPath, [CLI, 'serve', upstream, '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise((resolvePromise, reject) => {
    let err = '';
    server.stderr.on('data', (d) => {
      err += d;
      const m = /at (http:\/\/\S+\/)/.exec(err);
      if (m) resolvePromise(m[1]);
    });
    server.on('exit', () => reject(new Error(`serve exited: ${err}`)));
  });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.locator('#live', { hasText: 'Live: watching' }).waitFor();
  await page.screenshot({ path: join(ROOT, 'docs', 'dashboard.png'), fullPage: true });
  await browser.close();
  console.log(`wrote docs/dashboard.png from ${url}`);
} finally {
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
