// Issue 13: the red team's attacks on the rules, each performed with real git (a real bare repo,
// clones, `git push`). Every test here failed before its fix.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, commit, fixtureEnv, git, lockText, push, sendersDone, sharedRepo, sync, waitFor } from './helpers/git.js';
import { FakeSlack } from './helpers/slack.js';
import { startHttpGit } from './helpers/http-git.js';
import { dirname } from 'node:path';

/** agent-1 holds task parser with a lease on src/parser/**; agent-2's clone is in sync. */
function leased(files = ['src/parser/**']) {
  const repo = sharedRepo(['agent-1', 'agent-2']);
  const a = repo.clones['agent-1']!;
  commit(a, { 'src/parser/a.ts': 'a\n', 'src/lexer/l.ts': 'l\n' }, 'code');
  commit(a, { 'current_tasks/parser.txt': lockText('agent-1', { files }) }, 'claim parser');
  const r = push(a);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  sync(repo.clones['agent-2']!);
  return { ...repo, a, b: repo.clones['agent-2']! };
}

const rev = (clone: string, what: string) => git(clone, ['rev-parse', what]).stdout.trim();

describe('item 1: a merge that reverts a leased file (rule 5 (b) on the claims ref)', () => {
  it('rejects a crafted merge whose second parent is an old main commit, taking the old content', () => {
    const { a, b, upstream } = leased();
    const old = rev(b, 'HEAD');
    sync(a);
    commit(a, { 'src/parser/a.ts': 'agent-1 work\n' }, 'parser work');
    expect(push(a).exitCode).toBe(0);
    git(b, ['fetch', '--quiet', 'origin']);
    const main = rev(b, 'origin/main');
    // The merge's tree is the old commit's: src/parser/a.ts equals one parent, so `git log -c` drops it.
    const merge = git(b, ['commit-tree', `${old}^{tree}`, '-p', main, '-p', old, '-m', 'merge an old main'], { env: { GIT_AUTHOR_NAME: 'agent-2', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'agent-2', GIT_COMMITTER_EMAIL: 'b@x' } }).stdout.trim();
    const r = push(b, ['origin', `${merge}:refs/heads/main`]);
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      expect.stringMatching(new RegExp(`^ERROR: refs/heads/main: src/parser/a\\.ts \\(changed by the push as a whole, git diff ${main.slice(0, 10)} ${merge.slice(0, 10)}: a merge took another version of it\\) is leased by agent-1 \\(task parser, glob src/parser/\\*\\*\\) until \\S+; fix: wait for the claim to expire or ask agent-1; agent-hooks status parser$`)),
    ]);
    expect(rev(upstream, 'main')).toBe(main);
    // Other branches keep (a) alone: the same merge on a feature branch counts nobody's work.
    expect(push(b, ['origin', `${merge}:refs/heads/agent-2/old`])).toMatchObject({ exitCode: 0, errors: [] });
  });

  it('rejects the conflict-resolution form: a branch pushed earlier merges main, keeps its own side of a leased file, and pushes to main', () => {
    const { clones, upstream } = sharedRepo(['agent-1', 'agent-2']);
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    commit(a, { 'src/parser/a.ts': 'base\n', 'src/lexer/l.ts': 'l\n' }, 'code');
    expect(push(a).exitCode).toBe(0);
    // agent-2's branch changes the file before anyone leases it.
    sync(b);
    commit(b, { 'src/parser/a.ts': 'agent-2 version\n' }, 'agent-2 parser idea');
    expect(push(b, ['origin', 'HEAD:refs/heads/agent-2/idea']).exitCode).toBe(0);
    // agent-1 claims the parser and changes the file on main.
    sync(a);
    commit(a, { 'current_tasks/parser.txt': lockText('agent-1', { files: ['src/parser/**'] }), 'src/parser/a.ts': 'agent-1 version\n' }, 'claim and work');
    expect(push(a).exitCode).toBe(0);
    // agent-2 merges main, resolves the conflict with its own side, and pushes to main.
    git(b, ['fetch', '--quiet', 'origin']);
    expect(git(b, ['merge', '--no-edit', 'origin/main'], { allowFail: true }).exitCode).not.toBe(0);
    git(b, ['checkout', '--ours', 'src/parser/a.ts']);
    git(b, ['add', 'src/parser/a.ts']);
    git(b, ['commit', '--quiet', '--no-edit']);
    const before = rev(upstream, 'main');
    const r = push(b);
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^ERROR: refs\/heads\/main: src\/parser\/a\.ts \(.*\) is leased by agent-1 \(task parser/);
    expect(rev(upstream, 'main')).toBe(before);
    // Merging main into the feature branch stays fine.
    expect(push(b, ['origin', 'HEAD:refs/heads/agent-2/idea'])).toMatchObject({ exitCode: 0, errors: [] });
  });
});

