// The command line: the pure parser as one-line tables (antfu/ni's habit), then what a new user
// types by mistake, through the built CLI against real repositories.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, type CommandLine } from '../front/args.js';
import { COMMANDS, HELP } from '../front/commands.js';
import { formatTestReport, selectTests } from '../core/sampling.js';
import type { TestPolicy } from '../core/policy.js';
import { isHeldLine } from '../core/verdict.js';
import { cli, cloneAs, commit, lockText, makeUpstream, push, sharedRepo, tempDir } from './helpers/git.js';

/** What a command line parses to, in one comparable value: the command and its values, or the usage message. */
function summary(line: CommandLine): unknown {
  if (line.kind === 'run') {
    const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
    return { run: line.command.name, ...defined(line.args), ...defined(line.options) };
  }
  if (line.kind === 'usage') return line.message;
  return line.kind;
}
const parse = (argv: string[]) => summary(parseCommandLine(argv, COMMANDS, HELP));
const _ = (argv: string[], expected: unknown) => () => expect(parse(argv)).toEqual(expected);

describe('parseCommandLine', () => {
  it('claim <task>', _(['claim', 'parser'], { run: 'claim', task: 'parser' }));
  it('claim --files before the task id', _(['claim', '--files', 'src/x', 'util01'], { run: 'claim', task: 'util01', files: ['src/x'] }));
  it('claim --files repeated', _(['claim', 'parser', '--files', 'a/**', '--files', 'b'], { run: 'claim', task: 'parser', files: ['a/**', 'b'] }));
  it('claim --files a,b', _(['claim', 'parser', '--files', 'a, b'], { run: 'claim', task: 'parser', files: ['a', 'b'] }));
  it('claim --files with a brace glob keeps it whole', _(['claim', 'parser', '--files', 'src/{parser,lexer}/**,docs/**'], { run: 'claim', task: 'parser', files: ['src/{parser,lexer}/**', 'docs/**'] }));
  it('claim --files=a -m text --ttl', _(['claim', '--files=a', 'parser', '-m', 'fix it', '--ttl', '600'], { run: 'claim', task: 'parser', files: ['a'], message: 'fix it', ttl: '600' }));
  it('claim with a glob but no --files names the task id', _(['claim', 'src/x'], expect.stringMatching(/^claim: src\/x is not a task id: a task id names the lock file .*; fix: agent-hooks claim <task-id> --files src\/x$/)));
  it('claim a b: one task only', _(['claim', 'parser', 'lexer'], 'claim: unexpected argument "lexer" (claim takes <task>); fix: agent-hooks claim <task> [--files GLOB...] [--ttl S] [--message TEXT]'));
  it('claim ../etc says what a task id is', _(['claim', '../etc'], "claim: ../etc is not a task id: a task id names the lock file (<locks-dir>/<task-id>.txt), so it is 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit; fix: agent-hooks claim etc"));
  it('claim without a task names the argument', _(['claim'], 'claim: missing <task> (a task id: the lock file name without extension, e.g. parser-fix); fix: agent-hooks claim <task> [--files GLOB...] [--ttl S] [--message TEXT]'));
  it('claim --ttl out of range', _(['claim', 'parser', '--ttl', '30'], 'claim: --ttl must be whole seconds from 60 to 604800; fix: --ttl 7200'));
  it('claim --ttl without a value', _(['claim', 'parser', '--ttl'], 'claim: --ttl needs a value; fix: --ttl S (or --ttl=VALUE for a value that starts with -)'));
  it('claim --files with ..', _(['claim', 'parser', '--files', '../x'], expect.stringMatching(/^claim: --files \.\.\/x must not contain "\.\."; fix: /)));
  it('claim with a typo in an option', _(['claim', 'parser', '--file', 'a'], 'claim: unknown option --file; did you mean --files?; fix: agent-hooks claim --help lists its options'));
  it('clam: unknown command, did you mean claim', _(['clam', 'parser'], 'unknown command "clam"; did you mean claim?; fix: agent-hooks claim --help'));
  it('an unknown word far from every command', _(['xyzzy'], 'unknown command "xyzzy"; fix: agent-hooks --help lists the commands'));
  it('no command', _([], 'no command given; fix: agent-hooks --help lists the commands'));
  it('renew --ttl', _(['renew', 'parser', '--ttl', '600'], { run: 'renew', task: 'parser', ttl: '600' }));
  it('status [task] --json', _(['status', '--json'], { run: 'status', json: true }));
  it('push passes everything through', _(['push', '--', 'origin', '-v', 'HEAD:main'], { run: 'push', args: ['origin', '-v', 'HEAD:main'] }));
  it('push --help is help', _(['push', '--help'], 'help'));
  it('check needs a range', _(['check', 'HEAD'], 'check: "HEAD" is not a range <base>..<head>; fix: agent-hooks check origin/main..HEAD'));
  it('notify without --flush or --test', _(['notify', '/srv/git/upstream.git'], 'notify: give exactly one of --flush and --test; fix: agent-hooks notify --flush /srv/git/upstream.git'));
  it('notify --test <repo>', _(['notify', '--test', 'up.git'], { run: 'notify', repo: 'up.git', test: true }));
  it('install --create <repo>', _(['install', '--create', 'up.git'], { run: 'install', repo: 'up.git', create: true }));
  it('install --layout typo', _(['install', '--layout', 'gitae', 'up.git'], 'install: --layout gitae is not one of git, gitlab, gitea, gitolite; fix: --layout git'));
  it('uninstall --purge', _(['uninstall', '--purge', 'up.git'], { run: 'uninstall', repo: 'up.git', purge: true }));
  it('claude install --local', _(['claude', 'install', '--local'], { run: 'claude install', local: true }));
  it('heartbeat --json without --once', _(['heartbeat', '--json'], 'heartbeat: --json goes with --once; fix: agent-hooks heartbeat --once --json'));
  it('claude alone names its commands', _(['claude'], 'claude: missing <command> (one of install, pre-tool-use, session-start, user-prompt-submit); fix: agent-hooks claude install'));
  it('claude instal', _(['claude', 'instal'], 'claude: unknown command "instal"; did you mean claude install?; fix: agent-hooks claude --help lists its commands'));
  it('worktree add <agent>', _(['worktree', 'add', 'agent-2'], { run: 'worktree add', agent: 'agent-2' }));
  it('--version', _(['--version'], 'version'));
  it('help claim', _(['help', 'claim'], 'help'));

  it('a usage error carries the help of its command, not the top help', () => {
    const line = parseCommandLine(['claim'], COMMANDS, HELP);
    expect(line.kind === 'usage' && line.help).toMatch(/^usage: agent-hooks claim <task> /);
    expect(line.kind === 'usage' && line.help).toContain('--ttl S');
  });

  it('every command has a description, and every argument one too', () => {
    for (const c of COMMANDS) {
      expect(c.describe.length, c.name).toBeGreaterThan(10);
      for (const a of c.args ?? []) expect(a.describe.length, `${c.name} <${a.name}>`).toBeGreaterThan(10);
    }
  });
});

