// `agent-hooks claude install`: copies the adapter's code where the npx cache cannot take it away
// and merges its hooks into .claude/settings.json.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION } from '../core/version.js';
import { cleanGitEnv, gitText } from '../git/git.js';
import { shellQuote } from '../installer/files.js';
import type { CommandResult } from '../core/result.js';
import { installClaudeHooks } from './claude.js';

/**
 * Copies `claude-pre-tool-use.mjs` and `cli.mjs` from `distDir` to
 * `<git-common-dir>/agent-hooks-claude/<version>/` and points the hooks of
 * `<dir>/.claude/settings.json` at them with the absolute path of this node. The paths are
 * machine-local: run it on each machine, or with `local` write `.claude/settings.local.json`
 * (Claude Code's per-machine file, not committed) instead of the shared `settings.json`.
 */
export function claudeInstall(dir: string | undefined, distDir: string, local = false): CommandResult {
  const env = cleanGitEnv();
  const project = dir ?? gitText(['rev-parse', '--show-toplevel'], { env });
  const commonDir = gitText(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: project, env });
  const home = join(commonDir, 'agent-hooks-claude', VERSION);
  mkdirSync(home, { recursive: true });
  for (const file of ['claude-pre-tool-use.mjs', 'cli.mjs']) copyFileSync(join(distDir, file), join(home, file));
  const node = shellQuote(process.execPath);
  const { path, changed } = installClaudeHooks(project, local ? 'settings.local.json' : 'settings.json', {
    preToolUse: `${node} ${shellQuote(join(home, 'claude-pre-tool-use.mjs'))}`,
    sessionStart: `${node} ${shellQuote(join(home, 'cli.mjs'))} claude session-start`,
  });
  return { exitCode: 0, lines: [changed ? `wrote the PreToolUse and SessionStart hooks into ${path}` : `${path} already has the agent-hooks hooks; nothing changed`] };
}