describe('item 2: the lock-only shortcut looks at the whole tree diff', () => {
  it('runs the tests for a merge that takes an old, failing version of a file plus one lock file', () => {
    const { clones, upstream } = sharedRepo(['agent-1', 'agent-2']);
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    commit(a, { 'src/x.ts': 'bad\n' }, 'a bad version');
    expect(push(a).exitCode).toBe(0);
    const bad = rev(a, 'HEAD');
    // The policy's test fails whenever src/x.ts says "bad".
    commit(a, {
      'src/x.ts': 'good\n',
      'agent-hooks.json': JSON.stringify({ test: { command: ['node', 't/check.mjs'], files: ['t/**/*.test.mjs'], sample: 1 } }),
      't/check.mjs': "import { readFileSync } from 'node:fs';\nprocess.exit(readFileSync('src/x.ts', 'utf8').includes('bad') ? 1 : 0);\n",
      't/x.test.mjs': '',
    }, 'fix it, with tests');
    expect(push(a).exitCode).toBe(0);
    sync(b);
    const main = rev(b, 'HEAD');
    // The merge: main's tree with the bad src/x.ts (equal to the second parent) and a new lock file.
    git(b, ['checkout', '--quiet', bad, '--', 'src/x.ts']);
    commit(b, { 'current_tasks/x.txt': lockText('agent-2') }, 'claim x');
    const tree = rev(b, 'HEAD^{tree}');
    git(b, ['reset', '--quiet', '--hard', main]);
    const merge = git(b, ['commit-tree', tree, '-p', main, '-p', bad, '-m', 'claim x (and merge)'], { env: { GIT_AUTHOR_NAME: 'agent-2', GIT_AUTHOR_EMAIL: 'b@x', GIT_COMMITTER_NAME: 'agent-2', GIT_COMMITTER_EMAIL: 'b@x' } }).stdout.trim();
    expect(git(b, ['log', '-c', '--name-only', '--format=', '-1', merge]).stdout.trim()).toBe('current_tasks/x.txt');
    const r = push(b, ['origin', `${merge}:refs/heads/main`]);
    expect(r.stderr).toMatch(/remote: Tests: /);
    expect(r.exitCode).toBe(1);
    expect(rev(upstream, 'main')).toBe(main);
  });
});