// agent-hooks push exits 3 when every error is another agent's claim or lease, read from the
// server's text: pushed text (test output, lock file fields) must not be able to pass for one.
describe('isHeldLine', () => {
  it.each([
    ['a lease (rule 5)', 'remote: ERROR: refs/heads/main: src/a.ts (changed in 3f2a9c1e04) is leased by agent-1 (task parser, glob src/**) until 2026-11-21T20:39:42Z; fix: wait for the claim to expire or ask agent-1; agent-hooks status parser', true],
    ['a claim (rule 3)', 'ERROR: refs/heads/main: current_tasks/parser.txt: changes the active claim of task parser held by agent-2 until 2026-11-21T20:39:42Z; fix: wait for the claim to expire or ask agent-2; agent-hooks status parser', true],
    ['an overlapping lease (rule 4)', 'ERROR: refs/heads/main: current_tasks/x.txt: lease "src/**" overlaps ...; fix: narrow "files" (for example with !src/a), or wait for the claim to expire or ask agent-1; agent-hooks status x', true],
    ['a schema error', 'remote: ERROR: refs/heads/main: current_tasks/x.txt:3: unknown field "file"; fix: rename "file" to "files"', false],
    ['a warning', 'remote: WARNING: refs/heads/main: x; fix: wait for the claim to expire or ask agent-1', false],
    ['pushed text with its own fix', 'ERROR: refs/heads/main: current_tasks/x.txt:2: unknown field "a; fix: wait for the claim to expire or ask b"; fix: rename it', false],
  ])('%s', (_name, line, held) => expect(isHeldLine(line)).toBe(held));

  it("a failing test's output cannot make its line pass for a held one", () => {
    const selection = selectTests(['t/a.test.mjs'], { command: ['true'], files: ['t/**'], sample: 1, always: [], timeout: 300 } as unknown as TestPolicy, 'agent-1', []);
    const run = { exitCode: 1, timedOut: false, failures: ['not ok 1 - x; fix: wait for the claim to expire or ask agent-9'], missing: [], unexpected: [], seconds: 1 };
    const { lines } = formatTestReport('refs/heads/main', selection, run, 'agent-hooks test --fast', '/log');
    const errors = lines.filter((l) => l.startsWith('ERROR:'));
    expect(errors).toEqual(['ERROR: refs/heads/main: not ok 1 - x, fix: wait for the claim to expire or ask agent-9; fix: agent-hooks test --fast']);
    expect(errors.some(isHeldLine)).toBe(false);
  });
});

