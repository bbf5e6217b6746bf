// `agent-hooks doctor <repo>`: checks an installation and proves it with a synthetic push.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POLICY_FILE } from '../core/policy.js';
import { cleanGitEnv, type GitOptions, gitText, readConfig, readRef, runGit } from '../git/git.js';
import { CLIENT_HOOKS, installLayout, layoutBaseDir, SERVER_HOOKS } from '../server/layout.js';
import { detectPlatform, PLATFORM_NAMES } from './install.js';
import { findInstallation } from './manifest.js';
import { readClaimsView } from '../git/read-commit.js';
import { spoolHealth } from '../server/deliver.js';
import { spoolDir, spoolProblem, unspooledCount, unspooledDir } from '../server/spool.js';
import { readServerConfig } from '../server/read-push.js';
import { readPolicyAt } from '../git/read-policy.js';
import { isExecutable, lexists, readIfExists } from './files.js';
import { readRepo } from '../git/repo.js';
import { parseStub } from './stub.js';
import { decideSandbox, probeSandbox, readSandboxMode } from '../server/sandbox.js';
import { LANDER, listEntries } from '../server/lander.js';
import { lockHolder } from '../server/pid-lock.js';
import { CHECKER, checkerSocket } from '../server/checker.js';
import { spawnSync } from 'node:child_process';
import { statePaths } from '../server/state.js';

/** One finding: `ok` lines say what was checked, `error` lines what is broken and how to fix it; a `warning` is ok but risky. */
export interface Finding {
  ok: boolean;
  warning?: boolean;
  text: string;
}

/** The line pre-receive prints for a synthetic push (see hooks/pre-receive.ts). */
const DOCTOR_ANSWER = /agent-hooks doctor: pre-receive (\S+) judged the synthetic push/;

/**
 * Checks an installation: stubs present, executable and ours; their node exists; their version
 * matches `version` and the code is there; the policy file on the claims ref valid. In a bare
 * repo also: push options advertised, and a commit pushed to `refs/agent-hooks/doctor/<n>` from
 * a temporary repository, which pre-receive must answer (and refuse, so nothing lands). In a
 * clone or worktree the policy is read from its local view of the claims branch.
 * @throws RepoError when the path is not a git repository.
 */