describe('item 16: a tag that points at a tree', () => {
  it('judges the tree\'s paths against the leases', () => {
    const { b, upstream } = leased();
    commit(b, { 'src/parser/a.ts': 'agent-2 in a tree\n' }, 'work');
    const tree = rev(b, 'HEAD^{tree}');
    git(b, ['tag', '-a', '-m', 'a tree', 'tree-tag', tree]);
    const r = push(b, ['origin', 'refs/tags/tree-tag']);
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([expect.stringMatching(/^ERROR: refs\/tags\/tree-tag: src\/parser\/a\.ts \(changed in [0-9a-f]{10}\) is leased by agent-1 \(task parser/)]);
    expect(git(upstream, ['tag', '-l']).stdout).toBe('');
    // A tree tag that leaves the leased paths as they are on main is fine, and so is a tag of a blob.
    git(b, ['tag', '-a', '-m', 'main tree', 'main-tree', rev(b, 'origin/main^{tree}')]);
    git(b, ['tag', '-a', '-m', 'a blob', 'blob-tag', rev(b, 'HEAD:src/parser/a.ts')]);
    expect(push(b, ['origin', 'refs/tags/main-tree', 'refs/tags/blob-tag'])).toMatchObject({ exitCode: 0, errors: [] });
  });
});

describe('item 3: a policy push that cancels other agents\' leases', () => {
  it('rejects exempting, moving the locks dir or lowering the ttl under another agent\'s active claim, unless an admin overrides; the holder may', () => {
    const { a, b, upstream } = leased();
    const attacks: [string, unknown, RegExp][] = [
      ['exempt', { leases: { exempt: ['src/**'] } }, /leases\.exempt src\/\*\* takes src\/parser\/a\.ts out of its lease/],
      ['move the locks dir', { locks: { dir: 'tasks' } }, /locks\.dir moves to tasks without its lock file/],
      ['lower the ttl', { locks: { ttl: 60 } }, /locks\.ttl 60 ends it at \S+/],
    ];
    for (const [name, policy, how] of attacks) {
      sync(b);
      commit(b, { 'agent-hooks.json': JSON.stringify(policy) }, name);
      const r = push(b);
      expect(r.exitCode, name).toBe(1);
      expect(r.errors, name).toEqual([expect.stringMatching(new RegExp(`^ERROR: refs/heads/main: agent-hooks\\.json: the policy change would void or weaken the active claim of task parser held by agent-1 until \\S+ \\(src/parser/\\*\\*\\): .*${how.source}.*; fix: wait until the claim is released or expires \\(agent-hooks status parser\\), or ask an admin to push with -o override=<reason>$`))]);
    }
    // The next push, editing the leased file, is still refused.
    sync(b);
    commit(b, { 'src/parser/a.ts': 'agent-2\n' });
    expect(push(b).exitCode).toBe(1);

    // The holder may weaken its own claim; an admin may override for others.
    sync(a);
    commit(a, { 'agent-hooks.json': JSON.stringify({ locks: { ttl: 3600 } }) }, 'shorter ttl');
    expect(push(a)).toMatchObject({ exitCode: 0, errors: [] });
    git(upstream, ['config', '--add', 'agenthooks.admin', 'agent-2']);
    sync(b);
    commit(b, { 'agent-hooks.json': JSON.stringify({ leases: { exempt: ['src/**'] } }) }, 'exempt src');
    expect(push(b).exitCode).toBe(1);
    const overridden = push(b, ['-o', 'override=src is shared now', 'origin', 'HEAD:main']);
    expect(overridden.exitCode, overridden.stderr).toBe(0);
    expect(overridden.warnings.join('\n')).toMatch(/would void or weaken the active claim of task parser/);
  });

  it('allows the same policy change once the claim is released', () => {
    const { a, b } = leased();
    commit(a, { 'current_tasks/parser.txt': null }, 'release');
    expect(push(a).exitCode).toBe(0);
    sync(b);
    commit(b, { 'agent-hooks.json': JSON.stringify({ leases: { exempt: ['src/**'] }, locks: { ttl: 60 } }) });
    expect(push(b)).toMatchObject({ exitCode: 0, errors: [] });
  });
});

describe('item 4: brace globs in lists', () => {
  it('keeps src/{parser,lexer}/** whole in claim --files and in the .txt format, and rejects an unbalanced brace', () => {
    const { clones } = sharedRepo(['agent-1', 'agent-2']);
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    commit(a, { 'src/parser/p.ts': 'p\n', 'src/lexer/l.ts': 'l\n', 'docs/d.md': 'd\n' }, 'code');
    expect(push(a).exitCode).toBe(0);
    const claimed = cli(['claim', 'front', '--files', 'src/{parser,lexer}/**,docs/**'], { cwd: a });
    expect(claimed.exitCode, claimed.stderr).toBe(0);
    expect(git(a, ['show', 'origin/main:current_tasks/front.txt']).stdout).toMatch(/^files: src\/\{parser,lexer\}\/\*\*, docs\/\*\*$/m);
    sync(b);
    for (const path of ['src/parser/p.ts', 'src/lexer/l.ts', 'docs/d.md']) {
      commit(b, { [path]: 'agent-2\n' }, path);
      const r = push(b);
      expect(r.errors, path).toEqual([expect.stringMatching(new RegExp(`^ERROR: refs/heads/main: ${path.replace(/[./]/g, '\\$&')} .*is leased by agent-1 \\(task front`))]);
      sync(b);
    }
    // Unbalanced braces protect nothing: refused by claim (exit 2) and by pre-receive (rule 1).
    const cut = cli(['claim', 'half', '--files', 'src/{parser'], { cwd: b });
    expect(cut.exitCode).toBe(2);
    expect(cut.stderr).toMatch(/--files "?src\/\{parser"? has an unbalanced "\{"/);
    commit(b, { 'current_tasks/half.txt': 'agent: agent-2\nstarted: ' + new Date().toISOString() + '\nfiles: src/{parser\n' }, 'half a glob');
    expect(push(b).errors).toEqual([expect.stringMatching(/^ERROR: refs\/heads\/main: current_tasks\/half\.txt:3: glob "src\/\{parser" in "files" has an unbalanced "\{"/)]);
  });
});

describe('item 11: a lease glob that stalls matching (ReDoS)', () => {
  /** A push with a hard deadline: a stalled hook fails the test instead of hanging it. */
  const pushWithin = (clone: string, ms = 60_000) => {
    const r = spawnSync('git', ['push', 'origin', 'HEAD:main'], { cwd: clone, env: fixtureEnv(), encoding: 'utf8', timeout: ms });
    if (r.error) throw new Error(`git push did not finish within ${ms} ms`);
    return { exitCode: r.status, errors: r.stderr.split('\n').filter((l) => l.startsWith('remote: ERROR: ')).map((l) => l.slice(8).trimEnd()) };
  };
  const bomb = `gen/**/${'*?'.repeat(16)}x`;

  it('refuses the glob at claim time, and a claim from before the limit cannot stall a push', () => {
    const { upstream, clones } = sharedRepo(['agent-1', 'agent-2']);
    const [a, b] = [clones['agent-1']!, clones['agent-2']!];
    commit(a, { 'current_tasks/gen.txt': lockText('agent-1', { files: [bomb] }) }, 'claim gen');
    const r = pushWithin(a);
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([expect.stringMatching(/current_tasks\/gen\.txt:3: glob "gen\/\*\*\/(\*\?)+x" in "files" has 17 wildcard runs .* at most 3 are allowed/)]);
    expect(cli(['claim', 'gen', '--files', bomb], { cwd: a })).toMatchObject({ exitCode: 2, stderr: expect.stringMatching(/has 17 wildcard runs/) });

    // The same lock file written straight into the bare repo (a claim made before the limit).
    const blob = git(upstream, ['hash-object', '-w', '--stdin'], { input: lockText('agent-1', { files: [bomb] }) }).stdout.trim();
    git(upstream, ['read-tree', 'main'], { env: { GIT_INDEX_FILE: `${upstream}/planted-index` } });
    git(upstream, ['update-index', '--add', '--cacheinfo', `100644,${blob},current_tasks/gen.txt`], { env: { GIT_INDEX_FILE: `${upstream}/planted-index` } });
    const tree = git(upstream, ['write-tree'], { env: { GIT_INDEX_FILE: `${upstream}/planted-index` } }).stdout.trim();
    const planted = git(upstream, ['commit-tree', tree, '-p', 'main', '-m', 'old claim'], { env: { GIT_AUTHOR_NAME: 'agent-1', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'agent-1', GIT_COMMITTER_EMAIL: 'a@x' } }).stdout.trim();
    git(upstream, ['update-ref', 'refs/heads/main', planted]);
    sync(b);
    commit(b, { [`gen/${'a'.repeat(40)}.ts`]: 'x\n' }, 'generated code');
    expect(pushWithin(b, 30_000).exitCode).toBe(0);
  });
});

describe('item 5: a test file named like an option', () => {
  it('refuses a tested push whose test file name starts with "-"', () => {
    const { clones, upstream } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    commit(a, { 'agent-hooks.json': JSON.stringify({ test: { command: ['node', '--test'], files: ['**/*.test.mjs'], sample: 1 } }), 'ok.test.mjs': "import test from 'node:test';\ntest('ok', () => {});\n" }, 'tests');
    expect(push(a).exitCode).toBe(0);
    // node --test reads the name as --test-name-pattern=NOMATCH.test.mjs and skips every test.
    commit(a, { '--test-name-pattern=NOMATCH.test.mjs': "import test from 'node:test';\ntest('fails', () => { throw new Error('broken'); });\n" }, 'a failing test named like an option');
    const before = git(upstream, ['rev-parse', 'main']).stdout;
    const r = push(a);
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual(['ERROR: refs/heads/main: test file --test-name-pattern=NOMATCH.test.mjs starts with "-", so the test runner would read it as an option; fix: git mv -- --test-name-pattern=NOMATCH.test.mjs <a name without a leading "-">']);
    expect(git(upstream, ['rev-parse', 'main']).stdout).toBe(before);
  });
});

describe('item 9: push options with a newline', () => {
  /** Runs one of the bare repo's installed hooks as receive-pack would, with crafted push options. */
  const runHook = (upstream: string, hook: string, stdin: string, options: string[], env: Record<string, string> = {}) => {
    const optionEnv = Object.fromEntries([['GIT_PUSH_OPTION_COUNT', String(options.length)], ...options.map((o, i) => [`GIT_PUSH_OPTION_${i}`, o])]);
    const r = spawnSync(join(upstream, 'hooks', hook), [], { cwd: upstream, env: fixtureEnv({ GIT_DIR: '.', ...optionEnv, ...env }), input: stdin, encoding: 'utf8' });
    return { exitCode: r.status, stderr: r.stderr };
  };

  it('git itself refuses them, so the test hands them to the hooks as a raw receive-pack client would', () => {
    const { clones } = sharedRepo(['agent-1']);
    const r = git(clones['agent-1']!, ['push', '-o', 'agent=a\nx', 'origin', 'HEAD:refs/heads/x'], { allowFail: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/new line/);
  });

  it('pre-receive rejects a push option with a control character', () => {
    const { upstream, clones } = sharedRepo(['agent-1']);
    const tip = rev(clones['agent-1']!, 'HEAD');
    const r = runHook(upstream, 'pre-receive', `${'0'.repeat(40)} ${tip} refs/heads/forge\n`, ['agent=agent-1', 'note=hi\nERROR: fake']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('ERROR: '))).toEqual(['ERROR: push: push option 2 "note=hi\\nERROR: fake" contains a control character; fix: push options are one line of text: git push -o key=value']);
  });

  it('post-receive spools every option encoded: a newline can neither forge a ref or pusher nor suppress the notice', async () => {
    const slack = await new FakeSlack().start();
    try {
      const { upstream, clones } = sharedRepo(['agent-1']);
      const a = clones['agent-1']!;
      git(upstream, ['config', 'agenthooks.slack.webhookUrl', slack.url]);
      commit(a, { 'x.txt': 'x\n' }, 'x');
      expect(push(a, ['origin', 'HEAD:refs/heads/work']).exitCode).toBe(0);
      await waitFor(() => slack.delivered().length === 1);
      // post-receive again, for the same update, with options built to add lines to the spooled event.
      const tip = rev(a, 'HEAD');
      const forged = `x\nupdate ${'0'.repeat(40)} ${tip} refs/heads/forged\noption agent=mallory\nenv GL_USER=mallory`;
      expect(runHook(upstream, 'post-receive', `${'0'.repeat(40)} ${tip} refs/heads/work\n`, [forged, 'x\nsurprise line']).exitCode).toBe(0);
      await waitFor(() => slack.delivered().length === 2);
      await sendersDone(upstream);
      const text = JSON.parse(slack.received.at(-1)!.text).text as string;
      expect(text).toMatch(/^agent-1 pushed to upstream\.git/);
      expect(text).not.toMatch(/forged|mallory/);
      expect(text).toMatch(/work/);
    } finally {
      await slack.stop();
    }
  });
});

describe('item 12: identity variables set by the client on a local push', () => {
  it('does not take GL_USER from the pusher\'s own environment, for requireAuthenticated or for a lease', () => {
    const { b, upstream } = leased();
    // agent-2 poses as the lease holder with gitolite's variable over a local path.
    commit(b, { 'src/parser/a.ts': 'agent-2 as agent-1\n' });
    const posing = push(b, ['origin', 'HEAD:main'], { GL_USER: 'agent-1' });
    expect(posing.exitCode, posing.stderr).toBe(1);
    expect(posing.warnings, posing.stderr).toContain('WARNING: push: GL_USER=agent-1 was not set by an authenticating git server (no GL_REPO, GL_TID beside it: a local or file:// push?), so it is no identity; ignored; fix: unset GL_USER; push through the authenticating server, or with -o agent=<your-agent-id>');
    expect(posing.errors[0]).toMatch(/^ERROR: refs\/heads\/main: src\/parser\/a\.ts .*is leased by agent-1/);
    // gitolite's bypass variable means nobody's access was checked.
    const bypass = push(b, ['origin', 'HEAD:main'], { GL_USER: 'agent-1', GL_REPO: 'upstream', GL_TID: '1', GL_BYPASS_ACCESS_CHECKS: '1' });
    expect(bypass.exitCode).toBe(1);
    expect(bypass.warnings.join('\n')).toMatch(/GL_USER=agent-1 was not set by an authenticating git server \(GL_BYPASS_ACCESS_CHECKS is set/);

    git(upstream, ['config', 'agenthooks.requireAuthenticated', 'true']);
    sync(b);
    commit(b, { 'src/lexer/l.ts': 'free\n' });
    const required = push(b, ['origin', 'HEAD:main'], { GL_USER: 'agent-2' });
    expect(required.exitCode).toBe(1);
    expect(required.errors).toContain('ERROR: push: this repository requires an authenticated pusher (agenthooks.requireAuthenticated) and the server gave none; fix: push through the authenticating git server (ssh or https), not the file system');
  });
});

describe('item 17: a path that differs from a leased one only in case', () => {
  it('counts SRC/parser/a.ts as leased under src/parser/**: one file on a case-insensitive checkout', () => {
    const { b } = leased();
    for (const path of ['SRC/parser/a.ts', 'src/Parser/a.ts']) {
      commit(b, { [path]: 'agent-2\n' }, path);
      const r = push(b);
      expect(r.exitCode, path).toBe(1);
      expect(r.errors, path).toEqual([expect.stringMatching(new RegExp(`^ERROR: refs/heads/main: ${path.replace(/[./]/g, '\\$&')} \\(changed in [0-9a-f]{10}\\) is leased by agent-1 \\(task parser, glob src/parser/\\*\\*, and differs only in case from paths it covers, which are one file on a case-insensitive checkout\\) until \\S+; fix: `))]);
      sync(b);
    }
    commit(b, { 'SRC/lexer/x.ts': 'free\n' });
    expect(push(b)).toMatchObject({ exitCode: 0, errors: [] });
  });
});

describe('item 13: hand-written leases that protect nothing', () => {
  it('warns at pre-commit and at push about a glob that matches no file and looks quoted, commented or bracketed', () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    expect(cli(['install', a]).exitCode).toBe(0);
    commit(a, { 'src/parser/a.ts': 'a\n' }, 'code');
    const files = ['"src/parser/**"', 'src/parser/** # the parser', '[src/lexer/**]', 'docs/**'];
    const lock = `agent: agent-1\nstarted: ${new Date().toISOString()}\nfiles: ${files.join(', ')}\n`;
    const warned = [
      expect.stringMatching(/^WARNING: .*current_tasks\/parser\.txt: glob "\\"src\/parser\/\*\*\\"" in "files" is quoted \(quotes are part of a glob\) and matches no file: the lease protects nothing there; fix: write it bare, e.g\. files: src\/parser\/\*\*$/),
      expect.stringMatching(/glob "src\/parser\/\*\* # the parser" in "files" holds a comment .*fix: write it bare, e\.g\. files: src\/parser\/\*\*$/),
      expect.stringMatching(/glob \[src\/lexer\/\*\*\] in "files" is written as a list .*fix: write it bare, e\.g\. files: src\/lexer\/\*\*$/),
    ];
    // Stage the lock file and commit through the installed pre-commit hook.
    mkdirSync(join(a, 'current_tasks'), { recursive: true });
    writeFileSync(join(a, 'current_tasks', 'parser.txt'), lock);
    git(a, ['add', '-A']);
    const pre = spawnSync('git', ['commit', '-q', '-m', 'claim parser'], { cwd: a, env: fixtureEnv(), encoding: 'utf8' });
    expect(pre.status, pre.stderr).toBe(0);
    expect(pre.stderr.split('\n').filter((l) => l.startsWith('WARNING: '))).toEqual(warned);
    const r = push(a);
    expect(r.exitCode).toBe(0);
    expect(r.warnings).toEqual(warned);
  });
});

describe('item 19: the sample\'s seed', () => {
  it('is the authenticated identity over HTTP, and never an identity variable the client set itself', async () => {
    const { clones, upstream } = sharedRepo(['agent-1', 'agent-2']);
    const http = await startHttpGit(dirname(upstream));
    try {
      const a = clones['agent-1']!;
      commit(a, { 'agent-hooks.json': JSON.stringify({ test: { command: ['node', '-e', '0'], files: ['t/*.test.mjs'], sample: 0.5 } }), ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`t/${i}.test.mjs`, ''])) }, 'tests');
      const first = push(a);
      expect(first.exitCode, first.stderr).toBe(0);
      const b = clones['agent-2']!;
      sync(b);
      git(b, ['config', 'user.name', 'agent-2']);
      git(b, ['remote', 'add', 'http', http.url('agent-2', 'upstream.git')]);
      commit(b, { 'src/x.ts': '1\n' }, 'one');
      const overHttp = push(b, ['http', 'HEAD:main']);
      expect(overHttp.exitCode, overHttp.stderr).toBe(0);
      expect(overHttp.stderr).toMatch(/\(seed agent-2\)/);
      // A seed of one's choosing through -o agent= is a spoof under the authenticated user.
      commit(b, { 'src/x.ts': '2\n' }, 'two');
      expect(push(b, ['-o', 'agent=agent-9', 'http', 'HEAD:main']).errors[0]).toMatch(/push option agent=agent-9 does not match the authenticated user agent-2 \(REMOTE_USER\)/);
      // Over a local path, a GL_USER from the client's own environment chooses no seed.
      git(b, ['fetch', '--quiet', 'origin']);
      const local = push(b, ['origin', 'HEAD:main'], { GL_USER: 'agent-9' });
      expect(local.exitCode, local.stderr).toBe(0);
      expect(local.stderr).toMatch(/\(seed agent-2\)/);
      expect(local.stderr).not.toMatch(/seed agent-9/);
      await sendersDone(upstream);
    } finally {
      await http.stop();
    }
  });
});
