// Hostile input (issue 7): a table of pushes built to break a hook (odd ref names, huge and
// malformed lock files, JSON tricks, glob bombs, odd paths and push options, spoofing). Each gets
// a clear answer within a bounded time through a real push: the expected exit code and line, never
// an `internal:` error or a stack trace, nothing changed by a refusal, no shell ever run, and
// `git fsck` clean at the end.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commit, fixtureEnv, git, iso, lockText, refsOf, sharedRepo, sync, type FileChange } from './helpers/git.js';

/** One hostile push: files committed on top of main (by `agent`), pushed to `ref` with `options` and `env`. */
interface Case {
  name: string;
  files?: Record<string, FileChange>;
  /** Builds the commit some other way and returns the whole refspec; `files` and `ref` are ignored. */
  build?: (clone: string) => string;
  ref?: string;
  options?: string[];
  env?: Record<string, string>;
  agent?: 'agent-1' | 'agent-2';
  /** 0 accepted, 1 refused by the hook, 'git' refused by git itself before any hook. */
  exit: 0 | 1 | 'git';
  /** The first ERROR line (or git's message for 'git'). */
  line?: RegExp;
}

const json = (o: unknown) => JSON.stringify(o);
const started = () => iso(Date.now());
const lock = (extra: Record<string, unknown> = {}) => json({ agent: 'agent-1', started: started(), ...extra });
const deepPath = (depth: number) => `${Array.from({ length: depth }, () => 'd').join('/')}/x.txt`;
/** A git push with a hard deadline: a hung hook fails the test instead of hanging it. */
function pushWithin(clone: string, args: string[], env: Record<string, string> = {}, ms = 60_000) {
  const r = spawnSync('git', ['push', ...args], { cwd: clone, env: fixtureEnv(env), encoding: 'utf8', timeout: ms, maxBuffer: 1 << 26 });
  if (r.error) throw new Error(`git push ${args.join(' ')} did not finish within ${ms} ms: ${r.error.message}`);
  return { exitCode: r.status ?? -1, stderr: r.stderr, errors: r.stderr.split('\n').filter((l) => l.startsWith('remote: ERROR: ')).map((l) => l.slice('remote: '.length).trimEnd()) };
}