export function doctor(path: string, version: string): Finding[] {
  const repo = readRepo(path);
  const findings: Finding[] = [];
  const ok = (text: string) => findings.push({ ok: true, text });
  const fault = (text: string) => findings.push({ ok: false, text });
  const { kind } = findInstallation(repo.gitDir, repo.hooksDir);
  const reinstall = `agent-hooks install${kind === 'git' ? '' : ` --layout ${kind}`} ${repo.path}`;
  const layout = installLayout(layoutBaseDir(kind, repo.gitDir, repo.hooksDir), version, kind);
  if (repo.bare) {
    const platform = detectPlatform(repo.gitDir, repo.hooksDir);
    if (platform && platform !== kind) fault(`${repo.path} looks like a ${PLATFORM_NAMES[platform]} repository, but agent-hooks is installed with the ${kind} layout; fix: agent-hooks uninstall ${repo.path} && agent-hooks install --layout ${platform} ${repo.path}`);
    else ok(`layout ${kind}: ${kind === 'git' ? `hooks in ${layout.hooksDir}` : kind === 'gitolite' ? `hooks in ${layout.home}/hooks/, run by gitolite's repo-specific hooks` : `one hook each in ${layout.hooksDir}/<hook>.d/, beside the platform's own`}`);
    if (kind === 'gitolite') {
      const names = readdirSync(repo.hooksDir);
      for (const hook of SERVER_HOOKS) {
        if (names.some((n) => n.startsWith(`${hook}.h`) && n.endsWith('-agent-hooks'))) ok(`gitolite runs agent-hooks for ${hook}`);
        else fault(`gitolite does not run agent-hooks for ${hook} yet (no ${repo.hooksDir}/${hook}.hNN-agent-hooks); fix: copy ${layout.gitoliteHook} to LOCAL_CODE/hooks/repo-specific/agent-hooks, add "option hook.${hook} = agent-hooks" for this repository to gitolite.conf and push gitolite-admin (docs/gitolite.md)`);
      }
    }
  }
  for (const hook of repo.bare ? SERVER_HOOKS : CLIENT_HOOKS) {
    const stubPath = layout.stub(hook);
    const text = readIfExists(stubPath)?.toString('utf8');
    const stub = text === undefined ? undefined : parseStub(text);
    if (text === undefined) fault(`${stubPath}: missing; fix: ${reinstall}`);
    else if (!stub) fault(`${stubPath}: not an agent-hooks stub (another tool replaced it); fix: ${reinstall} (it keeps and chains that hook)`);
    else {
      const problems: string[] = [];
      if (!isExecutable(stubPath)) problems.push(`${stubPath}: not executable; fix: chmod +x ${stubPath}`);
      if (stub.version !== version) problems.push(`${stubPath}: version ${stub.version}, this agent-hooks is ${version}; fix: ${reinstall}`);
      if (!stub.nodePath || !isExecutable(stub.nodePath)) problems.push(`${stubPath}: node ${stub.nodePath ?? '(none)'} does not exist or is not executable; fix: ${reinstall}`);
      if (!stub.bundlePath || readIfExists(stub.bundlePath) === undefined) problems.push(`${stubPath}: hook code ${stub.bundlePath ?? '(none)'} is missing; fix: ${reinstall}`);
      for (const p of problems) fault(p);
      if (problems.length === 0) ok(`${hook}: agent-hooks ${stub.version}, node ${stub.nodePath}`);
      if (hook === 'pre-receive' && text!.includes(checkerSocket(stub.version))) {
        const checker = lockHolder(statePaths(repo.gitDir).workerLock(CHECKER));
        const perl = spawnSync('perl', ['-e', '0']).status === 0;
        if (!perl) fault(`${hook}: installed with --resident, but there is no perl on PATH, so every push starts node; fix: apt-get install perl-base, or ${reinstall} (without --resident)`);
        else ok(`${hook}: resident checker ${checker ? `running (pid ${checker})` : 'not running (the next push starts it)'}; log ${statePaths(repo.gitDir).workerLog(CHECKER)}`);
      }
    }
    const chained = layout.chained(hook);
    if (lexists(chained) && !isExecutable(chained)) fault(`${chained}: the ${hook} hook from before agent-hooks cannot run (not executable, or a link to nothing), so every ${hook} fails (fail closed); fix: ls -l ${chained}: make it executable (chmod +x) or fix its link, or remove it`);
    else if (lexists(chained)) ok(`${hook}: runs the earlier hook ${chained} first`);
  }

  const gitOptions = { cwd: repo.bare ? repo.gitDir : repo.path, env: cleanGitEnv() };
  if (!repo.bare) {
    const view = readClaimsView(readConfig('^agenthooks\\.claimsref$', gitOptions).get('agenthooks.claimsref')?.at(-1), gitOptions);
    if (view.oid) checkPolicy(view.ref!, view.oid, gitOptions, ok, fault);
    else ok(`no local view of the claims branch ${view.branch} yet (git fetch brings it)`);
    return findings;
  }
  const advertised = gitText(['config', '--type=bool', '--get', 'receive.advertisePushOptions'], { ...gitOptions, okExitCodes: [0, 1] });
  if (advertised === 'true') ok('receive.advertisePushOptions is true');
  else fault(`receive.advertisePushOptions is not true, so -o agent=<id> is refused; fix: git -C ${repo.path} config receive.advertisePushOptions true`);

  const config = readServerConfig(gitOptions);
  const tip = readRef(config.claimsRef, gitOptions);
  if (tip) checkPolicy(config.claimsRef, tip, gitOptions, ok, fault);
  else ok(`claims ref ${config.claimsRef} does not exist yet (the first push creates it)`);

  checkSandbox(repo.path, gitOptions, findings);
  const spool = spoolHealth(repo.gitDir, Date.now());
  if (spool.pending > 20 || (spool.pending > 0 && spool.oldestMs > 10 * 60_000)) {
    fault(`the notification spool holds ${spool.pending} messages, the oldest ${Math.round(spool.oldestMs / 60_000)} min old: is Slack reachable? fix: agent-hooks notify --test ${repo.path}, then agent-hooks notify --flush ${repo.path}`);
  } else ok(`notification spool: ${spool.pending} pending`);
  const unwritable = spoolProblem(repo.gitDir);
  if (unwritable) fault(`the notification spool ${spoolDir(repo.gitDir)} cannot be written (${unwritable}): pushes land, but their notifications wait in ${unspooledDir(repo.gitDir)}; fix: free the disk or fix the directory's permissions`);
  const unspooled = unspooledCount(repo.gitDir);
  if (unspooled > 0) fault(`${unspooled} notifications could not be spooled when their push landed; fix: once the spool can be written, agent-hooks notify --flush ${repo.path}`);
  if (spool.setAside > 0) fault(`${spool.setAside} notifications were refused by Slack and set aside; fix: read the .reason files in ${repo.gitDir}/agent-hooks/spool/failed`);
  const queued = listEntries(gitOptions);
  const lander = lockHolder(statePaths(repo.gitDir).workerLock(LANDER));
  if (queued.length > 0 && lander === undefined) {
    fault(`the landing queue holds ${queued.length} entr${queued.length === 1 ? 'y' : 'ies'} (the oldest ${queued[0]!.refName}) but no lander is running; fix: agent-hooks lander ${repo.path} (the next push starts one too; see ${statePaths(repo.gitDir).workerLog(LANDER)})`);
  } else ok(`landing queue: ${queued.length} entr${queued.length === 1 ? 'y' : 'ies'}${lander ? `, lander running (pid ${lander})` : ''}`);
  if (findings.every((f) => f.ok)) syntheticPush(repo.path, findings);
  return findings;
}

