// `agent-hooks demo`: a scripted story of three agents against a fresh bare repo, through real
// git pushes, printing what each agent sees.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTime } from '../core/text.js';
import { cleanGitEnv, type GitResult, runGit } from '../git/git.js';
import { runGitAsync } from '../git/git-async.js';
import { spawnSync } from 'node:child_process';

/** Where the demo prints, the CLI to install with, and whether to keep the temp dir. */
export interface DemoOptions {
  cliPath: string;
  keep: boolean;
  out: (line: string) => void;
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
  const show = (agent: string, command: string, result: GitResult) => {
    out(`[${agent}] $ ${command}`);
    for (const line of result.stderr.toString('utf8').split('\n')) if (line.trim()) out(`[${agent}]   ${line.trimEnd()}`);
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
    const installed = spawnSync(process.execPath, [cliPath, 'install', upstream], { encoding: 'utf8' });
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

    say('agent-1 and agent-2 race to claim task "parser" at the same moment');
    for (const agent of ['agent-1', 'agent-2']) {
      write(agent, 'current_tasks/parser.txt', lock(agent, `${agent} fixes the parser`, 'src/parser/**'));
      git(agent, 'add', '-A');
      git(agent, 'commit', '-q', '-m', 'claim parser');
    }
    const race = await Promise.all(['agent-1', 'agent-2'].map((agent) => runGitAsync(['push', '-o', `agent=${agent}`, 'origin', 'HEAD:main'], { cwd: clone(agent), env, okExitCodes: [0, 1, null] })));
    race.forEach((result, i) => show(`agent-${i + 1}`, 'git push -o agent=agent-' + (i + 1) + ' origin HEAD:main', result));
    if (race.filter((r) => r.exitCode === 0).length !== 1) {
      surprises++;
      out('!! expected exactly one claim to land');
    }
    const winner = race[0]!.exitCode === 0 ? 'agent-1' : 'agent-2';
    const loser = winner === 'agent-1' ? 'agent-2' : 'agent-1';

    say(`${loser} lost the race; it rebuilds its claim on the latest main and tries again`);
    git(loser, 'fetch', '--quiet', 'origin');
    git(loser, 'reset', '--quiet', '--hard', 'origin/main');
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

    say('agent-3 crashed three hours ago holding task "docs" (ttl 1 hour); its claim has expired');
    write('agent-3', 'current_tasks/docs.txt', lock('agent-3', 'agent-3 writes the docs', 'docs/**', Date.now() - 3 * 3600_000, 3600));
    result = commitAndPush('agent-3', 'claim docs');
    show('agent-3', 'git push -o agent=agent-3 origin HEAD:main', result);
    expect(result, true);

    say(`${loser} takes over the expired claim of "docs"`);
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
