// `agent-hooks demo`: a scripted story of three agents against a fresh bare repo, through real
// git pushes, printing what each agent sees.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTime } from '../core/text.js';
import { cleanGitEnv, type GitResult, runGit } from '../git/git.js';
import { spawn, spawnSync } from 'node:child_process';

/** Where the demo prints, the CLI to install with, and whether to keep the temp dir. */
export interface DemoOptions {
  cliPath: string;
  keep: boolean;
  out: (line: string) => void;
}

/** Runs the CLI in `cwd` without blocking, for the race. */
function runCli(cliPath: string, args: string[], cwd: string): Promise<{ exitCode: number | null; stdout: Buffer; stderr: Buffer }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: cleanGitEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => stdout.push(d));
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.on('close', (code) => done({ exitCode: code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) }));
  });
}

/**
 * Plays the story and returns an exit code: 0 when every step ended as the story expects
 * (the right pushes accepted, the right ones rejected), 1 otherwise.
 */
export async function runDemo({ cliPath, keep, out }: DemoOptions): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'agent-hooks-demo-'));
  const upstream = join(root, 'upstream.git');
  const env = cleanGitEnv();
  let surprises = 0;
  const say = (text: string) => out(`\n== ${text}`);
  const show = (agent: string, command: string, result: Pick<GitResult, 'exitCode' | 'stderr'> & { stdout?: Buffer }) => {
    out(`[${agent}] $ ${command}`);
    for (const line of `${result.stdout?.toString('utf8') ?? ''}\n${result.stderr.toString('utf8')}`.split('\n')) if (line.trim()) out(`[${agent}]   ${line.trimEnd()}`);
    out(`[${agent}]   -> ${result.exitCode === 0 ? 'accepted' : 'rejected'}`);
  };
  const expect = (result: GitResult, accepted: boolean) => {
    if ((result.exitCode === 0) !== accepted) {
      surprises++;
      out(`!! expected this push to be ${accepted ? 'accepted' : 'rejected'}`);
    }
  };
  const clone = (agent: string) => join(root, agent);
  const git = (agent: string, ...args: string[]) => runGit(args, { cwd: clone(agent), env, okExitCodes: [0, 1, 128] });
  const write = (agent: string, path: string, text: string) => {
    mkdirSync(join(clone(agent), path, '..'), { recursive: true });
    writeFileSync(join(clone(agent), path), text);
  };
  const commitAndPush = (agent: string, message: string) => {
    git(agent, 'add', '-A');
    git(agent, 'commit', '-q', '-m', message);
    return git(agent, 'push', '-o', `agent=${agent}`, 'origin', 'HEAD:main');
  };
  const lock = (agent: string, description: string, files: string, started = Date.now(), ttl?: number) =>
    `agent: ${agent}\nstarted: ${formatTime(started)}\ndescription: ${description}\nfiles: ${files}\n${ttl ? `ttl: ${ttl}\n` : ''}`;

  try {
    out(`agent-hooks demo in ${root}`);
    say('install into a new bare repo');
    const installed = spawnSync(process.execPath, [cliPath, 'install', '--create', upstream], { encoding: 'utf8' });
    out(installed.stdout.trimEnd());
    if (installed.status !== 0) throw new Error(`install failed: ${installed.stderr}`);

    for (const agent of ['agent-1', 'agent-2', 'agent-3']) {
      runGit(['clone', '--quiet', upstream, clone(agent)], { env });
      git(agent, 'config', 'user.name', agent);
      git(agent, 'config', 'user.email', `${agent}@example.com`);
      git(agent, 'config', 'commit.gpgSign', 'false');
    }
    write('agent-1', 'README.md', '# a shared project\n');
    write('agent-1', 'current_tasks/.gitkeep', '');
    expect(commitAndPush('agent-1', 'start the project'), true);
    for (const agent of ['agent-2', 'agent-3']) git(agent, 'pull', '--quiet', 'origin', 'main');

    // Set up before the story: a claim that expired long ago, for the last step.
    write('agent-3', 'current_tasks/docs.txt', lock('agent-3', 'agent-3 writes the docs', 'docs/**', Date.now() - 3 * 3600_000, 3600));
    expect(commitAndPush('agent-3', 'claim docs'), true);
    out('(set up: three hours ago an earlier run of agent-3 claimed task "docs" for one hour, then crashed without releasing it)');

    say('agent-1 and agent-2 race to claim task "parser" at the same moment (agent-hooks claim)');
    const claimArgs = ['claim', 'parser', '--files', 'src/parser/**'];
    const race = await Promise.all(['agent-1', 'agent-2'].map((agent) => runCli(cliPath, claimArgs, clone(agent))));
    race.forEach((result, i) => show(`agent-${i + 1}`, `agent-hooks ${claimArgs.join(' ')}`, result));
    if (race.filter((r) => r.exitCode === 0).length !== 1 || race.filter((r) => r.exitCode === 3).length !== 1) {
      surprises++;
      out('!! expected exactly one claim to land, and the other to exit 3');
    }
    const winner = race[0]!.exitCode === 0 ? 'agent-1' : 'agent-2';
    const loser = winner === 'agent-1' ? 'agent-2' : 'agent-1';
    for (const agent of ['agent-1', 'agent-2', 'agent-3']) {
      git(agent, 'fetch', '--quiet', 'origin');
      git(agent, 'reset', '--quiet', '--hard', 'origin/main');
    }

    say(`${loser} tries anyway with plain git: it writes the lock file and pushes`);
    write(loser, 'current_tasks/parser.txt', lock(loser, `${loser} fixes the parser`, 'src/parser/**'));
    let result = commitAndPush(loser, 'claim parser');
    show(loser, `git push -o agent=${loser} origin HEAD:main`, result);
    expect(result, false);
    git(loser, 'reset', '--quiet', '--hard', 'origin/main');

    say(`agent-3 tries to delete ${winner}'s claim`);
    git('agent-3', 'pull', '--quiet', 'origin', 'main');
    git('agent-3', 'rm', '-q', 'current_tasks/parser.txt');
    result = commitAndPush('agent-3', 'drop parser claim');
    show('agent-3', 'git push -o agent=agent-3 origin HEAD:main', result);
    expect(result, false);
    git('agent-3', 'reset', '--quiet', '--hard', 'origin/main');

    say(`agent-3 edits src/parser/main.ts on its own branch: ${winner} has leased src/parser/**`);
    write('agent-3', 'src/parser/main.ts', 'export const parse = () => 42;\n');
    git('agent-3', 'add', '-A');
    git('agent-3', 'commit', '-q', '-m', 'quick fix in the parser');
    result = git('agent-3', 'push', '-o', 'agent=agent-3', 'origin', 'HEAD:refs/heads/agent-3/quick-fix');
    show('agent-3', 'git push -o agent=agent-3 origin HEAD:refs/heads/agent-3/quick-fix', result);
    expect(result, false);
    git('agent-3', 'reset', '--quiet', '--hard', 'origin/main');

    say(`${loser} writes a malformed lock file for task "lexer"`);
    write(loser, 'current_tasks/lexer.txt', `agent: ${loser}\nstarted: yesterday\nfile: src/lexer/**\n`);
    result = commitAndPush(loser, 'claim lexer');
    show(loser, `git push -o agent=${loser} origin HEAD:main`, result);
    expect(result, false);
    git(loser, 'reset', '--quiet', '--hard', 'origin/main');

    say(`${loser} takes over task "docs": agent-3's claim expired two hours ago`);
    git(loser, 'pull', '--quiet', 'origin', 'main');
    write(loser, 'current_tasks/docs.txt', lock(loser, `${loser} finishes the docs`, 'docs/**'));
    result = commitAndPush(loser, 'take over docs');
    show(loser, `git push -o agent=${loser} origin HEAD:main`, result);
    expect(result, true);

    out(surprises === 0 ? '\nEvery push ended as expected.' : `\n${surprises} step(s) did not end as expected.`);
    return surprises === 0 ? 0 : 1;
  } finally {
    if (keep) out(`(kept ${root})`);
    else rmSync(root, { recursive: true, force: true });
  }
}