const CASES: Case[] = [
  // Ref names git accepts but a careless hook would not.
  { name: 'unicode branch name', ref: 'refs/heads/ünïcødé-分支', files: { 'a.txt': '1' }, exit: 0 },
  { name: 'shell substitution in a branch name', ref: 'refs/heads/a$(touch${IFS}pwned)', files: { 'a.txt': '2' }, exit: 0 },
  { name: 'quotes and backticks in a branch name', ref: 'refs/heads/q"\'`x`', files: { 'a.txt': '3' }, exit: 0 },
  { name: 'branch name starting with a dash', ref: 'refs/heads/-rf', files: { 'a.txt': '4' }, exit: 0 },
  { name: 'semicolon and pipe in a tag name', ref: 'refs/tags/v1;echo|cat', files: { 'a.txt': '5' }, exit: 0 },
  { name: 'a 240-character ref name', ref: `refs/heads/${'long-'.repeat(46)}x`, files: { 'a.txt': '6' }, exit: 0 },
  { name: 'ref name with a space (git refuses it)', ref: 'refs/heads/a b', files: { 'a.txt': '7' }, exit: 'git', line: /is not a valid ref name|invalid/ },
  // Lock files pushed to the claims ref.
  { name: '50 MB lock file', files: { 'current_tasks/big.txt': `agent: agent-1\nstarted: ${started()}\ndescription: ${'x'.repeat(50 * 1024 * 1024)}\n` }, exit: 1, line: /current_tasks\/big\.txt: is 524288\d\d bytes; the limit is 65536/ },
  { name: 'non-UTF-8 lock file', files: { 'current_tasks/latin1.txt': Buffer.from('agent: agent-1\ndescription: caf\xe9\n', 'latin1') }, exit: 1, line: /current_tasks\/latin1\.txt: is not UTF-8 text/ },
  { name: 'NUL bytes in a lock file', files: { 'current_tasks/nul.txt': `agent: agent-1\0\nstarted: ${started()}\n` }, exit: 1, line: /current_tasks\/nul\.txt/ },
  { name: 'JSON with a duplicate key', files: { 'current_tasks/dup.json': `{"agent":"agent-1","agent":"agent-2","started":"${started()}"}` }, exit: 1, line: /current_tasks\/dup\.json:1: .*duplicate key "agent"/ },
  { name: '__proto__ key in JSON', files: { 'current_tasks/proto.json': `{"agent":"agent-1","started":"${started()}","__proto__":{"files":["**"]}}` }, exit: 1, line: /current_tasks\/proto\.json.*"__proto__"/ },
  { name: 'constructor key in JSON', files: { 'current_tasks/ctor.json': lock({ constructor: { prototype: { files: ['**'] } } }) }, exit: 1, line: /current_tasks\/ctor\.json.*"constructor"/ },
  { name: '__proto__ field in the text format', files: { 'current_tasks/proto.txt': `agent: agent-1\nstarted: ${started()}\n__proto__: files\n` }, exit: 1, line: /current_tasks\/proto\.txt:3: unknown field "__proto__"/ },
  { name: 'JSON nested 30,000 deep', files: { 'current_tasks/deep.json': `${'['.repeat(30_000)}${']'.repeat(30_000)}` }, exit: 1, line: /current_tasks\/deep\.json:1: is not valid JSON: nested deeper than 64 levels/ },
  { name: 'JSON that is a bare string', files: { 'current_tasks/str.json': '"agent-1"' }, exit: 1, line: /current_tasks\/str\.json/ },
  { name: 'byte-order mark before JSON (ignored, as JSON readers do)', files: { 'current_tasks/bom.json': `\ufeff${lock()}` }, exit: 0 },
  { name: 'year 99999', files: { 'current_tasks/y.txt': 'agent: agent-1\nstarted: 99999-01-01T00:00:00Z\n' }, exit: 1, line: /current_tasks\/y\.txt:2: "started" must be an RFC 3339 timestamp/ },
  { name: 'February 30th', files: { 'current_tasks/feb.txt': 'agent: agent-1\nstarted: 2026-02-30T00:00:00Z\n' }, exit: 1, line: /current_tasks\/feb\.txt:2: "started"/ },
  { name: 'ttl of 1e308', files: { 'current_tasks/ttl.json': lock({ ttl: 1e308 }) }, exit: 1, line: /current_tasks\/ttl\.json.*"ttl"/ },
  { name: 'negative ttl', files: { 'current_tasks/neg.txt': `agent: agent-1\nstarted: ${started()}\nttl: -5\n` }, exit: 1, line: /current_tasks\/neg\.txt:3: "ttl"/ },
  { name: 'shell substitution as the agent', files: { 'current_tasks/sh.txt': `agent: $(touch pwned)\nstarted: ${started()}\n` }, exit: 1, line: /current_tasks\/sh\.txt:1: "agent"/ },
  { name: 'shell substitution as the task id', files: { 'current_tasks/$(touch pwned).txt': lockText('agent-1') }, exit: 1, line: /task id "\$\(touch pwned\)" must match/ },
  { name: 'a 200-character task id', files: { [`current_tasks/${'t'.repeat(200)}.txt`]: lockText('agent-1') }, exit: 1, line: /task id t+ must match/ },
  { name: 'absolute glob', files: { 'current_tasks/abs.txt': lockText('agent-1', { files: ['/etc/**'] }) }, exit: 1, line: /glob "\/etc\/\*\*" in "files" must be relative/ },
  { name: 'backslash separators', files: { 'current_tasks/bs.json': lock({ files: ['src\\parser\\x.ts'] }) }, exit: 1, line: /must use "\/" as separator/ },
  { name: 'brace bomb {a,b}x20', files: { 'current_tasks/brace.json': lock({ files: [Array.from({ length: 20 }, () => '{a,b}').join('')] }) }, exit: 0 },
  { name: 'globstar bomb **/ x 60', files: { 'current_tasks/stars.json': lock({ files: [`${'**/'.repeat(60)}x`] }) }, exit: 0 },
  { name: '5,000 globs in one lease', files: { 'current_tasks/many.json': lock({ files: Array.from({ length: 5000 }, (_, i) => `m/${i}`) }) }, exit: 0 },
  { name: 'a directory where a lock file goes', files: { 'current_tasks/dir.txt/x': 'x' }, exit: 1, line: /current_tasks\/dir\.txt\/x/ },
  { name: 'claim in another agent\'s name', files: { 'current_tasks/other.txt': lockText('agent-2') }, exit: 1, line: /claim of task other names agent agent-2, but the pusher is agent-1/ },
  // Paths and options.
  { name: 'a path 400 directories deep', files: { [deepPath(400)]: 'deep' }, exit: 0 },
  { name: 'a newline in a leased path', agent: 'agent-2', ref: 'refs/heads/nl', files: { 'leased/a\nERROR: fake line.txt': 'x' }, exit: 1, line: /^ERROR: refs\/heads\/nl: "leased\/a\\nERROR: fake line\.txt" .*is leased by agent-1/ },
  {
    name: 'a non-UTF-8 leased path',
    agent: 'agent-2',
    build: (clone) => {
      // Latin-1 bytes in a file name, which git keeps as they are.
      mkdirSync(`${clone}/leased`, { recursive: true });
      writeFileSync(Buffer.concat([Buffer.from(`${clone}/leased/caf`), Buffer.from([0xe9]), Buffer.from('.txt')]), 'x');
      git(clone, ['add', '-A']);
      git(clone, ['commit', '--quiet', '-m', 'latin-1 name']);
      return 'HEAD:refs/heads/latin';
    },
    exit: 1,
    line: /^ERROR: refs\/heads\/latin: "leased\/caf\\ufffd\.txt" .*is leased by agent-1/,
  },
  { name: 'a deep path under a globstar-bomb lease', agent: 'agent-2', ref: 'refs/heads/deep', files: { [`bomb/${deepPath(60)}`]: 'x' }, exit: 0 },
  { name: 'a push option with a newline (git refuses it)', options: ['-o', 'agent=agent-1\nagent=agent-2'], files: { 'a.txt': 'nl' }, exit: 'git', line: /new line/ },
  { name: 'a 10,000-character agent option', options: ['-o', `agent=${'a'.repeat(10_000)}`], files: { 'a.txt': 'long' }, exit: 1, line: /^ERROR: push: push option agent="a{76}\.\.\. is not a valid agent id .{0,120}$/ },
  { name: 'an empty agent option', options: ['-o', 'agent='], files: { 'a.txt': 'empty' }, exit: 1, line: /^ERROR: push: push option agent="" is not a valid agent id/ },
  { name: '100 push options', options: Array.from({ length: 100 }, (_, i) => ['-o', `x${i}=y`]).flat(), files: { 'a.txt': 'many' }, exit: 0 },
  { name: 'spoofing agent= under an authenticated user', env: { GL_USER: 'agent-2' }, options: ['-o', 'agent=agent-1'], files: { 'a.txt': 'spoof' }, exit: 1, line: /agent/ },
  // The policy file.
  { name: 'policy with __proto__', files: { 'agent-hooks.json': '{"__proto__":{"locks":{"ttl":1}}}' }, exit: 1, line: /agent-hooks\.json: "__proto__": unknown key; known: locks, leases, test, notify/ },
  { name: 'policy nested 100,000 deep', files: { 'agent-hooks.json': `{"test":${'['.repeat(100_000)}${']'.repeat(100_000)}}` }, exit: 1, line: /agent-hooks\.json: line 1: not valid JSON: nested deeper than 64 levels/ },
  { name: 'policy that is a symlink', files: { 'agent-hooks.json': { symlink: '/etc/passwd' } }, exit: 1, line: /agent-hooks\.json/ },
  // 1,000 refs at once.
  {
    name: '1,000 refs in one push',
    build: (clone) => {
      const input = Array.from({ length: 1000 }, (_, i) => `create refs/heads/many/b${i} HEAD\n`).join('');
      git(clone, ['update-ref', '--stdin'], { input });
      return 'refs/heads/many/*:refs/heads/many/*';
    },
    exit: 0,
  },
];

describe('hostile input', () => {
  it(`answers each of ${CASES.length} hostile pushes clearly, in bounded time, without crashing or corrupting the repo`, { timeout: 600_000 }, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    const a = clones['agent-1']!;
    // agent-1 holds leases that agent-2's pushes run into: a plain directory and a globstar bomb.
    commit(a, { 'current_tasks/held.json': json({ agent: 'agent-1', started: started(), files: ['leased/**', `bomb/${'**/'.repeat(30)}y.txt`] }) }, 'hold');
    expect(pushWithin(a, ['origin', 'HEAD:main']).exitCode).toBe(0);
    const outcomes: string[] = [];
    const failures: string[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok) failures.push(what);
    };
    for (const c of CASES) {
      const clone = clones[c.agent ?? 'agent-1']!;
      sync(clone);
      const refspec = c.build ? c.build(clone) : (commit(clone, c.files ?? {}, c.name), `HEAD:${c.ref ?? 'refs/heads/main'}`);
      const before = refsOf(upstream);
      const r = pushWithin(clone, [...(c.options ?? []), 'origin', refspec], c.env);
      outcomes.push(`${c.name}: exit ${r.exitCode}; ${r.errors[0] ?? r.stderr.split('\n').filter(Boolean).at(-1)}`);
      const first = r.errors[0] ?? '';
      check(!/ERROR: internal|^remote:\s+at |TypeError|RangeError|Maximum call stack/m.test(r.stderr), `${c.name}: crashed: ${r.stderr}`);
      if (c.exit === 'git') {
        check(r.exitCode !== 0 && !/remote:/.test(r.stderr) && (!c.line || c.line.test(r.stderr)), `${c.name}: expected git itself to refuse: ${r.stderr}`);
      } else {
        check(r.exitCode === c.exit, `${c.name}: exit ${r.exitCode}, expected ${c.exit}: ${r.stderr}`);
        check(!c.line || c.line.test(first), `${c.name}: first error ${JSON.stringify(first)} does not match ${c.line}`);
      }
      if (c.exit !== 0) check(refsOf(upstream) === before, `${c.name}: a refused push changed refs`);
    }
    expect(failures, outcomes.join('\n')).toEqual([]);
    for (const dir of [upstream, a, clones['agent-2']!, process.cwd()]) expect(existsSync(join(dir, 'pwned')), dir).toBe(false);
    const fsck = git(upstream, ['fsck', '--no-progress']);
    expect(fsck.exitCode).toBe(0);
    // Still working: an ordinary push lands.
    sync(a);
    commit(a, { 'after.txt': 'ok' });
    expect(pushWithin(a, ['origin', 'HEAD:main']).exitCode).toBe(0);
  });
});