describe('--help', () => {
  it('gives the exit codes, the agent-id order and examples; each command its arguments, ranges and examples', () => {
    const top = cli(['--help']);
    expect(top.exitCode).toBe(0);
    expect(top.stdout).toContain('exit codes: 0 ok; 1 the check or command failed (a rejected push, a test failure); 2 usage error;\n            3 a task or path is held by another agent');
    expect(top.stdout).toContain('agent id:   AGENT_ID, else git config agenthooks.agent, else git config user.name');
    expect(top.stdout).toMatch(/examples:\n {2}agent-hooks install --create /);
    const claim = cli(['claim', '--help']);
    expect(claim.exitCode).toBe(0);
    expect(claim.stdout).toMatch(/--ttl S +seconds the claim lasts, a whole number from 60 to 604800/);
    expect(claim.stdout).toMatch(/examples:\n {2}agent-hooks claim parser --files/);
    for (const command of ['uninstall', 'doctor', 'notify']) expect(cli([command, '--help']).stdout, command).toMatch(/arguments:\n {2}<repo> +the path of the bare repo/);
  });
});

describe('user mistakes are usage errors (exit 2) with a fix, never ERROR: internal', () => {
  it('outside a git repository: status, claim, test, check', () => {
    const dir = tempDir();
    for (const args of [['status'], ['claim', 'parser'], ['test', '--fast'], ['check', 'a..b']]) {
      const r = cli(args, { cwd: dir });
      expect(r, args.join(' ')).toEqual({ exitCode: 2, stdout: '', stderr: `ERROR: ${dir} is not inside a git repository; fix: cd into an agent's clone or worktree (git clone <upstream.git>), then run the command again\n` });
    }
  });

  it('check with an unknown revision; notify without a flag; a missing argument shows the command\'s help', () => {
    const upstream = makeUpstream({ install: false });
    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'README.md': 'x\n' });
    expect(cli(['check', 'foo..HEAD'], { cwd: a })).toEqual({ exitCode: 2, stdout: '', stderr: 'ERROR: check: "foo" is not a commit of this repository; fix: git fetch, then agent-hooks check origin/main..HEAD (git log --oneline shows the commits)\n' });
    const notify = cli(['notify', upstream]);
    expect(notify.exitCode).toBe(2);
    expect(notify.stderr).toMatch(/^ERROR: notify: give exactly one of --flush and --test; fix: agent-hooks notify --flush .*\n\nusage: agent-hooks notify <repo> /);
    const missing = cli(['release'], { cwd: a });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/^ERROR: release: missing <task> \(a task id: .*\n\nusage: agent-hooks release <task>/);
    expect(missing.stderr).not.toContain('internal');
  });

  it('claim against a bare repo without the hooks says so and how to install them', () => {
    const upstream = makeUpstream({ install: false });
    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'README.md': 'x\n' });
    expect(push(a).exitCode).toBe(0);
    const r = cli(['claim', 'parser'], { cwd: a });
    expect(r).toMatchObject({ exitCode: 1, stderr: `ERROR: ${upstream}: agent-hooks is not installed in this remote (it does not accept push options, which install turns on); fix: agent-hooks install ${upstream} (on the machine that holds the bare repo), then run the command again\n` });
    commit(a, { 'README.md': 'y\n' });
    expect(cli(['push', 'origin', 'HEAD:main'], { cwd: a }).stderr).toContain(`fix: agent-hooks install ${upstream}`);
  });
});

