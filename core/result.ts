// What every agent command returns to its front end (the CLI, later MCP and the dashboard).

/** Exit codes (DESIGN.md "Command line"). */
export const EXIT = { ok: 0, failed: 1, usage: 2, held: 3 } as const;

/** What a command prints (stdout for results, stderr for `ERROR:`/`WARNING:` lines) and its exit code. */
export interface CommandResult {
  exitCode: number;
  lines: string[];
}
