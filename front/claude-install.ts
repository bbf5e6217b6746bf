// `agent-hooks claude install` and `agent-hooks codex install`: copy the adapter's code where the
// npx cache cannot take it away, merge its hooks into the agent tool's settings, and register the
// MCP server (.mcp.json for Claude Code, .codex/config.toml for Codex).
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION } from '../core/version.js';
import { cleanGitEnv, gitText } from '../git/git.js';
import { shellQuote } from '../installer/files.js';
import type { CommandResult } from '../core/result.js';
import { installClaudeHooks, installMcpJson, type McpServerCommand } from './claude.js';
import { installCodexConfig } from './codex.js';

/** The adapter's files, copied per version into `<git-common-dir>/agent-hooks-claude/<version>/`. */
const ADAPTER_FILES = ['claude-pre-tool-use.mjs', 'cli.mjs', 'mcp.mjs'];

/** The project directory, and the adapter's files copied under its git-common-dir. */
function copyAdapter(dir: string | undefined, distDir: string): { project: string; home: string } {
  const env = cleanGitEnv();
  const project = dir ?? gitText(['rev-parse', '--show-toplevel'], { env });
  const commonDir = gitText(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: project, env });
  const home = join(commonDir, 'agent-hooks-claude', VERSION);
  mkdirSync(home, { recursive: true });
  for (const file of ADAPTER_FILES) copyFileSync(join(distDir, file), join(home, file));
  return { project, home };
}

/** The hook commands and the MCP server command, with the absolute path of this node (machine-local). */
function commandsOf(home: string): { preToolUse: string; sessionStart: string; userPromptSubmit: string; mcp: McpServerCommand } {
  const node = shellQuote(process.execPath);
  const cli = shellQuote(join(home, 'cli.mjs'));
  return {
    preToolUse: `${node} ${shellQuote(join(home, 'claude-pre-tool-use.mjs'))}`,
    sessionStart: `${node} ${cli} claude session-start`,
    userPromptSubmit: `${node} ${cli} claude user-prompt-submit`,
    // mcp.mjs serves when run directly: the same server as `agent-hooks mcp`, without loading yargs.
    mcp: { command: process.execPath, args: [join(home, 'mcp.mjs')] },
  };
}

/**
 * Copies `claude-pre-tool-use.mjs`, `cli.mjs` and `mcp.mjs` from `distDir` to
 * `<git-common-dir>/agent-hooks-claude/<version>/`, points the hooks of
 * `<dir>/.claude/settings.json` at them with the absolute path of this node, and registers the
 * MCP server in `<dir>/.mcp.json`. The paths are machine-local: run it on each machine, or with
 * `local` write `.claude/settings.local.json` (Claude Code's per-machine file, not committed)
 * instead of the shared `settings.json`.
 */
export function claudeInstall(dir: string | undefined, distDir: string, local = false): CommandResult {
  const { project, home } = copyAdapter(dir, distDir);
  const commands = commandsOf(home);
  const { path, changed } = installClaudeHooks(project, local ? 'settings.local.json' : 'settings.json', commands);
  const mcp = installMcpJson(project, commands.mcp);
  return {
    exitCode: 0,
    lines: [
      changed ? `wrote the PreToolUse, SessionStart and UserPromptSubmit hooks into ${path}` : `${path} already has the agent-hooks hooks; nothing changed`,
      mcp.changed ? `registered the MCP server agent-hooks in ${mcp.path}` : `${mcp.path} already has the agent-hooks MCP server; nothing changed`,
    ],
  };
}

/**
 * `codex install`: the same copy, then `<dir>/.codex/config.toml` gets `[mcp_servers.agent-hooks]`
 * and the PreToolUse (deny edits to leased paths, `apply_patch` included), SessionStart and
 * UserPromptSubmit hooks; everything else in the file is kept.
 */
export function codexInstall(dir: string | undefined, distDir: string): CommandResult {
  const { project, home } = copyAdapter(dir, distDir);
  const { path, changed } = installCodexConfig(project, commandsOf(home));
  return { exitCode: 0, lines: [changed ? `wrote the MCP server agent-hooks and the PreToolUse, SessionStart and UserPromptSubmit hooks into ${path}` : `${path} already has the agent-hooks MCP server and hooks; nothing changed`] };
}
