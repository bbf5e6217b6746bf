// The Codex adapter's config: `.codex/config.toml` (Codex's project config, TOML) gets the MCP
// server (`[mcp_servers.agent-hooks]`) and hooks (`[[hooks.PreToolUse]]`...). Codex runs the same
// PreToolUse adapter as Claude Code: its edit tool `apply_patch` sends the patch in
// `tool_input.command`, from which front/claude.ts reads the paths.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify, type TomlPrimitive } from 'smol-toml';
import { EDIT_TOOLS, PATCH_TOOL, type McpServerCommand } from './claude.js';

/** The marker of our hook entries: their command mentions it. */
const MARKER = 'agent-hooks';

type Table = { [key: string]: TomlPrimitive };
interface HookEntry {
  matcher?: string;
  hooks: { type: string; command: string; timeout?: number }[];
}

const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/**
 * Merges the MCP server and the hooks into `<dir>/.codex/config.toml`: our earlier entries are
 * replaced, every other key, server and hook is kept (TOML comments are not: the file is
 * rewritten from its data). A second run changes nothing.
 * @throws Error when the file is not valid TOML, or `mcp_servers`/`hooks` are not tables.
 */
export function installCodexConfig(dir: string, commands: { preToolUse: string; sessionStart: string; userPromptSubmit: string; mcp: McpServerCommand }): { path: string; changed: boolean } {
  const path = join(dir, '.codex', 'config.toml');
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = undefined;
  }
  let config: Table;
  try {
    config = text === undefined ? {} : (parse(text) as Table);
  } catch (error) {
    throw new Error(`${path} is not valid TOML (${(error as Error).message.split('\n')[0]}); fix it by hand, then run again`);
  }
  const servers = (config.mcp_servers ??= {});
  const hooks = (config.hooks ??= {});
  if (!isTable(servers) || !isTable(hooks)) throw new Error(`${path}: mcp_servers and hooks must be tables; fix it by hand, then run again`);
  servers['agent-hooks'] = { command: commands.mcp.command, args: commands.mcp.args };
  const ours = (e: unknown) => isTable(e) && Array.isArray(e.hooks) && e.hooks.some((h) => isTable(h) && typeof h.command === 'string' && h.command.includes(MARKER));
  const put = (event: string, entry: HookEntry) => {
    const before = Array.isArray(hooks[event]) ? (hooks[event] as TomlPrimitive[]) : [];
    hooks[event] = [...before.filter((e) => !ours(e)), entry as unknown as Table];
  };
  put('PreToolUse', { matcher: [PATCH_TOOL, ...EDIT_TOOLS].join('|'), hooks: [{ type: 'command', command: commands.preToolUse, timeout: 10 }] });
  put('SessionStart', { hooks: [{ type: 'command', command: commands.sessionStart, timeout: 30 }] });
  put('UserPromptSubmit', { hooks: [{ type: 'command', command: commands.userPromptSubmit, timeout: 30 }] });
  const next = `${stringify(config)}\n`;
  if (text !== undefined && JSON.stringify(parse(text)) === JSON.stringify(parse(next))) return { path, changed: false };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.agent-hooks-tmp`, next);
  renameSync(`${path}.agent-hooks-tmp`, path);
  return { path, changed: true };
}