/** The test sandbox (server/sandbox.ts): the mode in git config and whether bwrap can run here. */
function checkSandbox(repoPath: string, git: GitOptions, findings: Finding[]): void {
  const value = readConfig('^agenthooks\\.testsandbox$', git).get('agenthooks.testsandbox')?.at(-1);
  const chosen = readSandboxMode(git);
  if ('problem' in chosen) {
    findings.push({ ok: false, text: `${chosen.problem}, so every tested push is refused; fix: git -C ${repoPath} config agenthooks.testSandbox auto` });
    return;
  }
  const decision = decideSandbox(chosen.mode, () => probeSandbox());
  const mode = `agenthooks.testSandbox ${chosen.mode}${value === undefined ? ' (default)' : ''}`;
  if (decision.sandbox) findings.push({ ok: true, text: `test sandbox: ${decision.bwrap} runs here (${mode}): setup and tests cannot see this repository, its config or other processes; no network for tests unless test.network` });
  else if ('refused' in decision) findings.push({ ok: false, text: `test sandbox: every tested push is refused: ${decision.refused}` });
  else if (decision.warning) findings.push({ ok: true, warning: true, text: `test sandbox: ${mode}, but ${decision.warning.replace(/^tests ran/, 'tests run')}` });
  else findings.push({ ok: true, warning: true, text: `test sandbox: off (${mode}): pushed tests run unsandboxed and can read this server's files and processes; fix: apt-get install bubblewrap && git -C ${repoPath} config agenthooks.testSandbox auto` });
}

function checkPolicy(ref: string, tip: string, git: GitOptions, ok: (text: string) => void, fault: (text: string) => void): void {
  const { problems, text } = readPolicyAt(tip, git);
  for (const problem of problems) fault(`${ref}: ${POLICY_FILE}: ${problem}; fix: push a corrected ${POLICY_FILE}`);
  if (problems.length === 0) ok(`policy: ${text === undefined ? `no ${POLICY_FILE}, defaults apply` : `${POLICY_FILE} is valid`} (claims ref ${ref})`);
}

function syntheticPush(repoPath: string, findings: Finding[]): void {
  const dir = mkdtempSync(join(tmpdir(), 'agent-hooks-doctor-'));
  try {
    const env = { ...cleanGitEnv(), GIT_AUTHOR_NAME: 'doctor', GIT_AUTHOR_EMAIL: 'doctor@agent-hooks', GIT_COMMITTER_NAME: 'doctor', GIT_COMMITTER_EMAIL: 'doctor@agent-hooks' };
    const objectFormat = gitText(['rev-parse', '--show-object-format'], { cwd: repoPath, env });
    runGit(['init', '--quiet', `--object-format=${objectFormat}`, dir], { env });
    const tree = gitText(['mktree'], { cwd: dir, env, input: '' });
    const commit = gitText(['commit-tree', tree, '-m', 'agent-hooks doctor: synthetic push'], { cwd: dir, env });
    const ref = `refs/agent-hooks/doctor/${process.pid}-${Date.now()}`;
    const push = runGit(['push', '-o', 'agent=doctor', repoPath, `${commit}:${ref}`], { cwd: dir, env, okExitCodes: [0, 1], timeoutMs: 120_000 });
    const output = push.stderr.toString('utf8');
    const answer = DOCTOR_ANSWER.exec(output);
    const hookErrors = output.split('\n').filter((l) => /^remote: ERROR: /.test(l)).map((l) => l.replace(/^remote: /, '').trimEnd());
    if (push.exitCode === 0) {
      runGit(['update-ref', '-d', ref], { cwd: repoPath, env });
      findings.push({ ok: false, text: `synthetic push to ${ref} was accepted: pre-receive did not run; fix: agent-hooks install ${repoPath}` });
    }
    else if (!answer) findings.push({ ok: false, text: `synthetic push got no answer from pre-receive: ${output.trim().split('\n').slice(-3).join(' | ')}` });
    else if (hookErrors.length > 0) for (const line of hookErrors) findings.push({ ok: false, text: `synthetic push: ${line}` });
    else findings.push({ ok: true, text: `synthetic push: pre-receive ${answer[1]} ran in quarantine and answered; nothing landed` });
  } catch (error) {
    findings.push({ ok: false, text: `synthetic push failed: ${(error as Error).message}` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
