// `agent-hooks test --fast [--agent ID] [--all]`: the pusher's sample, run locally exactly as
// pre-receive would choose it, on the working tree.
import { spawnSync } from 'node:child_process';
import { selectTests, testArgv } from '../core/sampling.js';
import { gitText, listPaths, readChangedPaths } from '../git/git.js';
import { decideSandbox, probeSandbox, readSandboxMode, runIsolated, testEnvironment } from '../server/sandbox.js';
import { readClaimsState, type AgentRepo } from './agent-repo.js';
import { EXIT, type CommandResult } from '../core/result.js';

/**
 * Selects like pre-receive: the test files of HEAD's tree, seeded with the agent id, plus the
 * test files changed by commits not yet on the claims branch, plus `test.always`; `all` runs every
 * test file. Runs `test.command` in the repository's top level with the hook's clean environment,
 * output straight to the terminal. Exit 1 when the tests fail.
 * Not sandboxed unless the clone sets `git config agenthooks.testSandbox auto|required` (the
 * local default is `off`: an agent runs code it already has); then it runs in the same bwrap
 * sandbox as pre-receive (the work tree, its .git included, is the only writable place; no
 * network unless `test.network`).
 */
export async function testFast(repo: AgentRepo, agent: string | undefined, all: boolean): Promise<CommandResult> {
  const seed = agent ?? repo.agent.id;
  if (!seed) return { exitCode: EXIT.usage, lines: ['ERROR: no agent id to seed the sample; fix: --agent <id>, or export AGENT_ID=<id>'] };
  const state = readClaimsState(repo, repo.openedAt, Date.now());
  const test = state.policy.test;
  if (!test) return { exitCode: EXIT.failed, lines: [`ERROR: no "test" section in agent-hooks.json on ${state.refName}; fix: add test.command and test.files`] };
  const top = gitText(['rev-parse', '--show-toplevel'], repo.git);
  const changed = [...readChangedPaths('HEAD', repo.openedAt ? [repo.openedAt] : [], repo.git).keys()];
  const selection = selectTests(listPaths('HEAD', repo.git), test, seed, changed, all);
  if (selection.files.length === 0) return { exitCode: EXIT.ok, lines: [`no test files match ${test.files.join(', ')}`] };
  const header = `Tests: running ${selection.files.length} of ${selection.total} files (${all ? 'all' : `sample ${Math.round(test.sample * 100)}%, seed ${seed}`}): ${selection.files.join(' ')}`;
  process.stdout.write(`${header}\n`);
  const argv = testArgv(test.command, selection.files);
  const chosen = readSandboxMode(repo.git, 'off');
  if ('problem' in chosen) return { exitCode: EXIT.usage, lines: [`ERROR: ${chosen.problem}; fix: git config agenthooks.testSandbox off`] };
  const sandbox = decideSandbox(chosen.mode, () => probeSandbox());
  if ('refused' in sandbox) return { exitCode: EXIT.failed, lines: [`ERROR: test --fast: ${sandbox.refused}`] };
  const warnings = 'warning' in sandbox && sandbox.warning ? [`WARNING: test --fast: ${sandbox.warning}`] : [];
  if (sandbox.sandbox) {
    const r = await runIsolated({ workDir: top, argv, env: testEnvironment(process.env), timeoutMs: test.timeout * 1000, network: test.network ?? false, bwrap: sandbox.bwrap, onOutput: (chunk, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk) });
    if (r.exitCode === 0) return { exitCode: EXIT.ok, lines: [`Tests: ${selection.files.length}/${selection.files.length} files passed (sandboxed)`] };
    return { exitCode: EXIT.failed, lines: [`ERROR: tests ${r.timedOut ? `timed out after ${r.seconds} s` : `failed (${r.signal ? `signal ${r.signal}` : `exit code ${r.exitCode}`})`} in the sandbox; the server would reject this push`] };
  }
  const run = spawnSync(argv[0]!, argv.slice(1), { cwd: top, env: testEnvironment(process.env), stdio: 'inherit', timeout: test.timeout * 1000, killSignal: 'SIGKILL' });
  if (run.error) return { exitCode: EXIT.failed, lines: [...warnings, `ERROR: cannot run ${argv[0]}: ${run.error.message}`] };
  return run.status === 0 ? { exitCode: EXIT.ok, lines: [...warnings, `Tests: ${selection.files.length}/${selection.files.length} files passed`] } : { exitCode: EXIT.failed, lines: [...warnings, `ERROR: tests failed (exit code ${run.status ?? run.signal}); the server would reject this push`] };
}
