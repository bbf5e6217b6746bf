// Entry point of the Claude Code PreToolUse hook: its own small bundle (no yargs, no undici),
// because it runs before every edit.
import { readFileSync } from 'node:fs';
import { preToolUse } from './claude.js';

let stdin = '';
try {
  stdin = readFileSync(0, 'utf8');
} catch {
  // no stdin: preToolUse allows with a warning
}
const answer = preToolUse(stdin, process.env, Date.now());
if (answer.stdout) process.stdout.write(answer.stdout);
if (answer.stderr) process.stderr.write(answer.stderr);
process.exitCode = answer.exitCode;
