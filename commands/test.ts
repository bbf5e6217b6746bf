// `agent-hooks test --fast [--agent ID] [--all]`: the pusher's sample, run locally exactly as
// pre-receive would choose it, on the working tree.
import { spawnSync } from 'node:child_process';
import { selectTests, testArgv } from '../core/sampling.js';
import { gitText, listPaths, readChangedPaths } from '../git/git.js';
import { testEnvironment } from '../server/run-tests.js';
import { readClaimsState, type AgentRepo } from './agent-repo.js';
import { EXIT, type CommandResult } from '../core/result.js';

/**
 * Selects like pre-receive: the test files of HEAD's tree, seeded with the agent id, plus the
 * test files changed by commits not yet on the claims branch, plus `test.always`; `all` runs every
 * test file. Runs `test.command` in the repository's top level with the hook's clean environment,
 * output straight to the terminal. Exit 1 when the tests fail.
 */
export function testFast(repo: AgentRepo, agent: string | undefined, all: boolean, options: { capture?: boolean } = {}): CommandResult & { output?: string } {
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
  if (!options.capture) process.stdout.write(`${header}\n`);
  const argv = testArgv(test.command, selection.files);
  // capture: the output is returned (the MCP server's stdout is the protocol), its last 8 KiB kept.
  const run = spawnSync(argv[0]!, argv.slice(1), { cwd: top, env: testEnvironment(process.env), stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', maxBuffer: 64 << 20, timeout: test.timeout * 1000, killSignal: 'SIGKILL' });
  const output = options.capture ? { output: `${header}\n${`${run.stdout ?? ''}${run.stderr ?? ''}`.slice(-8192)}` } : {};
  if (run.error) return { exitCode: EXIT.failed, lines: [`ERROR: cannot run ${argv[0]}: ${run.error.message}`], ...output };
  return run.status === 0 ? { exitCode: EXIT.ok, lines: [`Tests: ${selection.files.length}/${selection.files.length} files passed`], ...output } : { exitCode: EXIT.failed, lines: [`ERROR: tests failed (exit code ${run.status ?? run.signal}); the server would reject this push`], ...output };
}
