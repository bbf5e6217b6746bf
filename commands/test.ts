// `agent-hooks test --fast [--agent ID] [--all]`: the pusher's sample, run locally exactly as
// pre-receive would choose it, on the working tree.
import { spawnSync } from 'node:child_process';
import { formatSelection, selectionJson } from '../core/selection.js';
import { testArgv } from '../core/sampling.js';
import { gitText, readChangedPaths } from '../git/git.js';
import { decideSandbox, probeSandbox, readSandboxMode, runIsolated, testEnvironment } from '../server/sandbox.js';
import { statePaths } from '../server/state.js';
import { readTestSelection } from '../server/test-evidence.js';
import { readClaimsState, type AgentRepo } from './agent-repo.js';
import { EXIT, type CommandResult } from '../core/result.js';

/** How `test` runs: every file (`all`), and whether it only lists the selection (`list`, as JSON with `json`). */
export interface TestFastOptions {
  /** Return the output (its last 8 KiB) instead of writing it: the MCP server's stdout is the protocol. */
  capture?: boolean;
  all?: boolean;
  list?: boolean;
  json?: boolean;
}

/**
 * Selects like pre-receive: HEAD's tree, the paths changed by commits not yet on the claims
 * branch, the claims branch's recent history, seeded with the agent id (imports parsed once per
 * file version, cached in `<git-common-dir>/agent-hooks/`); `all` runs every test file. With
 * `list`, prints the selection with each file's reasons (`--json`: `{"seed","total","files":
 * [{"path","reasons"}]}`) and runs nothing. Otherwise runs `test.command` in the repository's top
 * level with the hook's clean environment, output straight to the terminal; exit 1 when tests fail.
 * Not sandboxed unless the clone sets `git config agenthooks.testSandbox auto|required` (the
 * local default is `off`: an agent runs code it already has); then it runs in the same bwrap
 * sandbox as pre-receive (the work tree, its .git included, is the only writable place; no
 * network unless `test.network`).
 */
export async function testFast(repo: AgentRepo, agent: string | undefined, options: TestFastOptions = {}): Promise<CommandResult & { output?: string }> {
  const { all = false } = options;
  const seed = agent ?? repo.agent.id;
  if (!seed) return { exitCode: EXIT.usage, lines: ['ERROR: no agent id to seed the sample; fix: --agent <id>, or export AGENT_ID=<id>'] };
  const state = readClaimsState(repo, repo.openedAt, Date.now());
  const test = state.policy.test;
  if (!test) return { exitCode: EXIT.failed, lines: [`ERROR: no "test" section in agent-hooks.json on ${state.refName}; fix: add test.command and test.files`] };
  const top = gitText(['rev-parse', '--show-toplevel'], repo.git);
  const commonDir = gitText(['rev-parse', '--path-format=absolute', '--git-common-dir'], repo.git);
  const changed = [...readChangedPaths('HEAD', repo.openedAt ? [repo.openedAt] : [], repo.git).keys()];
  const { selection: picked, notes } = await readTestSelection({
    git: repo.git,
    treeish: 'HEAD',
    ...(repo.openedAt ? { claimsTip: repo.openedAt } : {}),
    changed,
    policy: test,
    seed,
    stateDir: statePaths(commonDir).home,
    all,
  });
  if (options.list) {
    if (options.json) return { exitCode: EXIT.ok, lines: [JSON.stringify(selectionJson(picked))] };
    return { exitCode: EXIT.ok, lines: [...notes, ...(picked.files.length === 0 ? [`no test files match ${test.files.join(', ')}`] : formatSelection(picked))] };
  }
  const selection = { files: picked.files.map((f) => f.path), total: picked.total };
  if (selection.files.length === 0) return { exitCode: EXIT.ok, lines: [`no test files match ${test.files.join(', ')}`] };
  if (!options.capture) for (const note of notes) process.stdout.write(`${note}\n`);
  const header = `Tests: running ${selection.files.length} of ${selection.total} files (${all ? 'all' : `${picked.changed + picked.affected} affected, ${picked.sampled} sampled, seed ${seed}`}): ${selection.files.join(' ')}`;
  if (!options.capture) process.stdout.write(`${header}\n`);
  const argv = testArgv(test.command, selection.files);
  // capture: the output is returned (the MCP server's stdout is the protocol), its last 8 KiB kept.
  const captured: string[] = [];
  const output = () => (options.capture ? { output: `${header}\n${captured.join('').slice(-8192)}` } : {});
  const chosen = readSandboxMode(repo.git, 'off');
  if ('problem' in chosen) return { exitCode: EXIT.usage, lines: [`ERROR: ${chosen.problem}; fix: git config agenthooks.testSandbox off`] };
  const sandbox = decideSandbox(chosen.mode, () => probeSandbox());
  if ('refused' in sandbox) return { exitCode: EXIT.failed, lines: [`ERROR: test --fast: ${sandbox.refused}`] };
  const warnings = 'warning' in sandbox && sandbox.warning ? [`WARNING: test --fast: ${sandbox.warning}`] : [];
  if (sandbox.sandbox) {
    const r = await runIsolated({
      workDir: top,
      argv,
      env: testEnvironment(process.env),
      timeoutMs: test.timeout * 1000,
      network: test.network ?? false,
      bwrap: sandbox.bwrap,
      onOutput: (chunk, stream) => (options.capture ? captured.push(chunk.toString()) : (stream === 'stdout' ? process.stdout : process.stderr).write(chunk)),
    });
    if (r.exitCode === 0) return { exitCode: EXIT.ok, lines: [`Tests: ${selection.files.length}/${selection.files.length} files passed (sandboxed)`], ...output() };
    return { exitCode: EXIT.failed, lines: [`ERROR: tests ${r.timedOut ? `timed out after ${r.seconds} s` : `failed (${r.signal ? `signal ${r.signal}` : `exit code ${r.exitCode}`})`} in the sandbox; the server would reject this push`], ...output() };
  }
  const run = spawnSync(argv[0]!, argv.slice(1), { cwd: top, env: testEnvironment(process.env), stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', maxBuffer: 64 << 20, timeout: test.timeout * 1000, killSignal: 'SIGKILL' });
  if (options.capture) captured.push(`${run.stdout ?? ''}${run.stderr ?? ''}`);
  if (run.error) return { exitCode: EXIT.failed, lines: [...warnings, `ERROR: cannot run ${argv[0]}: ${run.error.message}`], ...output() };
  return run.status === 0
    ? { exitCode: EXIT.ok, lines: [...warnings, `Tests: ${selection.files.length}/${selection.files.length} files passed`], ...output() }
    : { exitCode: EXIT.failed, lines: [...warnings, `ERROR: tests failed (exit code ${run.status ?? run.signal}); the server would reject this push`], ...output() };
}