describe('status', () => {
  it('shows malformed lock files as invalid, with file and line, in text and --json', () => {
    // Pushed before the install (the hooks would refuse them): a typo'd field and a bad ttl.
    const upstream = makeUpstream({ install: false });
    const a = cloneAs(upstream, 'agent-1');
    commit(a, { 'current_tasks/good.txt': lockText('agent-1'), 'current_tasks/bad.txt': `${lockText('agent-2')}file: src/**\n`, 'current_tasks/worse.json': '{"agent":"agent-2","started":"2026-01-01T00:00:00Z","ttl":5}\n' });
    expect(push(a).exitCode).toBe(0);
    expect(cli(['install', upstream]).exitCode).toBe(0);
    const clones = { 'agent-2': cloneAs(upstream, 'agent-2') };
    const text = cli(['status'], { cwd: clones['agent-2']! });
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toMatch(/\ninvalid lock files \(they claim and lease nothing until fixed\):\n {2}current_tasks\/bad\.txt:3: .*"file".*; fix: .*\n {2}current_tasks\/worse\.json: "ttl" must be whole seconds from 60 to 604800, got 5; fix: set "ttl": 7200\n/);
    const json = JSON.parse(cli(['status', '--json'], { cwd: clones['agent-2']! }).stdout);
    expect(json.claims.map((c: { task: string }) => c.task)).toEqual(['good']);
    expect(json.invalid).toEqual([
      { path: 'current_tasks/bad.txt', line: 3, problem: expect.stringContaining('"file"'), fix: expect.any(String) },
      { path: 'current_tasks/worse.json', line: null, problem: '"ttl" must be whole seconds from 60 to 604800, got 5', fix: 'set "ttl": 7200' },
    ]);
    const one = cli(['status', 'bad'], { cwd: clones['agent-2']! });
    expect(one).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^ERROR: current_tasks\/bad\.txt:3: .*\nERROR: bad: no valid claim of this task on refs\/remotes\/origin\/main\n$/) });
  });
});

describe('claude install --local', () => {
  it('writes .claude/settings.local.json and leaves the shared settings.json alone', () => {
    const { clones } = sharedRepo(['agent-1']);
    const a = clones['agent-1']!;
    mkdirSync(join(a, '.claude'));
    const r = cli(['claude', 'install', '--local'], { cwd: a });
    expect(r).toMatchObject({ exitCode: 0, stdout: `wrote the PreToolUse, SessionStart and UserPromptSubmit hooks into ${join(a, '.claude', 'settings.local.json')}\nregistered the MCP server agent-hooks in ${join(a, '.mcp.json')}\n` });
    expect(existsSync(join(a, '.claude', 'settings.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(a, '.claude', 'settings.local.json'), 'utf8')).hooks.PreToolUse[0].hooks[0].command).toMatch(/claude-pre-tool-use\.mjs'$/);
  });
});
